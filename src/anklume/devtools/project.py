"""Locate the anklume source tree and run its own Makefile targets."""

from __future__ import annotations

import subprocess
from pathlib import Path

import anklume
from anklume.devtools.tools import find
from anklume.errors import UsageError

MAKE_TARGETS = ("lint", "test", "unit", "e2e", "molecule")


def is_source_root(path: Path) -> bool:
    """Tell whether ``path`` is the root of the anklume source tree."""
    return (path / "Makefile").is_file() and (path / "src" / "anklume" / "__init__.py").is_file()


def source_root(start: Path) -> Path:
    """Return the source tree holding ``start``, else the one this package was installed from."""
    start = start.resolve()
    for candidate in (start, *start.parents):
        if is_source_root(candidate):
            return candidate
    installed = Path(anklume.__file__).resolve().parents[2]
    if is_source_root(installed):
        return installed
    msg = f"{start} is not inside the anklume source tree (no Makefile with src/anklume/ above it)"
    raise UsageError(msg)


def make(root: Path, target: str) -> int:
    """Run ``make TARGET`` in the source tree, output to the terminal; return its exit code."""
    if target not in MAKE_TARGETS:
        msg = f"unknown make target {target!r} (expected one of: {', '.join(MAKE_TARGETS)})"
        raise UsageError(msg)
    return subprocess.run([find("make"), target], cwd=root, check=False).returncode
