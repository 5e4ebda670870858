"""The source files of an infra directory: found, read once, checked unchanged.

Every source is read through :mod:`anklume.engine.safeio` (no link, regular
files only, size capped) and its bytes are kept in a ``seen`` map, so that
:func:`changed_sources` can tell, before anything is written, whether an
editor saved a source while the command ran.
"""

from __future__ import annotations

import stat
from pathlib import Path

from anklume.engine import safeio
from anklume.errors import AnklumeError, InfraError, Problem, UsageError, printable


class SourceChangedError(AnklumeError):
    """A source file changed while the command ran: what was generated may not match it."""

    def __init__(self, files: list[Path]) -> None:
        self.files = files
        shown = printable(", ".join(str(f) for f in files))
        super().__init__(f"{shown} changed while anklume read it; nothing was written, run the command again")


def changed_sources(root: Path, seen: dict[Path, bytes | None]) -> list[Path]:
    """The sources (and infra/domains/ listing) of ``root`` whose content differs from ``seen``."""
    now: dict[Path, bytes | None] = {}
    if Path("infra/domains") in seen:
        domain_files(root / "infra", root, now)
    changed = [rel for rel in now if rel not in seen]
    for rel, before in seen.items():
        if rel in now:
            if now[rel] != before:
                changed.append(rel)
            continue
        try:
            changed += [rel] if safeio.read_bytes(root, rel) != before else []
        except OSError:  # unreadable now: changed (a link swapped in is refused with its own error)
            changed.append(rel)
    return sorted(changed)


def read_source(root: Path, path: Path, seen: dict[Path, bytes | None]) -> str:
    """The text of the source file ``path`` (under ``root``): a regular file, never through a link.

    Each file is read once; its bytes are kept so that a change made while
    the command runs is noticed before anything is written.
    """
    rel = path.relative_to(root)
    try:
        data = safeio.read_bytes(root, rel)
    except safeio.UnsafeFileError as exc:
        raise InfraError([Problem(rel, None, "", exc.message)]) from None
    except OSError as exc:
        raise InfraError([Problem(rel, None, "", f"cannot read: {exc.strerror}")]) from None
    if data is None:
        raise InfraError([Problem(rel, None, "", "disappeared while being read")])
    seen[rel] = data
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InfraError([Problem(rel, None, "", f"not UTF-8 text ({exc.reason})")]) from None


def _kind(root: Path, name: str) -> str | None:
    """'link', 'dir', 'file' (anything else that is not a link or directory) or None when absent."""
    info = safeio.lstat(root, Path(name))
    if info is None:
        return None
    if stat.S_ISLNK(info.st_mode):
        return "link"
    return "dir" if stat.S_ISDIR(info.st_mode) else "file"


def find_source(root: Path) -> Path:
    """Return ``root/infra.yml`` or ``root/infra``; raise when neither or both exist.

    A link in place of either is refused: it could lead outside the infra directory.
    """
    kinds = {name: _kind(root, name) for name in ("infra.yml", "infra")}
    for name, kind in kinds.items():
        if kind == "link":
            problem = Problem(
                Path(name), None, "", "is a symbolic link; anklume reads only files of the infra directory"
            )
            raise InfraError([problem])
    single, directory = root / "infra.yml", root / "infra"
    if kinds["infra.yml"] and kinds["infra"] == "dir":
        msg = f"{root} holds both infra.yml and infra/; keep one of them"
        raise UsageError(msg)
    if kinds["infra.yml"]:
        return single
    if kinds["infra"] == "dir":
        return directory
    msg = f"no infra.yml or infra/ in {root}; create one (see examples/) or pass the infra directory with -C DIR"
    raise UsageError(msg)


def domain_files(directory: Path, root: Path, seen: dict[Path, bytes | None]) -> list[Path]:
    """The ``*.yml`` and ``*.yaml`` of infra/domains/, sorted; hidden ones (editor files) are skipped.

    The listing itself is recorded in ``seen``: a file added meanwhile is a change.
    """
    parts = (*directory.relative_to(root).parts, "domains")
    names = [
        name
        for name, _regular in safeio.list_dir(root, parts) or []
        if not name.startswith(".") and Path(name).suffix in {".yml", ".yaml"}
    ]
    seen[Path(*parts)] = "\0".join(names).encode("utf-8", "surrogateescape")
    return [directory / "domains" / name for name in names]  # anything but a regular file is refused when read
