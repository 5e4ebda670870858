"""``anklume destroy``: remove what this infra owns from Incus and the host, and nothing else."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from anklume.cli import _present
from anklume.cli.context import options
from anklume.ops.complete import domain_names

if TYPE_CHECKING:
    from anklume.engine.resolved import Resolved
    from anklume.ops.teardown import Survey


def register(app: typer.Typer) -> None:
    """Add ``anklume destroy`` to the root command."""
    app.command("destroy")(destroy_cmd)


def destroy_cmd(
    ctx: typer.Context,
    domains: Annotated[
        list[str] | None,
        typer.Argument(help="Only these domains (default: the whole infra).", autocompletion=domain_names),
    ] = None,
    include_protected: Annotated[
        bool, typer.Option("--include-protected", help="Also remove protected instances (ephemeral: false).")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation (scripts).")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only list what would be removed.")] = False,
) -> None:
    """Remove what this infra owns: instances, profiles, projects, bridges, host firewall table and package proxy.

    Only resources marked user.anklume.managed with user.anklume.infra equal to
    this infra's project_name are removed; resources of another infra or
    created by hand are never touched. Images, storage volumes and the host
    directories of shared volumes and persistent data are kept. Protected
    instances are kept unless --include-protected, which lists them and asks
    first. The host table goes only when the whole infra goes.

    Examples:

      anklume destroy --dry-run

      anklume destroy lab                    # one domain

      anklume destroy --include-protected --yes
    """
    from anklume.ops import targets, teardown  # noqa: PLC0415 -- keep CLI start fast

    resolved = targets.load(options(ctx).directory)
    chosen = [targets.check_name(d, "domain") for d in dict.fromkeys(domains or [])]
    found = teardown.survey(resolved.project_name, chosen or None)
    whole = not chosen
    _show(found, whole=whole, include_protected=include_protected)
    if dry_run:
        return
    if include_protected and found.protected and not yes:
        listed = ", ".join(f"{i.project}/{i.name}" for i in found.protected)
        if not typer.confirm(f"Delete the protected instances {listed} and their data?", default=False):
            raise typer.Exit(1)
    elif not yes and not typer.confirm(f"Destroy infra '{resolved.project_name}' as listed?", default=False):
        raise typer.Exit(1)
    removed, kept = teardown.destroy(found, include_protected=include_protected)
    for item in removed:
        _present.info(f"removed {item}")
    for text in kept:
        _present.warn(f"kept {text}")
    protected_kept = bool(found.protected) and not include_protected
    if whole and not protected_kept:
        _host(resolved)
    elif whole:
        _present.info("host firewall table kept: protected instances of this infra still use its bridges")
    _present.out(f"destroy done: {len(removed)} removed, {len(kept)} kept")
    if kept and not protected_kept:
        raise typer.Exit(1)


def _show(found: Survey, *, whole: bool, include_protected: bool) -> None:
    for item in [*found.instances, *found.profiles, *found.projects, *found.networks]:
        _present.out(f"remove {item}")
    for item in found.protected:
        _present.out(f"{'remove' if include_protected else 'keep'} {item} (protected)")
    if whole:
        _present.out("remove the host firewall table of this infra, its boot rules file and boot unit")
        _present.out("stop this infra's package proxy, if it runs, and remove its configuration and caches")
    elif found.empty():
        _present.out("nothing of these domains is left in Incus")


def _host(resolved: Resolved) -> None:
    from anklume.ops.hostfw import remove_host_firewall  # noqa: PLC0415 -- imported only when used

    host = remove_host_firewall(resolved)
    if host.removed_table:
        _present.info(f"removed table inet {host.table}")
    if host.removed_rules:
        _present.info(f"removed {host.removed_rules} ip rule(s) of the second isolation layer")
    from anklume.proxy.setup import stop  # noqa: PLC0415 -- imported only when used

    for name in stop(host.table, remove=True).stopped:
        _present.info(f"stopped package proxy {name}")
    for path in host.removed_files:
        _present.info(f"removed {path}")
    if host.note:
        _present.warn(host.note)
