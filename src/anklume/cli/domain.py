"""``anklume domain``: list, apply, check and status of domains."""

from __future__ import annotations

from typing import Annotated

import typer

from anklume.apply.selection import select_domains
from anklume.cli import _present, plan_view
from anklume.cli.context import YoloOpt, options
from anklume.cli.domain_options import AdoptOpt, CommandsOpt, warn_yolo
from anklume.cli.snapshot_option import NoSnapshotOpt
from anklume.errors import UsageError

app = typer.Typer(
    help="Domains: list them, reconcile Incus with them (apply), preview (check), compare (status).",
    no_args_is_help=True,
)

DomainsArg = Annotated[
    list[str] | None,
    typer.Argument(help="Domains to reconcile (default: every enabled domain).", show_default=False),
]


@app.command("list")
def list_domains(ctx: typer.Context, *, yolo: YoloOpt = False) -> None:
    """Print a table of the declared domains.

    Example: anklume domain list
    """
    from anklume.engine.pipeline import resolve  # noqa: PLC0415 -- keep CLI start fast

    resolved = resolve(options(ctx).directory, yolo=yolo)
    for text in resolved.warnings:
        _present.warn(text)
    rows = [
        (
            d.name,
            d.trust_level,
            d.subnet,
            str(len(d.machines)),
            "yes" if d.enabled else "no",
        )
        for d in resolved.domains.values()
    ]
    _present.table("Domains", ["domain", "trust", "subnet", "machines", "enabled"], rows)


def _split(values: list[str] | None) -> tuple[str, ...]:
    """Accept ``--tags a,b`` as well as ``--tags a --tags b``."""
    return tuple(v.strip() for raw in values or [] for v in raw.split(",") if v.strip())


@app.command("apply")
def apply(
    ctx: typer.Context,
    *,
    domains: DomainsArg = None,
    prune: Annotated[
        bool,
        typer.Option(
            "--prune",
            help="Delete anklume-owned resources infra.yml no longer declares (never protected ones).",
        ),
    ] = False,
    recreate: Annotated[
        bool,
        typer.Option("--recreate", help="Recreate instances whose type or image changed (after a backup)."),
    ] = False,
    adopt: AdoptOpt = False,
    tags: Annotated[
        list[str] | None,
        typer.Option("--tags", help="Only run tasks with these Ansible tags (comma-separated)."),
    ] = None,
    limit: Annotated[str | None, typer.Option("--limit", help="Ansible host pattern limiting provisioning.")] = None,
    no_provision: Annotated[
        bool, typer.Option("--no-provision", help="Reconcile Incus only; skip provisioning inside instances.")
    ] = False,
    force_provision: Annotated[
        bool,
        typer.Option("--force-provision", help="Provision every instance even when its fingerprint is unchanged."),
    ] = False,
    verify: Annotated[
        bool,
        typer.Option("--verify", help="Then prove the isolation with real packets (anklume network verify)."),
    ] = False,
    no_snapshot: NoSnapshotOpt = False,
    yolo: YoloOpt = False,
) -> None:
    """Reconcile Incus with the generated files, then provision the instances.

    Order: host firewall, images, projects, networks, profiles, instances, then
    the roles of each machine. Prints what changed, then warns about what the
    plan left alone on purpose (needs-recreate, orphans).

    Examples:

      anklume domain apply

      anklume domain apply pro --no-provision

      anklume domain apply --prune --verify

      anklume domain apply --yolo      # accept what docs/SPEC.md lists under "What needs --yolo"
    """
    from anklume.apply.runner import PlaybookRequest  # noqa: PLC0415 -- keep CLI start fast
    from anklume.apply.service import apply_infra  # noqa: PLC0415 -- keep CLI start fast

    opts = options(ctx)
    if no_provision and force_provision:
        msg = "--no-provision and --force-provision contradict each other"
        raise UsageError(msg)
    req = PlaybookRequest(
        domains=select_domains(opts.directory, domains, prune=prune),
        prune=prune,
        recreate=recreate,
        adopt=adopt,
        tags=_split(tags),
        limit=limit,
        provision=not no_provision,
        force_provision=force_provision,
        snapshot=not no_snapshot,
        verbose=opts.verbose,
    )
    warn_yolo(opts.directory, yolo)
    outcome, plan = apply_infra(opts.directory, req)
    summary = outcome.summary
    count = len(summary.changes)
    _present.info(f"apply done: {count} change{'s' if count != 1 else ''} in {summary.duration:.1f} s")
    plan_view.warn_left_alone(plan)
    from anklume.engine.pipeline import resolve as _resolve  # noqa: PLC0415 -- keep CLI start fast
    from anklume.network.fence import orphan_warnings  # noqa: PLC0415 -- imported only when used

    for text in orphan_warnings(_resolve(opts.directory, yolo=yolo, check_roles=False)):
        _present.warn(text)
    if verify:
        from anklume.cli.network import present_report  # noqa: PLC0415 -- keep CLI start fast
        from anklume.engine.pipeline import resolve  # noqa: PLC0415 -- imported only when used
        from anklume.network.verify.run import verify as run_verify  # noqa: PLC0415 -- imported only when used

        _present.info("verifying the isolation with real packets")
        if not present_report(run_verify(resolve(opts.directory, yolo=yolo, check_roles=False))):
            raise typer.Exit(1)


@app.command("check")
def check(
    ctx: typer.Context,
    domains: DomainsArg = None,
    *,
    adopt: AdoptOpt = False,
    commands: CommandsOpt = False,
    yolo: YoloOpt = False,
) -> None:
    """Show what an apply would change, per resource, without touching anything.

    Exit 3 when something would change, 0 when Incus already matches.

    Examples:

      anklume domain check

      anklume domain check pro --verbose     # also the incus commands each change runs
    """
    from anklume.apply.runner import PlaybookRequest  # noqa: PLC0415 -- keep CLI start fast
    from anklume.apply.service import check_infra  # noqa: PLC0415 -- keep CLI start fast

    opts = options(ctx)
    req = PlaybookRequest(domains=select_domains(opts.directory, domains), adopt=adopt, verbose=opts.verbose)
    warn_yolo(opts.directory, yolo)
    _outcome, plan = check_infra(opts.directory, req)
    if not plan:
        _present.out("Incus matches the declared infrastructure: nothing to do.")
        raise typer.Exit(0)
    plan_view.show(plan, commands=commands)
    raise typer.Exit(3)


@app.command("status")
def status(ctx: typer.Context, *, yolo: YoloOpt = False) -> None:  # yolo: read through ANKLUME_YOLO
    """Compare declared instances with live ones: state, IP address, drift.

    Exit 3 when an instance is missing, stopped, misaddressed or orphaned.

    Example: anklume domain status
    """
    from anklume.apply.service import infra_status  # noqa: PLC0415 -- keep CLI start fast

    rows = infra_status(options(ctx).directory)
    table = [(r.domain, r.name, r.project, r.state, r.ip, r.drift or "ok") for r in rows]
    _present.table("Instances", ["domain", "instance", "project", "state", "ip", "drift"], table)
    drifted = sum(1 for r in rows if r.drift)
    if drifted:
        _present.out(f"{drifted} instance{'s' if drifted != 1 else ''} drifted; run 'anklume domain apply'.")
        raise typer.Exit(3)
