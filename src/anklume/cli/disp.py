"""``anklume disp``: a throwaway instance inside a domain, gone when its command or shell ends."""

from __future__ import annotations

import signal
from typing import Annotated

import typer

from anklume.cli import _present
from anklume.cli.context import options
from anklume.errors import UsageError
from anklume.ops.complete import domain_names

_EXTRA = {"allow_extra_args": True, "ignore_unknown_options": True}


def register(app: typer.Typer) -> None:
    """Add ``anklume disp`` to the root command."""
    app.command("disp", context_settings=_EXTRA)(disp_cmd)


def _exit_on_hangup() -> None:
    """Turn SIGTERM and SIGHUP (terminal closed) into an exit, so the disposable is deleted on the way out."""

    def leave(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, leave)


def open_disposable(
    ctx: typer.Context, domain: str, image: str | None, command: list[str], *, wait_network: bool
) -> None:
    """Launch a disposable in ``domain``, run ``command`` (or a shell), delete it; exit with its code."""
    from anklume.ops import disp, live, targets, terminal  # noqa: PLC0415 -- keep CLI start fast

    resolved = targets.load(options(ctx).directory)
    dom = resolved.domains[targets.check_domain(resolved, domain)]
    if not dom.enabled:
        msg = f"domain '{domain}' is disabled (enabled: false)"
        raise UsageError(msg)
    disp.check_image(image or resolved.default_os_image)
    _exit_on_hangup()
    target = disp.launch(dom, resolved.project_name, image or resolved.default_os_image)
    try:
        if wait_network and not disp.wait_network(target):
            _present.warn(f"{target.name}: no IPv4 address on eth0 after 30 s")
        if command:
            rc = live.interactive(live.incus_argv(target, "exec", target.instance, "--", *command))
        else:
            terminal.announce(target.domain, target.name, target.trust)
            try:
                rc = live.interactive(live.incus_argv(target, "exec", target.instance, "-t", "--", "su", "-l"))
            finally:
                terminal.reset()
    finally:
        disp.remove(target)
    raise typer.Exit(rc)


def disp_cmd(
    ctx: typer.Context,
    domain: Annotated[
        str | None, typer.Option("--domain", "-d", help="Domain the disposable joins.", autocompletion=domain_names)
    ] = None,
    image: Annotated[str | None, typer.Option("--image", help="Image (default: the infra's default image).")] = None,
    wait_network: Annotated[
        bool, typer.Option("--network-wait", help="Wait for an IPv4 address on eth0 before running the command.")
    ] = False,
    list_: Annotated[bool, typer.Option("--list", help="List the disposables of this infra.")] = False,
    cleanup: Annotated[
        bool, typer.Option("--cleanup", help="Delete disposables whose anklume command is gone (leftovers).")
    ] = False,
) -> None:
    """Open a throwaway instance inside a domain: its project, bridge, policies and trust colour.

    The disposable runs the command after '--' (exit code passed through), or
    a login shell, and is deleted when it ends. It sits in the domain's
    subnet, so the domain's network policies, NAT setting and host firewall
    apply to it.

    Examples:

      anklume disp --domain perso                         # a shell, gone on exit

      anklume disp --domain perso --network-wait -- curl -sI https://example.org

      anklume disp --domain lab --image anklume/debian-13 -- cat /etc/os-release

      anklume disp --list

      anklume disp --cleanup                              # leftovers of a killed command
    """
    from anklume.ops import disp, targets  # noqa: PLC0415 -- keep CLI start fast

    if list_ or cleanup:
        if domain is not None or ctx.args:
            msg = "--list and --cleanup take no domain or command"
            raise UsageError(msg)
        infra = targets.load(options(ctx).directory).project_name
        found = disp.live(infra)
        if cleanup:
            for gone in disp.cleanup(found):
                _present.out(f"deleted leftover disposable {gone.domain}/{gone.name}")
            return
        rows = [(d.domain, d.name, d.status, d.ip, str(d.pid), "leftover" if d.orphaned else "in use") for d in found]
        _present.table("Disposables", ["domain", "instance", "state", "ip", "pid", "owner"], rows)
        return
    if domain is None:
        msg = "give --domain D (or --list, --cleanup)"
        raise UsageError(msg)
    command = list(ctx.args)
    if command[:1] == ["--"]:
        command = command[1:]
    open_disposable(ctx, domain, image, command, wait_network=wait_network)
