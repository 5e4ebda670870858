"""``incus export NAME - | gpg > FILE``, both sha256 taken in the same pass.

The clear export is read by anklume (hashed, counted) on its way into gpg;
gpg's output comes back through a pipe and is hashed while a thread writes
it to the archive, so the archive is never read again to be hashed. Without
encryption the archive is the clear export and its one hash serves both.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import subprocess
import threading
from dataclasses import dataclass
from typing import IO, Literal

from anklume.backup import gpg, keys, pump
from anklume.backup.errors import BackupError
from anklume.errors import CommandFailed
from anklume.incus.run import binary, project_argv
from anklume.ops.targets import Target

_PIPE_SIZE = 1 << 20
_F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)


@dataclass(frozen=True)
class Encrypt:
    """How to encrypt: a passphrase, a recipient's key, or not at all (``--no-encrypt``)."""

    mode: Literal["passphrase", "recipient", "none"]
    secret: gpg.Secret | None = None
    key: keys.Key | None = None


@dataclass(frozen=True)
class Written:
    """What went through: the clear export's and the archive's size and sha256."""

    clear: tuple[int, str]
    archive: tuple[int, str]


def export_argv(target: Target, compression: str, *, instance_only: bool) -> list[str]:
    """``incus export`` of ``target`` to stdout (``-q``: Incus 6.0 would print its progress into the stream)."""
    extra = ["--instance-only"] if instance_only else []
    return [binary(), *project_argv(target.project), "export", target.instance, "-", "-q",
            "--compression", compression, *extra]  # fmt: skip


class _Writer(threading.Thread):
    """Copies gpg's output to the archive, hashing it; after a write error it only drains (gpg never blocks)."""

    def __init__(self, in_fd: int, out_fd: int) -> None:
        super().__init__(name="backup-archive-writer", daemon=True)
        self.in_fd, self.out_fd = in_fd, out_fd
        self.digest = hashlib.sha256()
        self.count = 0
        self.error: OSError | None = None

    def run(self) -> None:
        view = memoryview(bytearray(pump.CHUNK))
        while n := os.readv(self.in_fd, [view]):
            if self.error is not None:
                continue
            try:
                pump.write_all(self.out_fd, view[:n])
            except OSError as exc:
                self.error = exc
                continue
            self.digest.update(view[:n])
            self.count += n


def _widen(fd: int) -> None:
    with contextlib.suppress(OSError):  # a smaller pipe only costs speed
        fcntl.fcntl(fd, _F_SETPIPE_SZ, _PIPE_SIZE)


def stream(
    out_fd: int, target: Target, enc: Encrypt, compression: str, instance_only: bool, progress: pump.Progress | None
) -> Written:
    """Run ``incus export | [gpg] > out_fd``; return the sizes and sha256 of the clear export and the archive."""
    export, export_err = pump.spawn(
        export_argv(target, compression, instance_only=instance_only), stdin=subprocess.DEVNULL, stdout=-1
    )
    assert export.stdout is not None  # stdout=PIPE
    _widen(export.stdout.fileno())
    reader = pump.HashingReader(export.stdout.fileno(), pump.Ticker(progress))
    if enc.mode == "none":
        try:
            pump.copy(reader, out_fd)
        finally:
            export.stdout.close()
        _check_export(export, export_err)
        clear = (reader.count, reader.digest.hexdigest())
        return Written(clear, clear)
    with gpg.passphrase_fd(enc.secret if enc.mode == "passphrase" else None) as fd:
        argv = gpg.encrypt_argv(gpg.binary(), recipient=enc.key.fingerprint if enc.key else None, fd=fd)
        crypt, crypt_err = pump.spawn(argv, stdin=-1, stdout=-1, pass_fds=() if fd is None else (fd,))
    assert crypt.stdin is not None and crypt.stdout is not None  # both PIPE
    _widen(crypt.stdin.fileno())
    writer = _Writer(crypt.stdout.fileno(), out_fd)
    writer.start()
    try:
        with contextlib.suppress(BrokenPipeError):  # gpg quit: its own error says why
            pump.copy(reader, crypt.stdin.fileno())
    finally:
        with contextlib.suppress(BrokenPipeError):
            crypt.stdin.close()
        export.stdout.close()
    rc, text = pump.finish(crypt, crypt_err)
    writer.join()
    crypt.stdout.close()
    if writer.error is not None:
        pump.stop(export)
        pump.finish(export, export_err)
        msg = f"writing the archive: {writer.error.strerror or writer.error}"
        raise BackupError(msg)
    if rc != 0:
        pump.stop(export)
        pump.finish(export, export_err)
        raise gpg.failure(argv, rc, text, symmetric=enc.mode == "passphrase")
    _check_export(export, export_err)
    return Written((reader.count, reader.digest.hexdigest()), (writer.count, writer.digest.hexdigest()))


def _check_export(export: subprocess.Popen[bytes], errors: IO[bytes]) -> None:
    rc, text = pump.finish(export, errors)
    if rc != 0:
        argv = ["incus", *[str(a) for a in export.args[1:]]]  # type: ignore[index]  # spawned with an argv list
        raise BackupError(CommandFailed.describe(argv, rc, text))
