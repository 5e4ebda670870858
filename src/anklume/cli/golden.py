"""``anklume golden``: templates from prepared instances, copies of them, images with provenance."""

from __future__ import annotations

from typing import Annotated

import typer

from anklume.cli import _present
from anklume.cli.context import options
from anklume.ops.complete import domain_names, instance_names

app = typer.Typer(
    help="Golden images: make a template of a prepared instance, derive copies, publish it with its provenance.",
    no_args_is_help=True,
)

NameArg = Annotated[str, typer.Argument(help="Machine name from infra.yml.", autocompletion=instance_names)]
TemplateArg = Annotated[
    str, typer.Argument(help="The template: its infra.yml name or its instance name.", autocompletion=instance_names)
]


@app.command("create")
def create(ctx: typer.Context, name: NameArg) -> None:
    """Make a prepared instance a template: stop it and take its pristine snapshot golden-N.

    Running it again on the same instance takes golden-N+1: what was derived
    or published from golden-N is then "older" in 'anklume golden list'.

    Example: anklume golden create tpl-web
    """
    from anklume.golden import ops  # noqa: PLC0415 -- keep CLI start fast
    from anklume.ops import targets  # noqa: PLC0415

    target = targets.find(targets.load(options(ctx).directory), name)
    _present.info(f"{target.name}: stopping and snapshotting")
    template, stopped = ops.create(target.project, target.instance)
    note = " (stopped it)" if stopped else ""
    _present.out(f"{target.domain}/{target.name} is a template{note}: pristine snapshot {template.snapshot}")


@app.command("derive")
def derive(
    ctx: typer.Context,
    template: TemplateArg,
    new: Annotated[str, typer.Argument(help="Name of the new instance (declared in infra.yml or not).")],
    domain: Annotated[
        str, typer.Option("--domain", "-d", help="Domain whose project gets the copy.", autocompletion=domain_names)
    ],
    no_start: Annotated[bool, typer.Option("--no-start", help="Leave the copy stopped.")] = False,
) -> None:
    """Create an instance from a template's current pristine snapshot, in a domain.

    The copy shares blocks with the template where the storage pool can
    (btrfs, zfs, thin lvm, ceph) and is a plain copy otherwise; the output
    says which. It keeps the template's files and root disk, not its network
    device nor its other disks. A NEW declared in infra.yml (in that domain)
    becomes anklume's, ready for 'anklume domain apply' to converge.

    Examples:

      anklume golden derive tpl-web pro-web2 --domain pro

      anklume golden derive tpl-web scratch --domain lab --no-start
    """
    from anklume.golden.commands import run_derive  # noqa: PLC0415 -- keep CLI start fast

    _present.info(f"{new}: copying the current snapshot of {template}")
    for line in run_derive(options(ctx).directory, template, new, domain, start=not no_start):
        _present.out(line)


@app.command("publish")
def publish(
    ctx: typer.Context,
    template: TemplateArg,
    alias: Annotated[str | None, typer.Option("--alias", help="Image alias (default: golden/NAME).")] = None,
    compression: Annotated[
        str | None, typer.Option("--compression", help="none, gzip, zstd, xz... (default: the server's).")
    ] = None,
) -> None:
    """Publish a template's current snapshot as an image that records its provenance.

    Properties: anklume.golden.source (project/instance), .origin (its
    snapshot), .infra_commit (git commit of the infra directory, or none),
    .roles (each role of the machine with the digest of its files), .date.
    The alias moves to the new image; older images stay until deleted. A
    machine names the image as its os_image (os_image: golden/tpl-web).

    Examples:

      anklume golden publish tpl-web

      anklume golden publish tpl-web --alias web/base --compression zstd
    """
    from anklume.golden.commands import run_publish  # noqa: PLC0415 -- keep CLI start fast

    _present.info(f"{template}: publishing its current snapshot (packs the whole root filesystem)")
    for line in run_publish(options(ctx).directory, template, alias, compression):
        _present.out(line)


@app.command("list")
def list_golden(ctx: typer.Context) -> None:
    """Show templates, golden images, and derived instances older than their template.

    "Older" means made from an earlier golden-N than the template's current
    one: re-derive or re-publish them. Exit 3 when something is older.

    Example: anklume golden list
    """
    from anklume.golden import listing, live  # noqa: PLC0415 -- keep CLI start fast

    rep = listing.report(live.read_instances(), live.read_images())
    _present.table("Templates", ["project", "template", "snapshot", "date", "state"], rep.templates)
    _present.table("Golden images", ["alias", "fingerprint", "from", "infra commit", "date", "state"], rep.images)
    _present.table("Derived instances", ["project", "instance", "from", "state"], rep.derived)
    if rep.older:
        _present.out(f"{rep.older} older than their template; derive or publish them again.")
        raise typer.Exit(3)
