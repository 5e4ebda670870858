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

from anklume.cli import _present
from anklume.cli.context import options
from anklume.errors import UsageError
from anklume.ops.complete import domain_names, instance_names

app = typer.Typer(
    help="Encrypted, verifiable backups of instances: create, verify, list, restore.",
    no_args_is_help=True,
)

PassOpt = Annotated[
    Path | None,
    typer.Option("--passphrase-file", help="File whose first line is the passphrase (never given on a command line)."),
]
DomainOpt = Annotated[
    str | None, typer.Option("--domain", "-d", help="A domain of infra.yml.", autocompletion=domain_names)
]
MIB = 1024 * 1024


def _progress(label: str):  # type: ignore[no-untyped-def]  # a closure for the library's Progress
    def show(done: int) -> None:
        _present.info(f"{label}: {done / MIB:.0f} MiB")

    return show


def _secret(path: Path | None):  # type: ignore[no-untyped-def]
    from anklume.backup import gpg  # noqa: PLC0415 -- keep CLI start fast

    if path is None:
        return None
    secret, shared = gpg.read_passphrase(path)
    if shared:
        _present.warn(f"passphrase file {path} can be read by other users (chmod 600 it)")
    return secret


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
    from anklume.backup import keys, live, store  # noqa: PLC0415
    from anklume.backup.errors import BackupError  # noqa: PLC0415
    from anklume.ops import targets  # noqa: PLC0415

    if sum([recipient is not None, passphrase_file is not None, no_encrypt]) != 1:
        msg = "give exactly one of --gpg-recipient KEY, --passphrase-file F or --no-encrypt"
        raise UsageError(msg)
    algo = compression or live.default_compression()
    if algo not in store.EXTENSIONS:
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
            creating.Encrypt("passphrase", secret=_secret(passphrase_file))
            if passphrase_file
            else creating.Encrypt("none")
        )
    directory = out or store.DEFAULT_DIR
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
                progress=_progress(label),
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

    report = verifying.verify(file, _secret(passphrase_file), progress=_progress(f"{file.name}: decrypted"))
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
    from anklume.backup import listing, store  # noqa: PLC0415 -- keep CLI start fast

    entries, bad = listing.entries(directory)
    for path, why in bad:
        _present.warn(f"{path}: {why}")
    if not entries and not as_json:
        _present.info(f"no backups in {directory or store.DEFAULT_DIR}")
    if as_json:
        _present.raw(json.dumps(entries, indent=2) + "\n")
        return
    rows = [
        (e["created"], e["domain"], e["machine"], f"{e['bytes'] / MIB:.1f} MiB", e["encryption"], e["file"])
        for e in entries
    ]
    _present.table("Backups", ["created (UTC)", "domain", "machine", "size", "encryption", "file"], rows)


@app.command("restore")
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
    secret = _secret(passphrase_file)
    done = restoring.restore(
        resolved, file, domain=domain, name=name, replace=replace, secret=secret, progress=_progress("restored")
    )
    for note in done.notes:
        _present.warn(note)
    if start:
        run(["start", done.name], project=done.project)
    how = "replaced" if done.replaced else "restored"
    _present.out(f"{done.domain}/{done.name}: {how} from {file.name}{' and started' if start else ''}")
