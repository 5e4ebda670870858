"""The write stage: turn rendered blocks into files on disk.

:func:`plan_writes` reads every target file once and computes its new full
text (:func:`anklume.engine.managed.merge`); nothing is written yet. The plan
then serves three commands: :func:`apply` (``sync``) writes only the files
whose text changes, each atomically; :func:`diff` (``sync --dry-run``) shows
the changes; :func:`stale` (``sync --check``) lists the files out of date.
Since only the managed block is ever replaced, the user's content outside it
never makes a file stale.

Files are read and written as UTF-8 with ``surrogateescape``, so bytes that
are not valid UTF-8 outside the block survive a rewrite unchanged.
"""

from __future__ import annotations

import difflib
import enum
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from anklume.engine import safeio
from anklume.engine.managed import GeneratedFileError, merge, render_block

log = logging.getLogger(__name__)

_ENCODING = "utf-8"
_ERRORS = "surrogateescape"


class Change(enum.StrEnum):
    """What writing a file would do."""

    NEW = "new"
    CHANGED = "changed"
    UNCHANGED = "unchanged"


@dataclass(frozen=True, slots=True)
class FileWrite:
    """One target file: its path relative to the root, old text (None when
    the file does not exist) and new text."""

    path: Path
    change: Change
    old: str | None
    new: str


@dataclass(frozen=True, slots=True)
class WritePlan:
    """Every target file under ``root``, sorted by path."""

    root: Path
    files: tuple[FileWrite, ...]

    @property
    def pending(self) -> tuple[FileWrite, ...]:
        """The files that would be created or changed."""
        return tuple(f for f in self.files if f.change is not Change.UNCHANGED)

    def count(self, change: Change) -> int:
        """How many files would see ``change``."""
        return sum(1 for f in self.files if f.change is change)


def read_text(root: Path, rel: Path) -> str | None:
    """The text of ``root/rel`` byte for byte (no newline translation); None if absent.

    Links (symbolic or hard), FIFOs, devices and oversized files are refused
    (:mod:`anklume.engine.safeio`).
    """
    data = safeio.read_bytes(root, rel, single_link=True)
    return None if data is None else data.decode(_ENCODING, _ERRORS)


def _check_relative(path: Path) -> None:
    if path.is_absolute() or ".." in path.parts or not path.parts:
        msg = f"generated file paths are relative to the root, got {path}"
        raise ValueError(msg)


def plan_writes(root: Path, files: Mapping[Path, str]) -> WritePlan:
    """Plan the writes of ``files`` (relative path → managed block body) under ``root``."""
    planned = []
    for rel in sorted(files):
        _check_relative(rel)
        old = read_text(root, rel)
        new = merge(old, render_block(files[rel]), root / rel)
        change = Change.NEW if old is None else Change.UNCHANGED if new == old else Change.CHANGED
        planned.append(FileWrite(rel, change, old, new))
    return WritePlan(root, tuple(planned))


def stale(plan: WritePlan) -> list[Path]:
    """The relative paths that are missing or whose managed block is out of date."""
    return [f.path for f in plan.pending]


def _diff_lines(text: str | None) -> list[str]:
    """Split on ``\\n`` only (``str.splitlines`` would also split on ``\\r`` and U+2028).

    >>> _diff_lines("a\\r\\nb")
    ['a\\r\\n', 'b']
    """
    if not text:
        return []
    lines = [f"{line}\n" for line in text.split("\n")]
    lines[-1] = lines[-1][:-1]
    return lines if lines[-1] else lines[:-1]


def diff(plan: WritePlan) -> str:
    """A unified diff of every file the plan would create or change ('' when none).

    Headers are ``a/<path>`` and ``b/<path>`` (``/dev/null`` for a new file),
    as ``git diff`` writes them, so the output can be fed to ``git apply``.
    """
    out: list[str] = []
    for f in plan.pending:
        before = "/dev/null" if f.old is None else f"a/{f.path.as_posix()}"
        lines = difflib.unified_diff(_diff_lines(f.old), _diff_lines(f.new), before, f"b/{f.path.as_posix()}")
        out.extend(line if line.endswith("\n") else f"{line}\n\\ No newline at end of file\n" for line in lines)
    text = "".join(out)
    return text.encode(_ENCODING, _ERRORS).decode(_ENCODING, "replace")


def _current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def apply(plan: WritePlan) -> list[Path]:
    """Write the new and changed files of ``plan``; return their relative paths.

    Unchanged files are not touched (their mtime stays). Each file is
    replaced atomically, keeping its mode (and owner, when allowed); a
    symbolic link is never followed (:mod:`anklume.engine.safeio`). New
    files get ``0o666`` minus the umask, and their directories are created.
    Before writing anything, and again right before each rename, every file
    is checked to still hold the text the plan was made from: a file edited
    meanwhile raises :class:`GeneratedFileError`.
    """
    pending = plan.pending
    for f in pending:
        _unchanged_since_plan(plan.root, f)
    new_mode = 0o666 & ~_current_umask()
    for f in pending:
        mode, owner = new_mode, None
        _unchanged_since_plan(plan.root, f)
        if f.old is not None:
            info = safeio.lstat(plan.root, f.path)
            if info is not None:
                mode = info.st_mode & 0o7777
                owner = (info.st_uid, info.st_gid) if os.geteuid() == 0 else None
        safeio.write_atomic(plan.root, f.path, f.new.encode(_ENCODING, _ERRORS), mode, owner)
        log.debug("wrote %s (%s)", f.path, f.change)
    new, changed = plan.count(Change.NEW), plan.count(Change.CHANGED)
    log.info("generated files written: %d new, %d changed", new, changed)
    return [f.path for f in pending]


def _unchanged_since_plan(root: Path, f: FileWrite) -> None:
    if read_text(root, f.path) != f.old:
        msg = "changed on disk since the plan was made; run the command again"
        raise GeneratedFileError(root / f.path, msg)
