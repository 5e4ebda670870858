"""Options shared by every command: the infra directory (``-C DIR``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import typer


@dataclass(frozen=True)
class Options:
    """Global options parsed by the top-level callback."""

    directory: Path
    verbose: int = 0


def options(ctx: typer.Context) -> Options:
    """Return the global options stored on the root context."""
    root = ctx.find_root()
    obj = root.obj
    if isinstance(obj, Options):
        return obj
    return Options(directory=Path.cwd())
