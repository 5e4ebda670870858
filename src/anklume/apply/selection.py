"""Which domains an apply or a check acts on: the names given, checked against the generated inventory."""

from __future__ import annotations

import re
from pathlib import Path

from anklume.engine.model import NAME
from anklume.errors import UsageError

_DOMAIN = re.compile(NAME)


def generated_domains(directory: Path) -> set[str]:
    """The domains ``anklume sync`` wrote an inventory file for (``inventory/<domain>.yml``)."""
    return {p.stem for p in (directory / "inventory").glob("*.yml")}


def select_domains(directory: Path, names: list[str] | None, *, prune: bool = False) -> tuple[str, ...]:
    r"""Return the named domains once each, in order; raise UsageError for an unknown one.

    With ``prune`` a name infra.yml no longer declares is accepted: it selects
    that removed domain's leftovers for deletion. No name: every domain (``()``).

    >>> select_domains(Path("/nonexistent"), None)
    ()
    >>> select_domains(Path("/nonexistent"), ["old", "old"], prune=True)
    ('old',)
    >>> try:
    ...     select_domains(Path("/nonexistent"), ["old\n"], prune=True)
    ... except UsageError:
    ...     print("refused")
    refused
    """
    if not names:
        return ()
    known = generated_domains(directory)
    for name in names:
        if not _DOMAIN.fullmatch(name) or (name not in known and not prune):
            listed = ", ".join(sorted(known)) or "none"
            msg = f"unknown domain '{name}' (generated domains: {listed})"
            raise UsageError(msg)
    return tuple(dict.fromkeys(names))
