"""Stage 1: read infra.yml or infra/ into plain data with a source map.

The loader keeps, for every mapping key and sequence item, the file and
1-based line it came from, so later stages can point at the exact place of
a problem. Duplicate keys and YAML syntax errors are reported as problems,
never as tracebacks.
"""

from __future__ import annotations

import hashlib
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from anklume.engine import safeio
from anklume.engine.yamlsrc import KeyPath, SourceMap, dotted, parse_yaml
from anklume.errors import AnklumeError, InfraError, Problem, UsageError

__all__ = [
    "DIR_BASE_KEYS",
    "Document",
    "KeyPath",
    "SourceChangedError",
    "SourceMap",
    "changed_sources",
    "dotted",
    "find_source",
    "load",
]

#: Top-level keys each file of the directory mode may hold.
DIR_BASE_KEYS = frozenset({"project_name", "global", "shared_volumes"})


@dataclass
class Document:
    """The raw infra description and where each part of it came from."""

    data: dict[str, Any]
    source: SourceMap
    root: Path
    directory_mode: bool
    problems: list[Problem] = field(default_factory=list)  # found, not fatal: reported with the rest
    digests: dict[Path, str] = field(default_factory=dict)  # each source read (relative path) → sha256


class SourceChangedError(AnklumeError):
    """A source file changed while the command ran: what was generated may not match it."""

    def __init__(self, files: list[Path]) -> None:
        self.files = files
        shown = ", ".join(str(f) for f in files)
        super().__init__(f"{shown} changed while anklume read it; nothing was written, run the command again")


def changed_sources(doc: Document) -> list[Path]:
    """The source files (and infra/domains/ listing) whose content differs from what ``doc`` was made of."""
    now: dict[Path, str] = {}
    if doc.directory_mode:
        _domain_files(doc.root / "infra", doc.root, now)
    changed = [rel for rel in now if rel not in doc.digests]
    for rel, digest in doc.digests.items():
        if rel in now:
            if now[rel] != digest:
                changed.append(rel)
            continue
        try:
            data = safeio.read_bytes(doc.root, rel)
        except OSError:  # unreadable now (a link swapped in, ...): changed
            data = b"\0unreadable"
        if ("" if data is None else hashlib.sha256(data).hexdigest()) != digest:
            changed.append(rel)
    return sorted(changed)


def _read(root: Path, path: Path, digests: dict[Path, str]) -> str:
    """The text of the source file ``path`` (under ``root``): a regular file, never through a link.

    Each file is read once; its digest is kept so that a change made while
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
    digests[rel] = hashlib.sha256(data).hexdigest()
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


def load(root: Path) -> Document:
    """Load the infra description of the infra directory ``root``."""
    source = find_source(root)
    if source.name == "infra.yml":
        return _load_file(source, root)
    return _load_directory(source, root)


def _relative(path: Path, root: Path) -> Path:
    try:
        return path.relative_to(root)
    except ValueError:
        return path


def _load_file(path: Path, root: Path) -> Document:
    shown = _relative(path, root)
    sm = SourceMap(default_file=shown)
    digests: dict[Path, str] = {}
    data, problems = parse_yaml(_read(root, path, digests), shown, sm)
    if not problems:
        problems = _expect_mapping(data, shown, "the file")
    if any(p.key == "" for p in problems):  # nothing usable: syntax error or not a mapping
        raise InfraError(problems)
    return Document(data, sm, root, directory_mode=False, problems=problems, digests=digests)


def _expect_mapping(data: Any, file: Path, what: str) -> list[Problem]:
    if data is None:
        return [Problem(file, None, "", f"{what} is empty; expected a mapping of keys")]
    if not isinstance(data, dict):
        kind = type(data).__name__
        return [Problem(file, 1, "", f"{what} must be a mapping of keys, got a {kind}")]
    return []


def _domain_files(directory: Path, root: Path, digests: dict[Path, str]) -> list[Path]:
    """The ``*.yml`` and ``*.yaml`` of infra/domains/, sorted; hidden ones (editor files) are skipped.

    The listing itself is recorded in ``digests``: a file added meanwhile is a change.
    """
    parts = (*directory.relative_to(root).parts, "domains")
    names = [
        name
        for name, _regular in safeio.list_dir(root, parts) or []
        if not name.startswith(".") and Path(name).suffix in {".yml", ".yaml"}
    ]
    digests[Path(*parts)] = hashlib.sha256("\0".join(names).encode("utf-8", "surrogateescape")).hexdigest()
    return [directory / "domains" / name for name in names]  # anything but a regular file is refused when read


def _load_directory(directory: Path, root: Path) -> Document:
    base_path = directory / "base.yml"
    shown = _relative(base_path, root)
    sm = SourceMap(default_file=shown)
    if safeio.lstat(root, base_path.relative_to(root)) is None:
        raise InfraError([Problem(shown, None, "", "missing (required in infra/)")])
    digests: dict[Path, str] = {}
    data, problems = parse_yaml(_read(root, base_path, digests), shown, sm)
    if not problems:
        problems = _expect_mapping(data, shown, "base.yml")
    merged: dict[str, Any] = data if isinstance(data, dict) else {}
    hint = "domains go in infra/domains/*.yml, network_policies in infra/policies.yml"
    for key in sorted(set(merged) - DIR_BASE_KEYS):
        problems.append(sm.problem((key,), "not allowed in base.yml", hint))
    domains = _load_domain_files(directory, root, sm, problems, digests)
    if domains is not None:
        merged["domains"] = domains
    policies = _load_policies(directory / "policies.yml", root, sm, problems, digests)
    if policies is not None:
        merged["network_policies"] = policies
    if any(p.key == "" for p in problems):
        raise InfraError(problems)
    return Document(merged, sm, root, directory_mode=True, problems=problems, digests=digests)


def _load_domain_files(
    directory: Path, root: Path, sm: SourceMap, problems: list[Problem], digests: dict[Path, str]
) -> dict[str, Any] | None:
    """Merge infra/domains/*.yml (sorted by name); a domain defined twice is an error."""
    domains: dict[str, Any] = {}
    owner: dict[str, Path] = {}
    for path in _domain_files(directory, root, digests):
        shown = _relative(path, root)
        part, found = parse_yaml(_read(root, path, digests), shown, sm, ("domains",))
        problems += found
        if part is None:
            continue
        if not isinstance(part, dict):
            problems.append(Problem(shown, 1, "", "must map domain names to domains"))
            continue
        for name, value in part.items():
            if name in owner:
                msg = f"domain defined twice: in {owner[name]} and in {shown}"
                line = sm.locate(("domains", name))[1]
                problems.append(Problem(shown, line, f"domains.{name}", msg))
                continue
            owner[name] = shown
            domains[name] = value
    return domains if owner else None


def _load_policies(path: Path, root: Path, sm: SourceMap, problems: list[Problem], digests: dict[Path, str]) -> Any:
    """Read infra/policies.yml, which holds only ``network_policies``."""
    if safeio.lstat(root, path.relative_to(root)) is None:
        digests[path.relative_to(root)] = ""  # absent: its creation meanwhile is a change
        return None
    shown = _relative(path, root)
    part, found = parse_yaml(_read(root, path, digests), shown, sm)
    problems += found
    if part is None:
        return None
    if not isinstance(part, dict):
        problems.append(Problem(shown, 1, "", "must be a mapping with network_policies"))
        return None
    for key in sorted(set(part) - {"network_policies"}):
        problems.append(Problem(shown, sm.locate((key,))[1], key, "only network_policies may be here"))
    return part.get("network_policies")
