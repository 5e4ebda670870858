"""The system ``gpg`` binary (GnuPG 2.2+), driven with argv lists.

A passphrase never appears on a command line or in the environment: it is
written into a pipe whose read end gpg gets as ``--passphrase-fd`` (with
``--pinentry-mode loopback``), and ``--no-symkey-cache`` keeps gpg-agent
from remembering it (a wrong passphrase must fail even right after a good
one). Status lines (``--status-fd 2``) turn gpg's failures into messages.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from anklume.backup.errors import BackupError, GpgFailed
from anklume.errors import UsageError, printable

BASE = ["--batch", "--no-tty", "--quiet", "--status-fd", "2"]
CIPHER = "AES256"
MAX_PASSPHRASE = 4096
_REASONS = {"1": "not found", "4": "revoked", "5": "expired", "10": "not trusted (certify it: gpg --lsign-key KEY)"}


@dataclass(frozen=True)
class Secret:
    """A passphrase read from a file (never shown)."""

    value: bytes = field(repr=False)


def binary() -> str:
    """The gpg binary, or a clear error saying how to get it."""
    found = shutil.which("gpg")
    if found is None:
        msg = "gpg not found; install GnuPG (Debian: apt-get install gnupg)"
        raise BackupError(msg)
    return found


def read_passphrase(path: Path) -> tuple[Secret, bool]:
    """The first line of ``path`` and whether others can read the file."""
    try:
        with path.open("rb") as stream:
            info = os.fstat(stream.fileno())
            if not stat.S_ISREG(info.st_mode):
                msg = f"passphrase file {printable(str(path))}: not a regular file"
                raise UsageError(msg)
            data = stream.read(MAX_PASSPHRASE + 1)
    except OSError as exc:
        msg = f"passphrase file {printable(str(path))}: {exc.strerror}"
        raise UsageError(msg) from None
    line = data.split(b"\n", 1)[0].rstrip(b"\r")
    if not line or len(data) > MAX_PASSPHRASE:
        msg = f"passphrase file {printable(str(path))}: its first line must hold the passphrase"
        raise UsageError(msg)
    return Secret(line), bool(info.st_mode & 0o077)


@contextlib.contextmanager
def passphrase_fd(secret: Secret | None) -> Iterator[int | None]:
    """A pipe holding the passphrase; yields its read end for ``--passphrase-fd`` (None without a secret)."""
    if secret is None:
        yield None
        return
    read_end, write_end = os.pipe()
    try:
        try:
            os.write(write_end, secret.value + b"\n")
        finally:
            os.close(write_end)  # once only: a second close could hit a descriptor opened since
        yield read_end
    finally:
        os.close(read_end)


def _secret_args(fd: int | None) -> list[str]:
    if fd is None:
        return []
    return ["--pinentry-mode", "loopback", "--passphrase-fd", str(fd), "--no-symkey-cache"]


def encrypt_argv(gpg: str, *, recipient: str | None, fd: int | None) -> list[str]:
    """Encrypt stdin to stdout: to ``recipient``'s key, or with the passphrase at ``fd``.

    >>> encrypt_argv("gpg", recipient=None, fd=5)[-8:]
    ['--symmetric', '--cipher-algo', 'AES256', '--compress-algo', 'none', '--output', '-', '--']
    >>> encrypt_argv("gpg", recipient="AB" * 20, fd=None)[6:9]
    ['--encrypt', '--recipient', 'ABABABABABABABABABABABABABABABABABABABAB']
    """
    if recipient is not None:
        how = ["--encrypt", "--recipient", recipient]
    elif fd is not None:
        how = [*_secret_args(fd), "--symmetric", "--cipher-algo", CIPHER]
    else:
        msg = "encryption needs a recipient or a passphrase"
        raise ValueError(msg)
    # the export is compressed already: compressing again costs time for nothing
    return [gpg, *BASE, *how, "--compress-algo", "none", "--output", "-", "--"]


def decrypt_argv(gpg: str, *, fd: int | None) -> list[str]:
    """Decrypt stdin to stdout (the passphrase, when given, at ``fd``).

    >>> decrypt_argv("gpg", fd=None)
    ['gpg', '--batch', '--no-tty', '--quiet', '--status-fd', '2', '--decrypt', '--output', '-', '--']
    """
    return [gpg, *BASE, *_secret_args(fd), "--decrypt", "--output", "-", "--"]


def failure(argv: list[str], rc: int, stderr: str, *, symmetric: bool) -> GpgFailed:
    """The error of a failed gpg run, in the user's words when its status lines tell why.

    >>> failure(["gpg"], 2, "[GNUPG:] DECRYPTION_FAILED\\ngpg: decryption failed: Bad session key", symmetric=True).why
    'wrong passphrase'
    >>> failure(["gpg"], 2, "[GNUPG:] NO_SECKEY 1234\\n[GNUPG:] DECRYPTION_FAILED", symmetric=False).why
    'no secret key for this backup in the keyring (GNUPGHOME or ~/.gnupg)'
    """
    status = [line[9:].split() for line in stderr.splitlines() if line.startswith("[GNUPG:] ")]
    words = {s[0] for s in status if s}
    said = [line[5:] for line in stderr.splitlines() if line.startswith("gpg: ")]
    if "INV_RECP" in words:
        code = next(s[1] for s in status if s and s[0] == "INV_RECP" and len(s) > 1)
        why = f"the recipient key is unusable: {_REASONS.get(code, 'no encryption key')}"
    elif "NO_SECKEY" in words and "DECRYPTION_OKAY" not in words:
        why = "no secret key for this backup in the keyring (GNUPGHOME or ~/.gnupg)"
    elif symmetric and ("BAD_PASSPHRASE" in words or any("Bad session key" in s for s in said)):
        why = "wrong passphrase"
    elif "BADMDC" in words or "DECRYPTION_FAILED" in words:
        why = "the encrypted data is damaged (" + " / ".join(said[-2:]) + ")"
    else:
        why = " / ".join(printable(s) for s in said[-3:]) or "no reason given"
    return GpgFailed(argv, rc, why)
