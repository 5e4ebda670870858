"""Where each side of a copy really is: the probe run inside the instance (or on the host).

A path is resolved where it lives: ``realpath`` runs inside the instance,
so ``..`` and links are followed as that instance sees them, and the policy
compares the resolved path. The final destination is worked out as ``cp``
does: into an existing directory under the source's name, else as the new
name given, in an existing parent.
"""

from __future__ import annotations

import logging
import posixpath
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from anklume.errors import AnklumeError, UsageError, printable
from anklume.ops.targets import Target
from anklume.portal import scripts

log = logging.getLogger(__name__)


class ProbeFailed(AnklumeError):
    """A path could not be resolved inside its instance (stopped, missing tools...)."""

    def __init__(self, where: str, rc: int, stderr: str) -> None:
        tail = " / ".join(stderr.strip().splitlines()[-3:]) or "no message"
        super().__init__(f"cannot resolve the path inside {where} (exit {rc}): {printable(tail)}")


@dataclass(frozen=True)
class Probe:
    """What the probe saw: the resolved path and the kinds of it, of it/NAME and of its parent."""

    resolved: str
    kind: str
    child: str
    parent: str


def parse_probe(out: bytes) -> Probe:
    r"""Read the probe's NUL-separated answer (untrusted: checked).

    >>> parse_probe(b"/srv/a\0dir\0missing\0dir\0")
    Probe(resolved='/srv/a', kind='dir', child='missing', parent='dir')
    """
    fields = out.decode("utf-8", "surrogateescape").split("\0")
    kinds = {"dir", "file", "link", "missing", "none"}
    if len(fields) != 5 or fields[4] or not fields[0].startswith("/") or not set(fields[1:4]) <= kinds:
        msg = "the probe's answer is not what the portal's own script prints"
        raise AnklumeError(msg)
    return Probe(*fields[:4])


def probe(target: Target | None, path: str, name: str = "") -> Probe:
    """Run the probe for ``path`` in ``target`` (None: the host)."""
    argv = scripts.argv(
        target.project if target else None, target.instance if target else None, scripts.PROBE, path, name
    )
    proc = subprocess.run(argv, capture_output=True, check=False, timeout=120)
    log.debug("portal probe ran", extra={"incus_argv": argv[:6], "incus_rc": proc.returncode})
    if proc.returncode != 0:
        where = f"{target.domain}/{target.name}" if target else "the host"
        raise ProbeFailed(where, proc.returncode, proc.stderr.decode("utf-8", "replace"))
    return parse_probe(proc.stdout)


def check_name(name: str, where: str) -> str:
    """Refuse names that cannot be one entry of a directory.

    >>> check_name("report.pdf", "x")
    'report.pdf'
    """
    if name in {"", ".", ".."} or "/" in name or name == scripts.DONE:
        msg = f"{where}: {printable(name)!r} cannot be the name of the copy"
        raise UsageError(msg)
    return name


def source_name(found: Probe, shown: str) -> str:
    """The name the source is sent under: the last component of its resolved path."""
    if found.kind not in {"dir", "file"}:
        msg = f"{shown}: no such file or directory"
        raise UsageError(msg)
    if found.resolved == "/":
        msg = f"{shown}: copying the whole root directory is refused; name a directory below it"
        raise UsageError(msg)
    return check_name(posixpath.basename(found.resolved), shown)


def destination(found: Probe, name: str, shown: str) -> tuple[str, str]:
    """The directory the copy lands in and its name there (``cp`` rules); refuse to overwrite."""
    if found.kind == "dir":
        if found.child != "missing":
            msg = f"{shown}: {printable(name)!r} already exists there; the portal never overwrites (remove it first)"
            raise UsageError(msg)
        return found.resolved, name
    if found.kind != "missing":
        msg = f"{shown} already exists; the portal never overwrites (remove it first, or name a directory)"
        raise UsageError(msg)
    if found.parent != "dir":
        msg = f"{shown}: its parent directory does not exist"
        raise UsageError(msg)
    parent = posixpath.dirname(found.resolved) or "/"
    return parent, check_name(posixpath.basename(found.resolved), shown)


def probe_both(
    src: Target | None, src_path: str, dst: Target | None, dst_path: str, shown: str
) -> tuple[Probe, str, Probe]:
    """Probe the source and the destination at once; return the source's probe, its name, the destination's.

    The destination is probed for the name the source most likely has (the last
    component of the path given); only when the resolved name differs (the
    source was a link) is it probed again.
    """
    guess = posixpath.basename(posixpath.normpath(src_path))
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="portal-probe") as pool:
        there = pool.submit(probe, dst, dst_path, guess)
        found = probe(src, src_path)
        name = source_name(found, shown)
        landing = there.result()
    return found, name, landing if name == guess else probe(dst, dst_path, name)
