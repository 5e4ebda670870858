"""``anklume network``: the infra's host table, its drift, its boot restore, and proof by real traffic."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from anklume.cli import _present
from anklume.cli.context import YoloOpt, options

if TYPE_CHECKING:
    from anklume.engine.resolved import Resolved
    from anklume.network.verify.run import Report

app = typer.Typer(
    help="Network isolation: print, deploy and check the host nftables table; prove it with real traffic.",
    no_args_is_help=True,
)


def _resolved(ctx: typer.Context) -> Resolved:
    from anklume.engine.pipeline import resolve  # noqa: PLC0415 -- keep CLI start fast

    return resolve(options(ctx).directory, check_roles=False)


@app.command("rules")
def rules(
    ctx: typer.Context,
    for_router: Annotated[
        bool, typer.Option("--router", help="Print the firewall instance's ruleset (firewall_mode: vm).")
    ] = False,
    yolo: YoloOpt = False,  # read through ANKLUME_YOLO, which the option sets
) -> None:
    """Print the ruleset that deploy would load (nothing is changed).

    Examples:

      anklume network rules

      anklume network rules --router > firewall.nft
    """
    from anklume.network import deploy, router  # noqa: PLC0415 -- keep CLI start fast

    resolved = _resolved(ctx)
    if for_router:
        _present.raw(router.render(resolved))
        return
    ruleset = deploy.intended(resolved)
    for warning in ruleset.warnings:
        _present.warn(warning)
    _present.raw(ruleset.text)


@app.command("deploy")
def deploy_cmd(ctx: typer.Context, yolo: YoloOpt = False) -> None:  # read through ANKLUME_YOLO
    """Check and load the infra's table atomically, write its boot file, install its boot hook (root).

    Only this infra's table is replaced (and the shared inet anklume of an
    earlier version, when it held this infra); no other table is flushed or
    changed. Bridges of removed domains stay fenced until pruned.
    The last line of the output says changed=true when the table, its boot
    file or the boot unit changed.

    Example: sudo anklume network deploy
    """
    from anklume.apply.lock import infra_lock  # noqa: PLC0415 -- keep CLI start fast
    from anklume.network.deploy_host import deploy_host  # noqa: PLC0415 -- keep CLI start fast

    ctx.with_resource(infra_lock(options(ctx).directory))  # one sync/deploy/apply per infra at a time
    done = deploy_host(_resolved(ctx))
    for warning in done.warnings:
        _present.warn(warning)
    for line in done.lines:
        _present.info(line)
    # one machine-readable line for scripts
    _present.out(f"changed={str(done.changed).lower()}")


@app.command("status")
def status(ctx: typer.Context, yolo: YoloOpt = False) -> None:  # read through ANKLUME_YOLO
    """Compare the live table with the intended one: exit 0 in sync, 3 on drift (with the diff).

    Also reports other tables whose forward/input chains drop by default
    (Docker's, for example), which would drop flows anklume allows.

    Example: sudo anklume network status
    """
    from anklume.network import deploy, layer_live  # noqa: PLC0415 -- keep CLI start fast

    resolved = _resolved(ctx)
    state, gap = deploy.status(resolved), layer_live.gap(resolved)  # gap: rules of the second layer missing
    for text in state.explanations:
        _present.warn(text)
    if gap:
        _present.out(gap)
    if state.in_sync:
        _present.out(f"table inet {state.table}: in sync")
        if gap:
            raise typer.Exit(3)
        return
    if not state.present:
        old = " (the shared table inet anklume of an earlier version holds this infra: deploy migrates it)"
        _present.out(f"table inet {state.table}: missing (run 'anklume network deploy'){old if state.legacy else ''}")
    else:
        _present.out(f"table inet {state.table}: drift")
        _present.raw(state.diff)
    raise typer.Exit(3)


@app.command("restore")
def restore_cmd() -> None:
    """Load every anklume table from its boot rules file (the boot command where systemd is not PID 1).

    Each file of /etc/anklume/nftables.d (or $ANKLUME_ETC/nftables.d)
    replaces only its own table; then the second layer's ip rules of every
    infra come back. Exit 1 when there is no table file, or when one fails
    (after loading the others). Needs no infra directory.

    Example: sudo anklume network restore
    """
    from anklume.network import deploy, layer_live, restore  # noqa: PLC0415 -- keep CLI start fast

    done = restore.restore(deploy.rules_dir())
    for item in done:
        if item.error:
            _present.error(f"table inet {item.table} NOT restored from {item.path}: {item.error}")
        else:
            _present.out(f"table inet {item.table} restored from {item.path}")
    added = layer_live.restore()  # the second isolation layer (ip rules), idempotent
    _present.out(f"second layer: {added} rule(s) restored from {layer_live.rules_dir()}")
    if any(item.error for item in done):
        raise typer.Exit(1)


@app.command("verify")
def verify(
    ctx: typer.Context,
    max_probes: Annotated[int, typer.Option("--max-probes", min=1, max=2000, help="Upper bound on probes.")] = 400,
    show_all: Annotated[bool, typer.Option("--all", help="List every probe, not only failures.")] = False,
    yolo: YoloOpt = False,  # read through ANKLUME_YOLO, which the option sets
) -> None:
    """Prove the policy with real packets between running instances: exit 0 when all behave, 1 otherwise.

    For each ordered pair of domains, each policy's ports and each domain to
    the host, a listener starts in the target and a probe is sent from the
    source. Only anklume instance IPs and anklume bridge gateways are probed.

    Examples:

      sudo anklume network verify

      sudo anklume network verify --all
    """
    from anklume.network.verify.run import verify as run_verify  # noqa: PLC0415 -- keep CLI start fast

    report = run_verify(_resolved(ctx), limit=max_probes)
    if not present_report(report, show_all=show_all):
        raise typer.Exit(1)


def present_report(report: Report, *, show_all: bool = False) -> bool:
    """Print a verify report (failures, or every probe); return whether it passed."""
    rows = [
        (
            f"{o.probe.source.machine} ({o.probe.source.domain})",
            o.probe.target_label,
            f"{o.probe.protocol}/{o.probe.port}",
            "allow" if o.probe.expected else "block",
            {True: "reached", False: "blocked", None: "-"}[o.observed],
            o.verdict,
        )
        for o in report.outcomes
        if show_all or o.verdict != "ok"
    ]
    if rows:
        _present.table("Probes", ["from", "to", "service", "expected", "observed", "verdict"], rows)
    for note in report.notes:
        _present.info(note)
    _present.out(
        f"{len(report.outcomes)} probes in {report.seconds:.1f} s: {report.count('ok')} ok, "
        f"{report.count('LEAK')} leaks, {report.count('BLOCKED')} blocked allowed flows, "
        f"{report.count('skipped')} skipped"
        + (f" ({report.left_out} left out by --max-probes)" if report.left_out else "")
    )
    return report.passed
