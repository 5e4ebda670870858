"""``anklume console``: one tmux session, a window per domain, coloured by trust level."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer

from anklume.cli import _present
from anklume.cli.context import YoloOpt, options
from anklume.console.layout import Layout, ResolvedLike, describe, layout_from, running_only

app = typer.Typer()

_TMUX_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


def _tmux_name(value: str | None) -> str | None:
    if value is not None and not _TMUX_NAME.match(value):
        msg = f"{value!r}: use letters, digits, '-' and '_' only"
        raise typer.BadParameter(msg)
    return value


def _resolve(directory: Path) -> ResolvedLike:
    from anklume.engine.pipeline import resolve  # noqa: PLC0415 -- keep CLI start fast

    resolved: ResolvedLike = resolve(directory, check_roles=False)
    return resolved


def _running(layout: Layout) -> Layout:
    from anklume.console.running import running_instances  # noqa: PLC0415 -- only when syncing

    return running_only(layout, running_instances())


@app.callback(invoke_without_command=True)
def console(
    ctx: typer.Context,
    domain: Annotated[str | None, typer.Option("--domain", "-d", help="Only this domain's window.")] = None,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Print the layout of every declared machine; touch nothing."),
    ] = False,
    kill: Annotated[bool, typer.Option("--kill", help="Kill the console session.")] = False,
    session: Annotated[str, typer.Option("--session", help="tmux session name.", callback=_tmux_name)] = "anklume",
    socket_name: Annotated[
        str | None,
        typer.Option("--socket-name", "-L", help="tmux server socket name (tmux -L).", callback=_tmux_name),
    ] = None,
    attach: Annotated[
        bool,
        typer.Option("--attach/--no-attach", help="Attach when run in a terminal (default) or only print how."),
    ] = True,
    yolo: YoloOpt = False,  # read through ANKLUME_YOLO, which the option sets
) -> None:
    """Open a tmux session: a window per domain, a pane per running machine.

    Panes and borders are coloured by trust level (admin blue, trusted green,
    semi-trusted yellow, untrusted red, disposable magenta) by the tmux server,
    so nothing inside a machine can change them. Re-running adds panes for
    machines started since, without duplicating the session.

    Examples:

      anklume console                  # every enabled domain

      anklume console --domain pro     # only the pro window

      anklume console --dry-run        # print the layout

      anklume console --kill
    """
    if ctx.invoked_subcommand is not None:
        return
    if kill:
        from anklume.console.tmux import Tmux  # noqa: PLC0415 -- needs libtmux

        gone = Tmux(socket_name).kill_session(session)
        _present.out(f"killed session {session}" if gone else f"no session {session}")
        return
    layout = layout_from(_resolve(options(ctx).directory), domain=domain)
    if dry_run:
        _present.out(f"session {session}: every declared machine (running state not checked)")
        for line in describe(layout, state="declared"):
            _present.out(line)
        return
    _open(_running(layout), session, socket_name, attach=attach)


def _open(layout: Layout, session: str, socket_name: str | None, *, attach: bool) -> None:
    from anklume.console.session import sync  # noqa: PLC0415 -- needs libtmux
    from anklume.console.tmux import Tmux, attach_argv  # noqa: PLC0415 -- needs libtmux

    report = sync(Tmux(socket_name), layout, session=session)
    verb = "created" if report.created else "updated"
    added = ", ".join(report.panes_added) or "none"
    _present.info(f"session {session} {verb}; new panes: {added}")
    argv = attach_argv(socket_name, session, inside_tmux=bool(os.environ.get("TMUX")))
    if attach and sys.stdin.isatty() and sys.stdout.isatty():
        rc = subprocess.run(argv, check=False).returncode
        raise typer.Exit(rc)
    _present.out(f"attach with: {shlex.join(argv)}")
