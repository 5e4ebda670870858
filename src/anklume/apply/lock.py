"""One apply at a time, one command per infra: exclusive ``flock`` locks.

The lock guards the Incus daemon, so it is host-wide: ``/run/anklume/apply.lock``
when that directory can be used (root), else ``<infra>/.anklume/apply.lock``;
``$ANKLUME_LOCK_FILE`` overrides both. The holder writes its pid and command
into the file for the message of the refused run. The kernel releases a
``flock`` when the last descriptor closes, so a killed run (even SIGKILL)
never leaves a lock behind; the file itself is harmless. The lock file is
opened without following a link (a cloned infra could hold
``.anklume/apply.lock -> ~/.bashrc``).

:func:`infra_lock` is the per-infra lock that ``sync``, ``network deploy``
and ``domain apply`` take: a ``flock`` on the infra directory itself (no
file to create, works on a read-only checkout). Its holder sets
``$ANKLUME_INFRA_LOCK`` (pid, device, inode) for its children: an
``anklume network deploy`` that Ansible runs on behalf of ``domain apply``
sees that an ancestor holds the lock of the same directory and goes on
instead of waiting for its own parent.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shlex
import stat
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

from anklume.errors import InfraLockedError, LockedError, UsageError

log = logging.getLogger(__name__)

ENV_LOCK = "ANKLUME_LOCK_FILE"
ENV_INFRA_LOCK = "ANKLUME_INFRA_LOCK"
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
    with contextlib.suppress(OSError):  # what is in the way (a dangling link, ...) is refused just below
        path.parent.mkdir(parents=True, exist_ok=True)
    fd = _open_lock_file(path)
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


def _open_lock_file(path: Path) -> int:
    """Open (create) the lock file; never through a link, never anything but a regular file."""
    try:
        dir_fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as exc:
        msg = f"lock file {path}: cannot open its directory ({exc.strerror}; a link is refused)"
        raise UsageError(msg) from None
    try:
        flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
        fd = os.open(path.name, flags, 0o644, dir_fd=dir_fd)
    except OSError as exc:
        msg = f"lock file {path}: cannot open it ({exc.strerror}; a link is refused)"
        raise UsageError(msg) from None
    finally:
        os.close(dir_fd)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        msg = f"lock file {path}: not a regular file"
        raise UsageError(msg)
    return fd


def _ancestors() -> Iterator[int]:
    """The pids above this process, parent first (Linux /proc; nothing elsewhere)."""
    pid = os.getppid()
    seen: set[int] = set()
    while pid > 1 and pid not in seen:
        seen.add(pid)
        yield pid
        try:
            text = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8", errors="replace")
            pid = int(text.rpartition(")")[2].split()[1])
        except (OSError, ValueError, IndexError):
            return


def _held_by_ancestor(fd: int, environ: Mapping[str, str]) -> bool:
    """Whether ``$ANKLUME_INFRA_LOCK`` says an ancestor holds the lock of the directory ``fd``."""
    try:
        pid, dev, ino = (int(part) for part in environ.get(ENV_INFRA_LOCK, "").split(":"))
    except ValueError:
        return False
    info = os.fstat(fd)
    return (info.st_dev, info.st_ino) == (dev, ino) and pid in _ancestors()


@contextlib.contextmanager
def infra_lock(infra_dir: Path) -> Iterator[None]:
    """Hold the per-infra lock; raise :class:`InfraLockedError` when another command holds it.

    Within a command already holding it (an ancestor process, see the module
    docstring), this is a no-op.
    """
    fd = os.open(infra_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if _held_by_ancestor(fd, os.environ):
                log.debug("infra lock held by an ancestor", extra={"infra_dir": str(infra_dir)})
                yield
                return
            raise InfraLockedError(infra_dir) from None
        info = os.fstat(fd)
        previous = os.environ.get(ENV_INFRA_LOCK)
        os.environ[ENV_INFRA_LOCK] = f"{os.getpid()}:{info.st_dev}:{info.st_ino}"
        try:
            yield
        finally:
            if previous is None:
                os.environ.pop(ENV_INFRA_LOCK, None)
            else:
                os.environ[ENV_INFRA_LOCK] = previous
    finally:
        os.close(fd)
