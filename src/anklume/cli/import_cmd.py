"""``anklume import``: write an infra.yml from the projects and instances already in Incus."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from anklume.cli import _present
from anklume.cli.context import options


def import_infra(
    ctx: typer.Context,
    projects: Annotated[
        list[str] | None,
        typer.Option("--project", "-p", help="Incus project to import (repeat; default: every one but 'default')."),
    ] = None,
    output: Annotated[
        str, typer.Option("--output", "-o", help="File to write, inside the infra directory ('-': print it).")
    ] = "infra.yml",
    force: Annotated[bool, typer.Option("--force", help="Replace the output file when it exists.")] = False,
    name: Annotated[
        str | None,
        typer.Option(
            "--name", help="project_name of the infra (default: the projects' owner or the directory's name)."
        ),
    ] = None,
    include_config: Annotated[
        list[str] | None,
        typer.Option(
            "--include-config",
            help="Also export config keys matching this pattern (repeat), e.g. 'environment.*'; "
            "by default keys that may hold secrets are left out and named.",
        ),
    ] = None,
) -> None:
    """Write an infra.yml describing what already runs in Incus.

    Each project becomes a domain (its bridge net-<domain> gives the subnet,
    its instances the machines, with type, image, IP, profiles, config and
    devices). Then 'anklume sync' and 'anklume domain check --adopt' show
    what taking them over would change: nothing is created.

    Config keys that may hold secrets (environment.*, cloud-init.*, user.*,
    raw.* and unknown keys) are left out and listed by name, never printed.

    Examples:

      anklume import                        # every project but 'default', into ./infra.yml

      anklume -C ~/lab import -p lab -p dev -o infra.yml --force

      anklume import -p lab -o -            # print it
    """
    from anklume.importer.service import run_import  # noqa: PLC0415 -- keep CLI start fast

    directory = options(ctx).directory
    result = run_import(
        directory,
        projects=projects or [],
        out=None if output == "-" else Path(output),
        force=force,
        name=name,
        include=include_config or [],
    )
    for text in result.warnings:
        _present.warn(text)
    if result.path is None:
        _present.raw(result.text)
        return
    _present.out(f"wrote {result.path}: {result.domains} domain(s), {result.machines} machine(s)")
    _present.out("next: anklume sync && anklume domain check --adopt")
