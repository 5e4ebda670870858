"""Streams between processes: copy in chunks, hash on the way, report progress now and then.

Nothing here holds more than one chunk (1 MiB) in memory, whatever the size
of the instance. Child processes get argv lists; their stderr goes to an
unnamed temporary file (never a pipe nobody reads, which could block them).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import os
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from typing import IO

log = logging.getLogger(__name__)

CHUNK = 1 << 20
Progress = Callable[[int], None]
"""Called with the bytes done so far (at most every few seconds)."""


class Ticker:
    """Calls ``progress`` at most once every ``every`` seconds."""

    def __init__(self, progress: Progress | None, every: float = 2.0) -> None:
        self.progress = progress
        self.every = every
        self.last = time.monotonic()

    def __call__(self, done: int) -> None:
        now = time.monotonic()
        if self.progress is not None and now - self.last >= self.every:
            self.last = now
            self.progress(done)


class HashingReader(io.RawIOBase):
    """A readable stream over ``fd`` that hashes and counts what goes through it."""

    def __init__(self, fd: int, tick: Ticker | None = None) -> None:
        super().__init__()
        self.fd = fd
        self.digest = hashlib.sha256()
        self.count = 0
        self.tick = tick

    def readable(self) -> bool:
        """Always readable."""
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]  # typeshed's Buffer is wider
        """Read, hash and count one block."""
        view = memoryview(buffer)[:CHUNK]
        n = os.readv(self.fd, [view])  # straight into the caller's buffer
        self.digest.update(view[:n])
        self.count += n
        if self.tick is not None:
            self.tick(self.count)
        return n

    def drain(self) -> None:
        """Read (and hash) whatever is left."""
        while self.read(CHUNK):
            pass


def write_all(fd: int, data: bytes | bytearray | memoryview) -> None:
    """Write every byte of ``data`` to ``fd``."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def copy(reader: HashingReader, out_fd: int) -> None:
    """Copy everything ``reader`` gives to ``out_fd`` (BrokenPipeError when the reader of out_fd quit)."""
    view = memoryview(bytearray(CHUNK))
    while n := reader.readinto(view):
        write_all(out_fd, view[:n])


def spawn(
    argv: Sequence[str],
    *,
    stdin: int | IO[bytes] | None,
    stdout: int | IO[bytes] | None,
    pass_fds: tuple[int, ...] = (),
) -> tuple[subprocess.Popen[bytes], IO[bytes]]:
    """Start ``argv`` (stderr to a temporary file); return the process and that file."""
    shown = list(argv)
    log.debug("spawned", extra={"incus_argv": shown} if "incus" in os.path.basename(shown[0]) else {"argv": shown})
    errors = tempfile.TemporaryFile()  # noqa: SIM115 -- handed to the caller, closed by finish()
    try:
        proc = subprocess.Popen(list(argv), stdin=stdin, stdout=stdout, stderr=errors, pass_fds=pass_fds)
    except BaseException:
        errors.close()
        raise
    return proc, errors


def finish(proc: subprocess.Popen[bytes], errors: IO[bytes], *, timeout: float | None = None) -> tuple[int, str]:
    """Wait for ``proc`` and return its exit code and the end of its stderr."""
    try:
        rc = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        rc = proc.wait()
    with contextlib.suppress(OSError):
        size = errors.seek(0, os.SEEK_END)
        errors.seek(max(0, size - 16384))
    text = errors.read().decode("utf-8", "replace")
    errors.close()
    return rc, text


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Kill a child that is still running (after a failure elsewhere in the pipeline)."""
    if proc.poll() is None:
        proc.kill()
        proc.wait()
