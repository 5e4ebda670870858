"""Build the anklume base image and import it into Incus.

``build`` runs the steps in order, reports each through a ``progress``
callback (the CLI prints it) and cleans its work directory even on failure.
"""

from __future__ import annotations

import fcntl
import io
import os
import shutil
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import yaml

from anklume.errors import UsageError
from anklume.image import rootfs, store
from anklume.image.command import command
from anklume.image.spec import TEMPLATES, ImageSpec, incus_architecture, metadata

Progress = Callable[[str], None]

#: Downloaded .debs are kept here between builds (one folder per release).
CACHE_ROOT = Path("/var/cache/anklume/image")
#: Build directories are created here (on disk, not in a tmpfs).
WORK_ROOT = Path("/var/tmp")
#: Held during a build so that concurrent builds run one after another.
LOCK = Path("/run/lock/anklume-image-build.lock")
#: Host commands a build needs.
TOOLS = ("debootstrap", "chroot", "tar")


@dataclass(frozen=True)
class BuildResult:
    """What ``build`` did."""

    alias: str
    fingerprint: str
    skipped: bool = False
    replaced: str | None = None
    size: int = 0


def _silent(_: str) -> None:
    """Default progress callback: report nothing."""


def preflight(uid: int | None = None, which: Callable[[str], str | None] = shutil.which) -> None:
    """Raise UsageError unless this process is root and has the build tools.

    >>> preflight(uid=1000)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    anklume.errors.UsageError: anklume image build must run as root ...
    >>> preflight(uid=0, which=lambda name: None)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    anklume.errors.UsageError: missing debootstrap, chroot, tar: install them ...
    """
    if (os.geteuid() if uid is None else uid) != 0:
        msg = "anklume image build must run as root (debootstrap and chroot need it); try: sudo anklume image build"
        raise UsageError(msg)
    missing = [tool for tool in TOOLS if which(tool) is None]
    if missing:
        msg = f"missing {', '.join(missing)}: install them (apt-get install debootstrap) or run scripts/incus-setup.sh"
        raise UsageError(msg)


def _mounts_under(path: Path) -> list[str]:
    prefix = str(path.resolve()) + "/"
    with open("/proc/self/mounts", encoding="utf-8") as mounts:
        return [line.split()[1] for line in mounts if line.split()[1].startswith(prefix)]


def pack_meta(spec: ImageSpec, dest: Path, *, created: int | None = None) -> None:
    """Write the metadata tarball (metadata.yaml and templates/) to ``dest``."""
    meta = metadata(spec, architecture=incus_architecture(), created=created or int(time.time()))
    files = {"metadata.yaml": yaml.safe_dump(meta, sort_keys=False)}
    files.update({f"templates/{name}": text for name, text in TEMPLATES.items()})
    with tarfile.open(dest, "w:gz") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), int(time.time()), 0o644
            tar.addfile(info, io.BytesIO(data))


def _build_in(
    work: Path, spec: ImageSpec, previous: str | None, cache: Path | None, step: Callable[[int, str], None]
) -> tuple[str, int]:
    """Run the build steps in ``work``; return the fingerprint and size."""
    root = work / "rootfs"
    step(1, f"debootstrap {spec.release} (minbase) from {spec.mirror}")
    rootfs.bootstrap(spec, root, cache)
    step(2, "installing packages in the chroot (no recommends)")
    rootfs.install_packages(root, cache)
    step(3, "configuring networkd and cleaning apt caches")
    rootfs.configure(root)
    rootfs.clean(root)
    step(4, "packing metadata and rootfs tarballs")
    meta, tarball = work / "meta.tar.gz", work / "rootfs.tar.gz"
    pack_meta(spec, meta)
    command("pack rootfs", rootfs.pack_argv(root, tarball))
    step(5, f"{'replacing' if previous else 'importing'} {spec.alias} in Incus")
    fp = store.import_image(meta, tarball, spec.alias, previous)
    return fp, meta.stat().st_size + tarball.stat().st_size


def _remove_work(work: Path) -> None:
    """Remove the build directory, unless something is still mounted in it."""
    leftover = _mounts_under(work)
    if leftover:
        msg = f"mounts left under {work} ({', '.join(leftover)}); unmount them, then remove it"
        raise UsageError(msg)
    shutil.rmtree(work, ignore_errors=True)


def build(
    spec: ImageSpec,
    *,
    if_missing: bool = False,
    progress: Progress = _silent,
    cache: Path | None = CACHE_ROOT,
) -> BuildResult:
    """Build the image described by ``spec`` and import it under its alias.

    With ``if_missing`` an existing alias is kept and nothing is built (no
    root needed to find that out).
    Otherwise an existing alias is switched to the new image atomically.
    """
    if if_missing:
        existing = store.alias_target(spec.alias)
        if existing is not None:
            progress(f"image {spec.alias} already exists ({existing[:12]}); nothing to do")
            return BuildResult(spec.alias, existing, skipped=True)
    preflight()
    with _exclusive(LOCK):
        previous = store.alias_target(spec.alias)
        if previous is not None and if_missing:  # built by a concurrent run we waited for
            progress(f"image {spec.alias} was built meanwhile ({previous[:12]}); nothing to do")
            return BuildResult(spec.alias, previous, skipped=True)
        return _build_locked(spec, previous, progress, cache)


@contextmanager
def _exclusive(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (concurrent builds run one after another)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _build_locked(spec: ImageSpec, previous: str | None, progress: Progress, cache: Path | None) -> BuildResult:
    start = time.monotonic()

    def step(number: int, text: str) -> None:
        progress(f"[{number}/5 {time.monotonic() - start:4.0f}s] {text}")

    release_cache = cache / spec.release if cache is not None else None
    work = Path(tempfile.mkdtemp(prefix="anklume-image-", dir=WORK_ROOT))
    try:
        fp, size = _build_in(work, spec, previous, release_cache, step)
    finally:
        _remove_work(work)
    return BuildResult(spec.alias, fp, replaced=previous if previous != fp else None, size=size)
