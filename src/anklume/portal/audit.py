"""The audit log of the portal: ``<infra>/.anklume/portal.log``, one JSON object per line.

Every copy that reached a decision appends one line: allowed, denied or
forced, with who asked, when, both sides, the bytes and the sha256 of every
file that crossed, and the outcome. The directory is 0700 and the file 0600;
neither is ever opened through a link (the infra directory may be a cloned,
untrusted repository). A line is written with one ``write`` under an
exclusive ``flock``, so concurrent copies never interleave.
"""

from __future__ import annotations

import fcntl
import getpass
import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from anklume.engine import safeio
from anklume.errors import AnklumeError

LOG = Path(".anklume") / "portal.log"
_FLAGS = os.O_NOFOLLOW | os.O_CLOEXEC


class AuditError(AnklumeError):
    """The audit log cannot be written or read."""

    def __init__(self, directory: Path, why: str) -> None:
        super().__init__(f"portal audit log {directory / LOG}: {why}")


def who() -> dict[str, Any]:
    """The person asking: login name, uid, and the sudo user behind root when there is one."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = str(os.getuid())
    out: dict[str, Any] = {"user": user, "uid": os.getuid()}
    sudo = os.environ.get("SUDO_USER")
    if sudo and sudo.isprintable():
        out["sudo_user"] = sudo
    return out


def now() -> str:
    """The current UTC time, ISO 8601 to the second."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _open_dir(directory: Path, *, create: bool) -> int:
    try:
        fd = safeio.open_dir(directory, LOG.parts[:-1], create=create)
    except safeio.UnsafeFileError as exc:
        raise AuditError(directory, exc.message) from None
    if create:
        os.fchmod(fd, 0o700)
    return fd


def ready(directory: Path) -> None:
    """Make sure the log can be written before anything crosses (an empty append)."""
    os.close(_open_log(directory))


def append(directory: Path, entry: dict[str, Any]) -> None:
    """Append ``entry`` as one line (creating the private directory and file when needed)."""
    line = (json.dumps(entry, ensure_ascii=True, separators=(",", ":")) + "\n").encode()
    fd = _open_log(directory)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        view = memoryview(line)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)


def _open_log(directory: Path) -> int:
    dfd = _open_dir(directory, create=True)
    try:
        fd = os.open(LOG.name, os.O_WRONLY | os.O_APPEND | os.O_CREAT | _FLAGS, 0o600, dir_fd=dfd)
    except OSError as exc:
        raise AuditError(directory, f"cannot open for writing ({exc.strerror}; a link is never followed)") from None
    finally:
        os.close(dfd)
    os.fchmod(fd, 0o600)
    return fd


def read(directory: Path) -> Iterator[dict[str, Any]]:
    """Every entry of the log, oldest first (nothing when there is no log); bad lines are skipped."""
    try:
        dfd = _open_dir(directory, create=False)
    except FileNotFoundError:
        return
    try:
        fd = os.open(LOG.name, os.O_RDONLY | _FLAGS, dir_fd=dfd)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise AuditError(directory, f"cannot open ({exc.strerror}; a link is never followed)") from None
    finally:
        os.close(dfd)
    with os.fdopen(fd, "rb") as log:
        for raw in log:
            try:
                entry = json.loads(raw)
            except ValueError:
                continue
            if isinstance(entry, dict):
                yield entry
