"""``anklume domain exec``: one command on every running machine of a domain (registered on ``domain``)."""

from __future__ import annotations

from typing import Annotated

import typer

from anklume.cli import _present
from anklume.cli.context import options
from anklume.errors import UsageError
from anklume.ops.complete import domain_names


def domain_exec(
    ctx: typer.Context,
    domain: Annotated[str, typer.Argument(help="Domain from infra.yml.", autocompletion=domain_names)],
    command: Annotated[list[str], typer.Argument(help="The command and its arguments (after --).")],
) -> None:
    """Run a command on every running machine of a domain; output lines prefixed by machine.

    Exit 1 when it fails on any machine; stopped machines are skipped and named.

    Examples:

      anklume domain exec pro -- uptime

      anklume domain exec pro -- sh -c 'df -h /'
    """
    from anklume.ops import domain_exec as dexec  # noqa: PLC0415 -- keep CLI start fast
    from anklume.ops import live, targets  # noqa: PLC0415 -- imported only when used

    chosen = targets.of_domain(targets.load(options(ctx).directory), domain)
    index = live.by_key(live.all_instances())
    running = [t for t in chosen if live.status(index.get((t.project, t.instance))) == "running"]
    for t in chosen:
        if t not in running:
            _present.warn(f"{t.domain}/{t.name} is not running: skipped")
    if not running:
        msg = f"no running machine in domain '{domain}'"
        raise UsageError(msg)
    codes = dexec.run_on(running, command)
    failed = {n: rc for n, rc in codes.items() if rc != 0}
    for name, rc in failed.items():
        _present.error(f"{name}: exit {rc}")
    if failed:
        raise typer.Exit(1)


def register(domain_app: typer.Typer) -> None:
    """Add ``exec`` to the ``domain`` command group."""
    domain_app.command(
        "exec", context_settings={"allow_extra_args": True, "ignore_unknown_options": True}, no_args_is_help=True
    )(domain_exec)
