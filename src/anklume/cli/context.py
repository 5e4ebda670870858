"""Options shared by every command: the infra directory (``-C DIR``) and ``--yolo``."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from anklume.engine.host import YOLO_ENV


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


def _yolo(value: bool) -> bool:
    """Export ``--yolo`` to this process and its children (the playbook runs ``anklume network deploy``)."""
    if value:
        os.environ[YOLO_ENV] = "1"
    return value


#: ``--yolo`` of every command that reads the infra (see docs/SPEC.md, "What needs --yolo").
YoloOpt = Annotated[
    bool,
    typer.Option(
        "--yolo",
        help="Accept privilege and isolation escapes declared in the infra for this run (warnings, not errors).",
        callback=_yolo,
    ),
]
