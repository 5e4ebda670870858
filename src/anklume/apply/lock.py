"""One apply at a time: an exclusive ``flock`` on a lock file.

The lock guards the Incus daemon, so it is host-wide: ``/run/anklume/apply.lock``
when that directory can be used (root), else ``<infra>/.anklume/apply.lock``;
``$ANKLUME_LOCK_FILE`` overrides both. The holder writes its pid and command
into the file for the message of the refused run. The kernel releases a
``flock`` when the last descriptor closes, so a killed run (even SIGKILL)
never leaves a lock behind; the file itself is harmless.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shlex
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from anklume.errors import LockedError

log = logging.getLogger(__name__)

ENV_LOCK = "ANKLUME_LOCK_FILE"
RUN_DIR = Path("/run/anklume")


def default_lock_path(infra_dir: Path, environ: dict[str, str] | None = None) -> Path:
    """Return where the apply lock lives.

    >>> default_lock_path(Path("/srv/infra"), {"ANKLUME_LOCK_FILE": "/tmp/x.lock"})
    PosixPath('/tmp/x.lock')
    """
    env = os.environ if environ is None else environ
    if env.get(ENV_LOCK):
        return Path(env[ENV_LOCK])
    run_parent = RUN_DIR.parent
    if RUN_DIR.is_dir() and os.access(RUN_DIR, os.W_OK):
        return RUN_DIR / "apply.lock"
    if not RUN_DIR.exists() and os.access(run_parent, os.W_OK):
        return RUN_DIR / "apply.lock"
    return infra_dir / ".anklume" / "apply.lock"


def holder_text(pid: int, argv: list[str], started: float) -> str:
    """Describe a lock holder in one line.

    >>> holder_text(42, ["anklume", "domain", "apply"], 0.0)
    'pid 42: anklume domain apply (since 1970-01-01T00:00:00Z)'
    """
    since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started))
    return f"pid {pid}: {shlex.join(argv)} (since {since})"


@contextlib.contextmanager
def apply_lock(path: Path, argv: list[str] | None = None) -> Iterator[int]:
    """Hold the exclusive apply lock; raise :class:`LockedError` when another run holds it.

    Yields the open descriptor: pass it to child processes (``pass_fds``) so the
    lock lives exactly as long as the whole run.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 4096, 0).decode(errors="replace").strip() or "unknown holder"
            raise LockedError(path, holder) from None
        text = holder_text(os.getpid(), argv if argv is not None else sys.argv, time.time())
        os.ftruncate(fd, 0)
        os.pwrite(fd, (text + "\n").encode(), 0)
        log.debug("apply lock taken", extra={"lock_path": str(path)})
        yield fd
    finally:
        os.close(fd)
