"""``anklume backup restore``: a backup back into a domain's project."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from anklume.cli import _present
from anklume.cli.backup_options import DomainOpt, PassOpt, progress_of, read_secret
from anklume.cli.context import options


def restore(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A backup archive or its .manifest.json.")],
    domain: DomainOpt = None,
    name: Annotated[str | None, typer.Option("--name", help="Restore under this instance name.")] = None,
    replace: Annotated[
        bool, typer.Option("--replace", help="Replace an existing instance of that name (never a protected one).")
    ] = False,
    passphrase_file: PassOpt = None,
    start: Annotated[bool, typer.Option("--start", help="Start the instance once restored.")] = False,
) -> None:
    """Restore a backup into a domain's project (default: the domain it came from).

    The archive's sha256 is checked first; the export streams from gpg into
    'incus import'. An existing instance is kept unless --replace; a protected
    one (ephemeral: false) is never deleted. A copy under --name or in another
    domain gets a new MAC, no static IP and the target domain's bridge.

    Examples:

      anklume backup restore /var/lib/anklume/backups/pro.pro-dev.20261202T130000Z.tar.zst.gpg

      anklume backup restore pro.pro-dev.20261202T130000Z.manifest.json --name pro-dev-old --passphrase-file pass
    """
    from anklume.backup import restore as restoring  # noqa: PLC0415 -- keep CLI start fast
    from anklume.incus.run import run  # noqa: PLC0415
    from anklume.ops import targets  # noqa: PLC0415

    resolved = targets.load(options(ctx).directory)
    secret = read_secret(passphrase_file)
    done = restoring.restore(
        resolved, file, domain=domain, name=name, replace=replace, secret=secret, progress=progress_of("restored")
    )
    for note in done.notes:
        _present.warn(note)
    if start:
        run(["start", done.name], project=done.project)
    how = "replaced" if done.replaced else "restored"
    _present.out(f"{done.domain}/{done.name}: {how} from {file.name}{' and started' if start else ''}")


def register(app: typer.Typer) -> None:
    """Add ``restore`` to the ``backup`` group."""
    app.command("restore")(restore)
