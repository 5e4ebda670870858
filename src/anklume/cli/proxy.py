"""``anklume proxy``: the host's package proxy (apt, pip, npm) for the domains with ``package_proxy: true``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from anklume.cli import _present
from anklume.cli.context import options

if TYPE_CHECKING:
    from anklume.proxy.setup import Outcome

app = typer.Typer(
    help="The host's package proxy: apt (Debian), pip (PyPI) and npm for the domains that opt in.",
    no_args_is_help=True,
)


def _table(ctx: typer.Context) -> tuple[object, str]:
    from anklume.engine.pipeline import resolve  # noqa: PLC0415 -- keep CLI start fast
    from anklume.network.deploy import table  # noqa: PLC0415 -- keep CLI start fast

    resolved = resolve(options(ctx).directory, check_roles=False)
    return resolved, table(resolved)


def _report(done: Outcome) -> None:
    for name in done.installed:
        _present.info(f"installed {name}")
    for name in done.stopped:
        _present.info(f"stopped {name}")
    for name in done.started:
        _present.info(f"started {name}")
    for line in done.serving:
        _present.info(f"serving domain {line}")
    _present.out(f"changed={str(done.changed).lower()}")  # one machine-readable line for the role


@app.command("setup")
def setup_cmd(ctx: typer.Context) -> None:
    """Install, configure and start the proxy for the domains that opt in (root); stop it when none does.

    Installs what is missing (apt-cacher-ng from Debian, proxpi from PyPI,
    verdaccio from npm), listens only on the gateways of the domains with
    package_proxy true, and restarts only what changed. `domain apply` runs
    it. The last line says changed=true or changed=false.

    Example: sudo anklume proxy setup
    """
    from anklume.apply.lock import infra_lock  # noqa: PLC0415 -- keep CLI start fast
    from anklume.proxy.setup import setup  # noqa: PLC0415 -- keep CLI start fast

    ctx.with_resource(infra_lock(options(ctx).directory))
    resolved, table = _table(ctx)
    _report(setup(resolved, table))  # type: ignore[arg-type]  # _table returns the Resolved it read


@app.command("stop")
def stop_cmd(
    ctx: typer.Context,
    remove: Annotated[bool, typer.Option("--remove", help="Also delete its configuration and caches.")] = False,
) -> None:
    """Stop this infra's proxy (and disable its units).

    Examples:

      sudo anklume proxy stop

      sudo anklume proxy stop --remove     # caches too
    """
    from anklume.proxy.setup import stop  # noqa: PLC0415 -- keep CLI start fast

    _, table = _table(ctx)
    _report(stop(table, remove=remove))


@app.command("start")
def start_cmd() -> None:
    """Start every package proxy set up on this host: the boot command where systemd is not PID 1.

    Example (in the boot sequence, after Incus started): anklume proxy start
    """
    from anklume.proxy.setup import start_all  # noqa: PLC0415 -- keep CLI start fast

    for line in start_all():
        _present.info(f"started {line}")


@app.command("status")
def status_cmd(ctx: typer.Context) -> None:
    """Say whether each daemon of this infra's proxy answers: exit 0 when all do, 1 otherwise.

    Example: anklume proxy status
    """
    from anklume.proxy.setup import status  # noqa: PLC0415 -- keep CLI start fast

    _, table = _table(ctx)
    rows = status(table)
    if not rows:
        _present.out(f"no package proxy set up for table {table}")
        return
    _present.table(
        "package proxy",
        ["daemon", "address", "state"],
        [(d.name, f"{d.listen[0]}:{d.listen[1]}", "answers" if ok else "DOWN") for d, ok in rows],
    )
    if not all(ok for _, ok in rows):
        raise typer.Exit(1)
