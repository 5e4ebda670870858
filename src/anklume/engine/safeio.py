"""Files under the infra directory, never through a symbolic link.

A cloned infra directory is untrusted: a link committed at ``host_vars/x.yml``
(or a linked ``group_vars/``) must not make anklume read, print, overwrite or
delete what it points to. Every path here is relative to the infra directory
and opened one component at a time from a directory descriptor with
``O_NOFOLLOW``, so no component can lead outside. Only regular files are
read, opened with ``O_NONBLOCK`` (a FIFO never blocks) and capped in size
before they are read. The infra directory itself (``-C DIR``) is the user's
choice and may be reached through a link.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from pathlib import Path

from anklume.engine.managed import GeneratedFileError

#: Largest file anklume reads: infra sources and generated files alike.
MAX_FILE_BYTES = 8 * 1024 * 1024

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
_CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


class UnsafeFileError(GeneratedFileError):
    """A path under the infra directory is a link, not a regular file, or too large."""


def _describe(dir_fd: int, name: str, exc: OSError) -> str:
    """Why ``name`` could not be opened, in the user's words."""
    try:
        info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except OSError:
        return f"cannot open: {exc.strerror}"
    if stat.S_ISLNK(info.st_mode):
        return "is a symbolic link; anklume never follows links inside the infra directory (replace it by a file)"
    if exc.errno == errno.ENOTDIR:
        return "is not a directory"
    return f"cannot open: {exc.strerror}"


def open_dir(root: Path, parts: tuple[str, ...], *, create: bool = False) -> int:
    """Open ``root/parts...`` as a directory descriptor, refusing links; mkdir when ``create``.

    Raises :class:`FileNotFoundError` when a component is missing (and not created).
    """
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for index, name in enumerate(parts):
            try:
                child = os.open(name, _DIR_FLAGS, dir_fd=fd)
            except FileNotFoundError:
                if not create:
                    raise
                with contextlib.suppress(FileExistsError):
                    os.mkdir(name, 0o777, dir_fd=fd)
                try:
                    child = os.open(name, _DIR_FLAGS, dir_fd=fd)
                except OSError as exc:
                    raise UnsafeFileError(Path(*parts[: index + 1]), _describe(fd, name, exc)) from None
            except OSError as exc:
                raise UnsafeFileError(Path(*parts[: index + 1]), _describe(fd, name, exc)) from None
            os.close(fd)
            fd = child
    except BaseException:
        os.close(fd)
        raise
    return fd


def _parts(rel: Path) -> tuple[str, ...]:
    parts = rel.parts
    if rel.is_absolute() or not parts or any(p in {"", ".", ".."} for p in parts):
        msg = f"paths under the infra directory are relative and plain, got {rel}"
        raise ValueError(msg)
    return parts


def read_bytes(root: Path, rel: Path, limit: int = MAX_FILE_BYTES, *, single_link: bool = False) -> bytes | None:
    """The content of the regular file ``root/rel``; None when it does not exist.

    ``single_link`` refuses a file with other hard links: its content may be
    that of a file outside the infra directory (generated files are printed
    by ``sync --dry-run``).
    """
    parts = _parts(rel)
    try:
        dir_fd = open_dir(root, parts[:-1])
    except FileNotFoundError:
        return None
    try:
        fd = os.open(parts[-1], _READ_FLAGS, dir_fd=dir_fd)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise UnsafeFileError(rel, _describe(dir_fd, parts[-1], exc)) from None
    finally:
        os.close(dir_fd)
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise UnsafeFileError(rel, "is a directory, expected a file")
        if not stat.S_ISREG(info.st_mode):
            raise UnsafeFileError(rel, "is not a regular file (a FIFO, socket or device); anklume reads only files")
        if single_link and info.st_nlink > 1:
            raise UnsafeFileError(rel, "has other hard links; anklume reads and rewrites only files of its own")
        too_big = f"is larger than {limit // (1024 * 1024)} MiB; anklume refuses to read it"
        if info.st_size > limit:
            raise UnsafeFileError(rel, too_big)
        chunks, size = [], 0
        while chunk := os.read(fd, min(1 << 20, limit + 1 - size)):
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                raise UnsafeFileError(rel, too_big)
        return b"".join(chunks)
    finally:
        os.close(fd)


def list_dir(root: Path, parts: tuple[str, ...]) -> list[tuple[str, bool]] | None:
    """The entries of a directory as (name, is a regular file); None when it does not exist."""
    try:
        fd = open_dir(root, parts)
    except FileNotFoundError:
        return None
    try:
        with os.scandir(fd) as entries:
            return sorted((e.name, e.is_file(follow_symlinks=False)) for e in entries)
    finally:
        os.close(fd)


def lstat(root: Path, rel: Path) -> os.stat_result | None:
    """``lstat`` of ``root/rel`` (a link is not followed); None when absent."""
    parts = _parts(rel)
    try:
        dir_fd = open_dir(root, parts[:-1])
    except FileNotFoundError:
        return None
    try:
        return os.stat(parts[-1], dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return None
    finally:
        os.close(dir_fd)


def write_atomic(root: Path, rel: Path, data: bytes, mode: int, owner: tuple[int, int] | None) -> None:
    """Replace ``root/rel`` by ``data`` through a temporary file and a rename, creating directories."""
    parts = _parts(rel)
    dir_fd = open_dir(root, parts[:-1], create=True)
    try:
        tmp = f".{parts[-1]}.{os.urandom(4).hex()}.tmp"
        fd = os.open(tmp, _CREATE_FLAGS, 0o600, dir_fd=dir_fd)
        try:
            with os.fdopen(fd, "wb") as stream:
                stream.write(data)
                os.fchmod(stream.fileno(), mode)
                if owner is not None:
                    with contextlib.suppress(PermissionError):
                        os.fchown(stream.fileno(), *owner)
            os.replace(tmp, parts[-1], src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp, dir_fd=dir_fd)
            raise
    finally:
        os.close(dir_fd)


def unlink(root: Path, rel: Path) -> None:
    """Delete ``root/rel`` (a link itself, never its target); nothing when absent."""
    parts = _parts(rel)
    try:
        dir_fd = open_dir(root, parts[:-1])
    except FileNotFoundError:
        return
    try:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(parts[-1], dir_fd=dir_fd)
    finally:
        os.close(dir_fd)
