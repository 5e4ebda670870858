"""Stage 1: read infra.yml or infra/ into plain data with a source map.

The loader keeps, for every mapping key and sequence item, the file and
1-based line it came from, so later stages can point at the exact place of
a problem. Duplicate keys and YAML syntax errors are reported as problems,
never as tracebacks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from anklume.engine import safeio
from anklume.engine.sources import SourceChangedError, changed_sources, domain_files, find_source, read_source
from anklume.engine.yamlsrc import KeyPath, SourceMap, dotted, parse_yaml
from anklume.errors import InfraError, Problem

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
    sources: dict[Path, bytes | None] = field(default_factory=dict)  # each source as read (None: absent)


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
    seen: dict[Path, bytes | None] = {}
    data, problems = parse_yaml(read_source(root, path, seen), shown, sm)
    if not problems:
        problems = _expect_mapping(data, shown, "the file")
    if any(p.key == "" for p in problems):  # nothing usable: syntax error or not a mapping
        raise InfraError(problems)
    return Document(data, sm, root, directory_mode=False, problems=problems, sources=seen)


def _expect_mapping(data: Any, file: Path, what: str) -> list[Problem]:
    if data is None:
        return [Problem(file, None, "", f"{what} is empty; expected a mapping of keys")]
    if not isinstance(data, dict):
        kind = type(data).__name__
        return [Problem(file, 1, "", f"{what} must be a mapping of keys, got a {kind}")]
    return []


def _load_directory(directory: Path, root: Path) -> Document:
    base_path = directory / "base.yml"
    shown = _relative(base_path, root)
    sm = SourceMap(default_file=shown)
    if safeio.lstat(root, base_path.relative_to(root)) is None:
        raise InfraError([Problem(shown, None, "", "missing (required in infra/)")])
    seen: dict[Path, bytes | None] = {}
    data, problems = parse_yaml(read_source(root, base_path, seen), shown, sm)
    if not problems:
        problems = _expect_mapping(data, shown, "base.yml")
    merged: dict[str, Any] = data if isinstance(data, dict) else {}
    hint = "domains go in infra/domains/*.yml, network_policies and file_policies in infra/policies.yml"
    for key in sorted(set(merged) - DIR_BASE_KEYS):
        problems.append(sm.problem((key,), "not allowed in base.yml", hint))
    domains = _load_domain_files(directory, root, sm, problems, seen)
    if domains is not None:
        merged["domains"] = domains
    merged.update(_load_policies(directory / "policies.yml", root, sm, problems, seen))
    if any(p.key == "" for p in problems):
        raise InfraError(problems)
    return Document(merged, sm, root, directory_mode=True, problems=problems, sources=seen)


def _load_domain_files(
    directory: Path, root: Path, sm: SourceMap, problems: list[Problem], seen: dict[Path, bytes | None]
) -> dict[str, Any] | None:
    """Merge infra/domains/*.yml (sorted by name); a domain defined twice is an error."""
    domains: dict[str, Any] = {}
    owner: dict[str, Path] = {}
    for path in domain_files(directory, root, seen):
        shown = _relative(path, root)
        part, found = parse_yaml(read_source(root, path, seen), shown, sm, ("domains",))
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


POLICY_KEYS = ("network_policies", "file_policies")


def _load_policies(
    path: Path, root: Path, sm: SourceMap, problems: list[Problem], seen: dict[Path, bytes | None]
) -> dict[str, Any]:
    """Read infra/policies.yml, which holds only ``network_policies`` and ``file_policies``."""
    if safeio.lstat(root, path.relative_to(root)) is None:
        seen[path.relative_to(root)] = None  # absent: its creation meanwhile is a change
        return {}
    shown = _relative(path, root)
    part, found = parse_yaml(read_source(root, path, seen), shown, sm)
    problems += found
    if part is None:
        return {}
    if not isinstance(part, dict):
        problems.append(Problem(shown, 1, "", "must be a mapping with network_policies and/or file_policies"))
        return {}
    for key in sorted(set(part) - set(POLICY_KEYS)):
        problems.append(
            Problem(shown, sm.locate((key,))[1], key, "only network_policies and file_policies may be here")
        )
    return {key: part[key] for key in POLICY_KEYS if part.get(key) is not None}
