"""``anklume snapshot``: create, list, restore, delete and roll back snapshots by infra.yml names."""

from __future__ import annotations

from typing import Annotated

import typer

from anklume.cli import _present
from anklume.cli.context import options
from anklume.errors import UsageError
from anklume.ops.complete import domain_names, instance_names

app = typer.Typer(
    help="Snapshots of instances, of a domain or of everything; rollback of the last apply.",
    no_args_is_help=True,
)

NamesArg = Annotated[
    list[str] | None, typer.Argument(help="Machine names from infra.yml.", autocompletion=instance_names)
]
DomainOpt = Annotated[
    str | None, typer.Option("--domain", "-d", help="Every machine of this domain.", autocompletion=domain_names)
]
AllOpt = Annotated[bool, typer.Option("--all", help="Every machine of the infra.")]
SnapOpt = Annotated[str | None, typer.Option("--name", "-n", help="Snapshot name.")]
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]


def _targets(ctx: typer.Context, names: list[str] | None, domain: str | None, every: bool):  # type: ignore[no-untyped-def]
    from anklume.ops import targets  # noqa: PLC0415 -- keep CLI start fast

    return targets.select(targets.load(options(ctx).directory), names or [], domain, every=every)


@app.command("create")
def create(
    ctx: typer.Context,
    names: NamesArg = None,
    domain: DomainOpt = None,
    every: AllOpt = False,
    name: SnapOpt = None,
    keep: Annotated[
        int | None, typer.Option("--keep", help="Then keep only the N newest of anklume's own snapshots.", min=0)
    ] = None,
) -> None:
    """Snapshot instances; the default name is ak-<UTC time>.

    Examples:

      anklume snapshot create pro-dev

      anklume snapshot create --domain pro --keep 5

      anklume snapshot create --all --name before-upgrade
    """
    from anklume.ops import snapshots  # noqa: PLC0415 -- imported only when used

    chosen = _targets(ctx, names, domain, every)
    snap = snapshots.check_snapshot_name(name) if name else snapshots.default_name()
    for target in chosen:
        made = snapshots.create(target, snap)
        _present.out(f"{target.domain}/{target.name}: snapshot {made}")
        if keep is not None:
            for gone in snapshots.retain(target, keep, "anklume"):
                _present.info(f"{target.domain}/{target.name}: deleted old snapshot {gone}")


@app.command("list")
def list_snapshots(ctx: typer.Context, names: NamesArg = None, domain: DomainOpt = None, every: AllOpt = False) -> None:
    """List the snapshots of instances (kind: anklume, pre-apply or user).

    Examples:

      anklume snapshot list pro-dev

      anklume snapshot list --all
    """
    from anklume.ops import snapshots  # noqa: PLC0415 -- imported only when used

    rows = [
        (t.domain, t.name, s.name, snapshots.kind(s.name), s.created[:19].replace("T", " "))
        for t in _targets(ctx, names, domain, every)
        for s in snapshots.listing(t)
    ]
    _present.table("Snapshots", ["domain", "instance", "snapshot", "kind", "created (UTC)"], rows)


def _running(project: str, instance: str) -> bool:
    from anklume.incus.run import query  # noqa: PLC0415 -- imported only when used

    state = query(["query", f"/1.0/instances/{instance}/state?project={project}"])
    return isinstance(state, dict) and str(state.get("status", "")).lower() == "running"


@app.command("restore")
def restore(
    ctx: typer.Context,
    snapshot: Annotated[str, typer.Argument(help="Snapshot name (see 'snapshot list').")],
    names: NamesArg = None,
    domain: DomainOpt = None,
    every: AllOpt = False,
    yes: YesOpt = False,
) -> None:
    """Return instances to a snapshot; asks first when an instance is running (--yes: do not ask).

    Examples:

      anklume snapshot restore ak-20261202T051500Z pro-dev

      anklume snapshot restore before-upgrade --domain pro --yes
    """
    from anklume.ops import snapshots  # noqa: PLC0415 -- imported only when used

    snapshots.check_snapshot_name(snapshot)
    chosen = _targets(ctx, names, domain, every)
    running = [t for t in chosen if _running(t.project, t.instance)]
    if running and not yes:
        listed = ", ".join(f"{t.domain}/{t.name}" for t in running)
        if not typer.confirm(f"{listed} running: restore loses what changed since {snapshot}. Go on?", default=False):
            raise typer.Exit(1)
    for target in chosen:
        snapshots.restore(target, snapshot)
        _present.out(f"{target.domain}/{target.name}: restored {snapshot}")


@app.command("delete")
def delete(
    ctx: typer.Context,
    snapshot: Annotated[str, typer.Argument(help="Snapshot name.")],
    names: NamesArg = None,
    domain: DomainOpt = None,
    every: AllOpt = False,
) -> None:
    """Delete one snapshot of instances.

    Examples:

      anklume snapshot delete ak-20261202T051500Z pro-dev

      anklume snapshot delete before-upgrade --all
    """
    from anklume.ops import snapshots  # noqa: PLC0415 -- imported only when used

    snapshots.check_snapshot_name(snapshot)
    for target in _targets(ctx, names, domain, every):
        if any(s.name == snapshot for s in snapshots.listing(target)):
            snapshots.delete(target, snapshot)
            _present.out(f"{target.domain}/{target.name}: deleted {snapshot}")


@app.command("rollback")
def rollback(ctx: typer.Context, domain: DomainOpt = None, yes: YesOpt = False) -> None:
    """Return the instances the last apply updated to their state just before it.

    Every 'domain apply' that updates instances snapshots them first
    (ak-pre-<UTC time>), unless run with --no-snapshot.

    Examples:

      anklume snapshot rollback

      anklume snapshot rollback --domain pro --yes
    """
    from anklume.ops import preapply, snapshots, targets  # noqa: PLC0415 -- imported only when used

    directory = options(ctx).directory
    resolved = targets.load(directory)
    if domain is not None:
        targets.check_domain(resolved, domain)
    record = preapply.latest(directory, domain)
    if record is None:
        msg = "no pre-apply snapshot recorded" + (f" for domain '{domain}'" if domain else "")
        raise UsageError(msg)
    preapply.check_record(record, targets.all_targets(resolved).values())
    listed = ", ".join(f"{t.project}/{t.instance}" for t in record.instances)
    _present.out(f"rollback undoes {record.describe()}: {listed} → {record.snapshot}")
    if not yes and not typer.confirm("Restore these instances?", default=False):
        raise typer.Exit(1)
    for target, snap in record.pairs():
        snapshots.restore(target, snap)
        _present.out(f"{target.project}/{target.instance}: restored {snap}")
