"""``anklume instance``: list, shell, exec, info, start, stop, restart, remove (and ``domain exec``).

Names are the machine names of infra.yml; the Incus project comes from the
infra, so no command takes ``--project``.
"""

from __future__ import annotations

from typing import Annotated

import typer

from anklume.cli import _present
from anklume.cli.context import options
from anklume.errors import UsageError
from anklume.ops.complete import domain_names, instance_names

app = typer.Typer(
    help="Instances of the infra by their infra.yml names: list, shell, exec, info, start/stop, remove, disp.",
    no_args_is_help=True,
)

NameArg = Annotated[str, typer.Argument(help="Machine name from infra.yml.", autocompletion=instance_names)]
NamesArg = Annotated[list[str], typer.Argument(help="Machine names from infra.yml.", autocompletion=instance_names)]
CommandArg = Annotated[list[str], typer.Argument(help="The command and its arguments (after --).")]


@app.command("list")
def list_instances(
    ctx: typer.Context,
    domain: Annotated[
        str | None, typer.Option("--domain", "-d", help="Only this domain.", autocompletion=domain_names)
    ] = None,
) -> None:
    """List declared instances: domain, trust, type, state, IP, protection, provisioning.

    Examples:

      anklume instance list

      anklume instance list --domain pro
    """
    from anklume.ops import live, targets  # noqa: PLC0415 -- keep CLI start fast

    resolved = targets.load(options(ctx).directory)
    chosen = (
        targets.of_domain(resolved, domain)
        if domain
        else sorted(targets.all_targets(resolved).values(), key=lambda t: (t.domain, t.name))
    )
    index = live.by_key(live.all_instances())
    rows = []
    for t in chosen:
        inst = index.get((t.project, t.instance))
        rows.append(
            (
                t.domain,
                t.name,
                t.trust,
                "vm" if t.type == "virtual-machine" else "lxc",
                live.status(inst),
                live.ipv4(inst),
                "yes" if live.is_protected(inst) else "no",
                "yes" if live.is_provisioned(inst) else "no",
            )
        )
    _present.table(
        "Instances", ["domain", "instance", "trust", "type", "state", "ip", "protected", "provisioned"], rows
    )


@app.command("shell")
def shell(ctx: typer.Context, name: NameArg) -> None:
    """Open a login shell in an instance; the terminal title shows its domain and trust colour.

    Examples:

      anklume instance shell pro-dev
    """
    from anklume.ops import live, targets, terminal  # noqa: PLC0415 -- keep CLI start fast

    target = targets.find(targets.load(options(ctx).directory), name)
    terminal.announce(target.domain, target.name, target.trust)
    try:
        rc = live.interactive(live.incus_argv(target, "exec", target.instance, "-t", "--", "su", "-l"))
    finally:
        terminal.reset()
    raise typer.Exit(rc)


@app.command("exec", context_settings={"allow_extra_args": True, "ignore_unknown_options": True}, no_args_is_help=True)
def exec_(ctx: typer.Context, name: NameArg, command: CommandArg) -> None:
    """Run a command in an instance; its exit code is the command's.

    Examples:

      anklume instance exec pro-dev -- uname -a

      anklume instance exec pro-dev -- sh -c 'apt-get update && apt-get -y upgrade'
    """
    from anklume.ops import live, targets  # noqa: PLC0415 -- keep CLI start fast

    target = targets.find(targets.load(options(ctx).directory), name)
    raise typer.Exit(live.interactive(live.incus_argv(target, "exec", target.instance, "--", *command)))


@app.command("info")
def info(ctx: typer.Context, name: NameArg) -> None:
    """Show an instance's domain, project and trust, then Incus's own details.

    Example: anklume instance info pro-dev
    """
    from anklume.ops import live, targets  # noqa: PLC0415 -- keep CLI start fast

    target = targets.find(targets.load(options(ctx).directory), name)
    _present.out(f"domain: {target.domain}  project: {target.project}  trust: {target.trust}")
    raise typer.Exit(live.interactive(live.incus_argv(target, "info", target.instance)))


def _power(ctx: typer.Context, verb: str, names: list[str]) -> None:
    from anklume.ops import live, targets  # noqa: PLC0415 -- keep CLI start fast

    resolved = targets.load(options(ctx).directory)
    failed = 0
    for target in [targets.find(resolved, n) for n in dict.fromkeys(names)]:
        rc = live.interactive(live.incus_argv(target, verb, target.instance))
        if rc == 0:
            _present.info(f"{verb}: {target.domain}/{target.name}")
        failed += rc != 0
    if failed:
        raise typer.Exit(1)


@app.command("start")
def start(ctx: typer.Context, names: NamesArg) -> None:
    """Start instances.

    Example: anklume instance start pro-dev perso-web
    """
    _power(ctx, "start", names)


@app.command("stop")
def stop(ctx: typer.Context, names: NamesArg) -> None:
    """Stop instances (an ephemeral instance is deleted by Incus when it stops).

    Example: anklume instance stop pro-dev
    """
    _power(ctx, "stop", names)


@app.command("restart")
def restart(ctx: typer.Context, names: NamesArg) -> None:
    """Restart instances.

    Example: anklume instance restart pro-dev
    """
    _power(ctx, "restart", names)


@app.command("remove")
def remove(
    ctx: typer.Context,
    name: NameArg,
    force: Annotated[bool, typer.Option("--force", help="Also remove a protected instance.")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete an instance (its root disk and snapshots); refuses a protected one without --force.

    Host directories of shared volumes and persistent data, and custom storage
    volumes, are kept. infra.yml still declares the machine: the next
    'domain apply' creates it again, empty.

    Examples:

      anklume instance remove perso-tmp

      anklume instance remove pro-dev --force --yes
    """
    from anklume.ops import instances, live, targets  # noqa: PLC0415 -- keep CLI start fast

    target = targets.find(targets.load(options(ctx).directory), name)
    inst = live.by_key(live.all_instances()).get((target.project, target.instance))
    if inst is None:
        msg = f"instance {target.domain}/{target.name} does not exist (nothing to remove)"
        raise UsageError(msg)
    protected = live.is_protected(inst)
    if protected and not force:
        _present.error(
            f"{target.domain}/{target.name} is protected (ephemeral: false); removing it loses its root disk "
            "and snapshots. Add --force to remove it anyway."
        )
        raise typer.Exit(1)
    _present.out(instances.loss_note(target, inst))
    if not yes and not typer.confirm(f"Remove {target.domain}/{target.name}?", default=False):
        raise typer.Exit(1)
    instances.remove(target, unprotect=protected)
    _present.info(f"removed {target.domain}/{target.name}")


@app.command("disp", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def disp_alias(
    ctx: typer.Context,
    domain: Annotated[
        str, typer.Option("--domain", "-d", help="Domain the disposable joins.", autocompletion=domain_names)
    ],
    image: Annotated[str | None, typer.Option("--image", help="Image (default: the infra's default image).")] = None,
    command: Annotated[list[str] | None, typer.Argument(help="Command to run (after --); none: a shell.")] = None,
    wait_network: Annotated[
        bool, typer.Option("--network-wait", help="Wait for an IPv4 address on eth0 before running the command.")
    ] = False,
) -> None:
    """Same as 'anklume disp --domain D [-- CMD…]'.

    Example: anklume instance disp --domain perso -- curl -sI https://example.org
    """
    from anklume.cli.disp import open_disposable  # noqa: PLC0415 -- imported only when used

    open_disposable(ctx, domain, image, command or [], wait_network=wait_network)
