"""Import from Incus into an infra.yml: read, build, check the names, write."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from anklume.engine.host import etc_dir
from anklume.errors import UsageError
from anklume.importer import live, output
from anklume.importer.build import build

_PROJECT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
HINT = "leave a project out with --project, or rename in Incus (incus rename, incus project rename)"


@dataclass
class Result:
    """What the import wrote and what the user should know."""

    text: str
    path: Path | None
    domains: int
    machines: int
    warnings: list[str] = field(default_factory=list)


def project_name(given: str | None, marks: Mapping[str, str], directory: Path) -> str:
    """The infra's ``project_name``: given, else the one owner mark all projects share, else the directory's name.

    >>> project_name(None, {"a": "lab", "b": "lab"}, Path("/x/y"))
    'lab'
    >>> project_name(None, {"a": "", "b": "lab"}, Path("/x/my-infra"))
    'my-infra'
    >>> project_name(None, {}, Path("/x/-bad"))
    'imported'
    """
    if given is not None:
        if not _PROJECT_NAME.match(given):
            msg = f"invalid --name {given!r} (letters, digits, '_', '.' and '-', starting with a letter or digit)"
            raise UsageError(msg)
        return given
    owners = set(marks.values())
    if len(owners) == 1 and (only := owners.pop()) and _PROJECT_NAME.match(only):
        return only
    return directory.name if _PROJECT_NAME.match(directory.name) else "imported"


def nesting_prefix() -> str:
    """The nesting prefix of this host's Incus names (``NNN-``), '' outside a nested anklume."""
    try:
        text = (etc_dir() / "absolute_level").read_text(encoding="utf-8").strip()
    except OSError:
        return ""
    return f"{int(text):03d}-" if text.isdigit() else ""


def run_import(
    directory: Path,
    *,
    projects: Sequence[str],
    out: Path | None,
    force: bool,
    name: str | None,
    include: Sequence[str],
) -> Result:
    """Build the infra.yml of the chosen projects; write it unless ``out`` is None (then only return it)."""
    found, networks, marks, left = live.read(projects)
    imported = build(
        found, networks, project_name=project_name(name, marks, directory), prefix=nesting_prefix(), include=include
    )
    if imported.problems:
        lines = "\n  ".join(imported.problems)
        msg = f"{len(imported.problems)} name(s) or key(s) anklume cannot use:\n  {lines}\n{HINT}"
        raise UsageError(msg)
    warnings = list(imported.notes.warnings)
    for where, keys in imported.notes.withheld.items():
        warnings.append(
            f"{where}: config keys left out (they may hold secrets): {', '.join(keys)}; "
            "an apply removes them unless you add them to infra.yml or import with --include-config 'PATTERN'"
        )
    if left:
        warnings.append(f"project default: {left} instance(s) not imported (Incus's own project cannot be a domain)")
    text = output.render(imported.document, [p.name for p in found])
    path = output.write(directory, out, text, force=force) if out is not None else None
    domains = imported.document["domains"]
    count = sum(len(d["machines"]) for d in domains.values())
    return Result(text, path, len(domains), count, warnings)
