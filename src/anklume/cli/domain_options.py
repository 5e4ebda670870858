"""Options and checks shared by ``anklume domain apply`` and ``anklume domain check``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from anklume.cli import _present

AdoptOpt = Annotated[
    bool,
    typer.Option(
        "--adopt",
        help="Take over declared names held by resources anklume did not create (marks them as anklume's).",
    ),
]
CommandsOpt = Annotated[
    bool,
    typer.Option("--verbose", "-v", help="Also print the incus commands each change runs (argv, and stdin)."),
]


def warn_yolo(directory: Path, yolo: bool) -> None:
    """With ``--yolo``, show what it lets through before the run (the run itself is quiet about it)."""
    if not yolo:
        return
    from anklume.engine.pipeline import resolve  # noqa: PLC0415 -- keep CLI start fast

    for text in resolve(directory, yolo=True, check_roles=False).warnings:
        _present.warn(text)
