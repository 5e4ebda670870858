"""Options and helpers shared by the ``anklume backup`` commands."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from anklume.cli import _present
from anklume.ops.complete import domain_names

if TYPE_CHECKING:
    from anklume.backup.gpg import Secret

PassOpt = Annotated[
    Path | None,
    typer.Option("--passphrase-file", help="File whose first line is the passphrase (never given on a command line)."),
]
DomainOpt = Annotated[
    str | None, typer.Option("--domain", "-d", help="A domain of infra.yml.", autocompletion=domain_names)
]
MIB = 1024 * 1024


def progress_of(label: str) -> Callable[[int], None]:
    """A progress callback that says ``label: N MiB``."""

    def show(done: int) -> None:
        _present.info(f"{label}: {done / MIB:.0f} MiB")

    return show


def read_secret(path: Path | None) -> Secret | None:
    """The passphrase of ``--passphrase-file`` (None without one); warns when others can read the file."""
    from anklume.backup import gpg  # noqa: PLC0415 -- keep CLI start fast

    if path is None:
        return None
    secret, shared = gpg.read_passphrase(path)
    if shared:
        _present.warn(f"passphrase file {path} can be read by other users (chmod 600 it)")
    return secret
