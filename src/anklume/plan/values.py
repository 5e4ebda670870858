"""Normalise declared values the way Incus stores them, and validate names.

Incus keeps every config and device value as a string; comparing declared
YAML values (booleans, integers) with live ones needs the same spelling.
Every name that reaches an incus command line is checked here first.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from anklume.errors import PlanError
from anklume.vocab import text

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]{0,62}")
_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:/-]*")
_IMAGE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:/+-]*")


def config(raw: Mapping[str, Any] | None, what: str) -> dict[str, str]:
    """Return a config mapping with checked keys and string values.

    >>> config({"limits.cpu": 2, "security.nesting": True}, "x")
    {'limits.cpu': '2', 'security.nesting': 'true'}
    >>> config({"-bad": 1}, "instance web")
    Traceback (most recent call last):
    ...
    anklume.errors.PlanError: instance web: invalid config key '-bad'
    """
    out: dict[str, str] = {}
    for key, value in (raw or {}).items():
        out[key_name(str(key), what)] = text(value)
    return out


def devices(raw: Mapping[str, Any] | None, what: str) -> dict[str, dict[str, str]]:
    """Return devices with checked names and string values; each needs a ``type``.

    >>> devices({"gpu": {"type": "gpu", "id": 0}}, "x")
    {'gpu': {'type': 'gpu', 'id': '0'}}
    """
    out: dict[str, dict[str, str]] = {}
    for dev, spec in (raw or {}).items():
        name = resource_name(str(dev), f"{what} device")
        values = config(spec if isinstance(spec, Mapping) else {}, f"{what} device {name}")
        if not values.get("type"):
            msg = f"{what}: device {name!r} has no type"
            raise PlanError(msg)
        out[name] = values
    return out


def resource_name(name: str, what: str) -> str:
    """Return ``name`` when Incus and a command line accept it.

    >>> resource_name("net-pro", "network")
    'net-pro'
    >>> resource_name("--force", "instance")
    Traceback (most recent call last):
    ...
    anklume.errors.PlanError: invalid instance name '--force'
    """
    if not _NAME.fullmatch(name):
        msg = f"invalid {what} name {name!r}"
        raise PlanError(msg)
    return name


def key_name(key: str, what: str) -> str:
    """Return a config key when it is safe as ``key=value`` on a command line."""
    if not _KEY.fullmatch(key):
        msg = f"{what}: invalid config key {key!r}"
        raise PlanError(msg)
    return key


def image_name(image: str, what: str) -> str:
    """Return an image reference (``alias`` or ``remote:alias``) when safe.

    >>> image_name("images:debian/13", "web")
    'images:debian/13'
    """
    if not _IMAGE.fullmatch(image):
        msg = f"{what}: invalid image {image!r}"
        raise PlanError(msg)
    return image
