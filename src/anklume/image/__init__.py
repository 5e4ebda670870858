"""The offline anklume base image: a Debian rootfs built with debootstrap."""

from __future__ import annotations

from anklume.image.builder import BuildResult, build
from anklume.image.spec import ImageSpec, default_alias

__all__ = ["BuildResult", "ImageSpec", "build", "default_alias"]
