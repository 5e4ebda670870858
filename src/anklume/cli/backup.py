"""``anklume backup``: create, verify, list and restore encrypted backups of instances.

Names are infra.yml machine names; each instance is found in its domain's
Incus project. The library is :mod:`anklume.backup`; this module parses,
calls it and presents the result.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from anklume.cli import _present, backup_restore
from anklume.cli.backup_options import MIB, DomainOpt, PassOpt, progress_of, read_secret
from anklume.cli.context import options
from anklume.errors import UsageError
from anklume.ops.complete import instance_names

app = typer.Typer(
    help="Encrypted, verifiable backups of instances: create, verify, list, restore.",
    no_args_is_help=True,
)


@app.command("create")
def create(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Argument(help="Machine from infra.yml.", autocompletion=instance_names)] = None,
    domain: DomainOpt = None,
    recipient: Annotated[
        str | None, typer.Option("--gpg-recipient", help="Encrypt to this gpg public key (fingerprint or email).")
    ] = None,
    passphrase_file: PassOpt = None,
    no_encrypt: Annotated[bool, typer.Option("--no-encrypt", help="Write a plain, unencrypted archive.")] = False,
    out: Annotated[
        Path | None, typer.Option("--out", help="Backup directory (default /var/lib/anklume/backups).", file_okay=False)
    ] = None,
    compression: Annotated[
        str | None, typer.Option("--compression", help="zstd, gzip, xz, bzip2 or none (default: zstd when present).")
    ] = None,
    instance_only: Annotated[bool, typer.Option("--instance-only", help="Leave the snapshots out.")] = False,
) -> None:
    """Back up one instance, or every instance of a domain, encrypted with gpg.

    The export streams from Incus through gpg into the backup directory (0700,
    files 0600): no clear copy is written. A manifest beside each archive
    records its sha256, the clear export's sha256, the instance's infra.yml
    entry and the anklume and Incus versions.

    Examples:

      anklume backup create pro-dev --gpg-recipient backup@example.org

      anklume backup create --domain pro --passphrase-file ~/.backup-pass --out /media/usb/backups
    """
    from anklume.backup import create as creating  # noqa: PLC0415 -- keep CLI start fast
    from anklume.backup import keys, live, names  # noqa: PLC0415
    from anklume.backup.errors import BackupError  # noqa: PLC0415
    from anklume.ops import targets  # noqa: PLC0415

    if sum([recipient is not None, passphrase_file is not None, no_encrypt]) != 1:
        msg = "give exactly one of --gpg-recipient KEY, --passphrase-file F or --no-encrypt"
        raise UsageError(msg)
    algo = compression or live.default_compression()
    if algo not in names.EXTENSIONS:
        msg = f"unknown compression {algo!r} (zstd, gzip, xz, bzip2 or none)"
        raise UsageError(msg)
    resolved = targets.load(options(ctx).directory)
    chosen = targets.select(resolved, [name] if name else [], domain, every=False)
    if recipient is not None:
        key = keys.resolve(recipient)
        _present.info(f"encrypting to {key.fingerprint} {key.uid}")
        enc = creating.Encrypt("recipient", key=key)
    else:
        enc = (
            creating.Encrypt("passphrase", secret=read_secret(passphrase_file))
            if passphrase_file
            else creating.Encrypt("none")
        )
    directory = out or names.DEFAULT_DIR
    failed = 0
    for target in chosen:
        label = f"{target.domain}/{target.name}"
        _present.info(f"{label}: exporting (Incus prepares the export first)")
        try:
            made = creating.create(
                resolved,
                options(ctx).directory,
                target,
                directory,
                enc,
                compression=algo,
                instance_only=instance_only,
                progress=progress_of(label),
            )
        except BackupError as exc:
            _present.error(f"{label}: {exc}")
            failed += 1
            continue
        art = made.manifest.archive
        _present.out(
            f"{label}: {made.path.parent / art.file} ({art.bytes / MIB:.1f} MiB, {enc.mode}), manifest {made.path}"
        )
    if failed:
        raise typer.Exit(1)


@app.command("verify")
def verify(
    file: Annotated[Path, typer.Argument(help="A backup archive or its .manifest.json.")],
    passphrase_file: PassOpt = None,
) -> None:
    """Check a backup: sha256 against its manifest, then decryption and the tar, when the key is at hand.

    Decrypted data only goes through memory into a hash and a tar reader. Exit
    1 when a check fails (damaged archive, wrong passphrase, not an export).

    Examples:

      anklume backup verify /var/lib/anklume/backups/pro.pro-dev.20261202T130000Z.tar.zst.gpg

      anklume backup verify pro.pro-dev.20261202T130000Z.manifest.json --passphrase-file ~/.backup-pass
    """
    from anklume.backup import verify as verifying  # noqa: PLC0415 -- keep CLI start fast

    report = verifying.verify(file, read_secret(passphrase_file), progress=progress_of(f"{file.name}: decrypted"))
    archive = report.found.archive_path
    if report.summary is None:
        _present.out(f"{archive}: sha256 ok; {report.skipped}")
        return
    s = report.summary
    snaps = f", snapshots: {', '.join(s.snapshots)}" if s.snapshots else ""
    checks = "sha256 and tar" if report.found.manifest.encryption.mode == "none" else "sha256, decryption and tar"
    _present.out(f"{archive}: ok: {checks} ({s.kind} {s.name}, {s.members} entries{snaps})")


@app.command("list")
def list_backups(
    directory: Annotated[
        Path | None, typer.Option("--dir", help="Backup directory (default /var/lib/anklume/backups).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of a table.")] = False,
) -> None:
    """List the backups of a directory, newest last.

    Examples:

      anklume backup list

      anklume backup list --dir /media/usb/backups --json
    """
    from anklume.backup import listing, names  # noqa: PLC0415 -- keep CLI start fast

    entries, bad = listing.entries(directory)
    for path, why in bad:
        _present.warn(f"{path}: {why}")
    if not entries and not as_json:
        _present.info(f"no backups in {directory or names.DEFAULT_DIR}")
    if as_json:
        _present.raw(json.dumps(entries, indent=2) + "\n")
        return
    rows = [
        (e["created"], e["domain"], e["machine"], f"{e['bytes'] / MIB:.1f} MiB", e["encryption"], e["file"])
        for e in entries
    ]
    _present.table("Backups", ["created (UTC)", "domain", "machine", "size", "encryption", "file"], rows)


backup_restore.register(app)
