"""The backup directory and its files: private, never reached through a link.

The directory is created 0700 (missing parents too); an existing one keeps
its mode (the caller warns when others can enter it). Files are created
0600 with ``O_EXCL | O_NOFOLLOW`` relative to the directory's descriptor,
written under a hidden temporary name and linked to their final name only
when complete, so a name never points at half a backup and an existing file
is never overwritten.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

from anklume.backup.errors import BackupError
from anklume.errors import UsageError, printable

MAX_MANIFEST_BYTES = 1 << 20

_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC
_NOFOLLOW_DIR = _DIR | os.O_NOFOLLOW
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_READ = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC


def open_private_dir(path: Path) -> tuple[int, bool]:
    """Open ``path`` (created 0700 with its missing parents); return its fd and whether others may enter it.

    Existing parents are the user's choice and may be links; every directory
    created here, and the backup directory itself, is opened without
    following a link.
    """
    path = path.absolute()
    missing: list[str] = []
    base = path
    while not base.exists() and base != base.parent:
        missing.insert(0, base.name)
        base = base.parent
    if not missing:
        base, missing = path.parent, [path.name]
    try:
        fd = os.open(base, _DIR)
    except OSError as exc:
        msg = f"backup directory {printable(str(base))}: {exc.strerror}"
        raise BackupError(msg) from None
    try:
        for name in missing:
            created = False
            with contextlib.suppress(FileExistsError):
                os.mkdir(name, 0o700, dir_fd=fd)
                created = True
            try:
                child = os.open(name, _NOFOLLOW_DIR, dir_fd=fd)
            except OSError as exc:
                why = "is a symbolic link" if _is_link(fd, name) else exc.strerror
                msg = f"backup directory {printable(str(path))}: {printable(name)} {why}"
                raise BackupError(msg) from None
            if created:
                os.fchmod(child, 0o700)
            os.close(fd)
            fd = child
        shared = bool(os.fstat(fd).st_mode & 0o077)
    except BaseException:
        os.close(fd)
        raise
    return fd, shared


def _is_link(dir_fd: int, name: str) -> bool:
    try:
        return stat.S_ISLNK(os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode)
    except OSError:
        return False


def create_temp(dir_fd: int, name: str) -> tuple[str, int]:
    """Create the hidden temporary file of ``name`` (0600) and return its name and write fd."""
    tmp = f".{name}.{os.urandom(4).hex()}.partial"
    fd = os.open(tmp, _CREATE, 0o600, dir_fd=dir_fd)
    os.fchmod(fd, 0o600)
    return tmp, fd


def publish(dir_fd: int, tmp: str, name: str) -> None:
    """Give the complete temporary file its final name (never replacing an existing file)."""
    try:
        os.link(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd, follow_symlinks=False)
    except FileExistsError:
        msg = f"{printable(name)} already exists in the backup directory; nothing replaced"
        raise BackupError(msg) from None
    finally:
        discard(dir_fd, tmp)
    os.fsync(dir_fd)


def discard(dir_fd: int, name: str) -> None:
    """Remove a file of the backup directory (nothing when it is absent)."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(name, dir_fd=dir_fd)


def write_file(dir_fd: int, name: str, data: bytes) -> None:
    """Write a small file (the manifest) completely under its final name."""
    tmp, fd = create_temp(dir_fd, name)
    try:
        with os.fdopen(fd, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
    except BaseException:
        discard(dir_fd, tmp)
        raise
    publish(dir_fd, tmp, name)


def open_file(path: Path) -> int:
    """Open a backup file for reading: a regular file, not a link (its directory may be reached by one)."""
    try:
        dir_fd = os.open(path.parent, _DIR)
    except OSError as exc:
        msg = f"{printable(str(path))}: {exc.strerror}"
        raise UsageError(msg) from None
    try:
        fd = os.open(path.name, _READ, dir_fd=dir_fd)
    except OSError as exc:
        link = _is_link(dir_fd, path.name)
        why = "is a symbolic link; anklume never follows one to a backup" if link else exc.strerror
        msg = f"{printable(str(path))}: {why}"
        raise UsageError(msg) from None
    finally:
        os.close(dir_fd)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        msg = f"{printable(str(path))}: not a regular file"
        raise UsageError(msg)
    os.set_blocking(fd, True)
    return fd


def read_small(path: Path, limit: int = MAX_MANIFEST_BYTES) -> bytes:
    """The content of a small backup file (the manifest), capped at ``limit`` bytes."""
    fd = open_file(path)
    with os.fdopen(fd, "rb") as stream:
        data = stream.read(limit + 1)
    if len(data) > limit:
        msg = f"{printable(str(path))}: larger than {limit} bytes, not a manifest"
        raise BackupError(msg)
    return data
