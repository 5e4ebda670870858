"""``backup create``: ``incus export NAME -`` streamed through gpg into a private file, then its manifest."""

from __future__ import annotations

import contextlib
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal

from anklume import __version__
from anklume.backup import gpg, keys, live, pump, store
from anklume.backup.errors import BackupError
from anklume.backup.manifest import Artefact, Encryption, Export, Manifest, Source, Versions, now, sha256_fd, stamp
from anklume.engine.resolved import Resolved
from anklume.errors import CommandFailed
from anklume.incus.run import binary, project_argv
from anklume.ops.targets import Target
from anklume.vocab import PROTECT


@dataclass(frozen=True)
class Encrypt:
    """How to encrypt: a passphrase, a recipient's key, or not at all (``--no-encrypt``)."""

    mode: Literal["passphrase", "recipient", "none"]
    secret: gpg.Secret | None = None
    key: keys.Key | None = None


@dataclass(frozen=True)
class Made:
    """A backup written: its manifest's path and content."""

    path: Path
    manifest: Manifest


def export_argv(target: Target, compression: str, *, instance_only: bool) -> list[str]:
    """``incus export`` of ``target`` to stdout (``-q``: Incus 6.0 would print its progress into the stream)."""
    extra = ["--instance-only"] if instance_only else []
    return [
        binary(),
        *project_argv(target.project),
        "export",
        target.instance,
        "-",
        "-q",
        "--compression",
        compression,
        *extra,
    ]


def create(
    resolved: Resolved,
    directory: Path,
    target: Target,
    out: Path,
    enc: Encrypt,
    *,
    compression: str,
    instance_only: bool = False,
    progress: pump.Progress | None = None,
) -> Made:
    """Back ``target`` up into ``out`` and return the manifest written."""
    inst = live.instance(target.project, target.instance)
    if inst is None:
        msg = f"{target.domain}/{target.name} does not exist in Incus (project {target.project})"
        raise BackupError(msg)
    client, server = live.versions()
    created = now()
    base = f"{target.domain}.{target.name}.{stamp(created)}"
    name = store.archive_name(base, compression, encrypted=enc.mode != "none")
    dir_fd, _ = store.open_private_dir(out)
    try:
        export, size, plain_sha = _write_archive(dir_fd, name, target, enc, compression, instance_only, progress)
        manifest = Manifest(
            created=created,
            source=Source(
                infra=resolved.project_name,
                domain=target.domain,
                trust_level=target.trust,  # type: ignore[arg-type]  # the engine only makes valid levels
                machine=target.name,
                instance=target.instance,
                project=target.project,
                status=str(inst.get("status", "")),
                protected=str((inst.get("config") or {}).get(PROTECT, "")).lower() == "true",
                snapshots=len(inst.get("snapshots") or ()),
            ),
            declaration=live.declaration(directory, target.domain, target.name),
            export=Export(compression=compression, instance_only=instance_only, bytes=export, sha256=plain_sha),  # type: ignore[arg-type]  # checked by the CLI
            encryption=Encryption(
                mode=enc.mode,
                cipher="AES256" if enc.mode == "passphrase" else "",
                recipients=[enc.key.fingerprint] if enc.key else [],
            ),
            versions=Versions(anklume=__version__, incus_client=client, incus_server=server),
            artefacts=[Artefact(file=name, bytes=size[0], sha256=size[1])],
        )
        store.write_file(dir_fd, base + store.MANIFEST_SUFFIX, manifest.dump())
    finally:
        os.close(dir_fd)
    return Made(out / (base + store.MANIFEST_SUFFIX), manifest)


def _write_archive(
    dir_fd: int,
    name: str,
    target: Target,
    enc: Encrypt,
    compression: str,
    instance_only: bool,
    progress: pump.Progress | None,
) -> tuple[int, tuple[int, str], str]:
    """Stream the export into the archive; return the clear size, the archive's (size, sha256), the clear sha256."""
    tmp, out_fd = store.create_temp(dir_fd, name)
    try:
        plain = _stream(out_fd, target, enc, compression, instance_only, progress)
        os.fsync(out_fd)
        read_fd = os.open(tmp, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dir_fd)
        try:
            artefact = sha256_fd(read_fd)
        finally:
            os.close(read_fd)
    except BaseException:
        store.discard(dir_fd, tmp)
        raise
    finally:
        os.close(out_fd)
    store.publish(dir_fd, tmp, name)
    return plain[0], artefact, plain[1]


def _stream(
    out_fd: int, target: Target, enc: Encrypt, compression: str, instance_only: bool, progress: pump.Progress | None
) -> tuple[int, str]:
    """Run ``incus export | [gpg] > out_fd``; return the size and sha256 of the clear export."""
    export, export_err = pump.spawn(
        export_argv(target, compression, instance_only=instance_only), stdin=subprocess.DEVNULL, stdout=-1
    )
    assert export.stdout is not None  # stdout=PIPE
    reader = pump.HashingReader(export.stdout.fileno(), pump.Ticker(progress))
    if enc.mode == "none":
        try:
            pump.copy(reader, out_fd)
        finally:
            export.stdout.close()
        _check_export(export, export_err)
        return reader.count, reader.digest.hexdigest()
    with gpg.passphrase_fd(enc.secret if enc.mode == "passphrase" else None) as fd:
        argv = gpg.encrypt_argv(gpg.binary(), recipient=enc.key.fingerprint if enc.key else None, fd=fd)
        crypt, crypt_err = pump.spawn(argv, stdin=-1, stdout=out_fd, pass_fds=() if fd is None else (fd,))
    assert crypt.stdin is not None  # stdin=PIPE
    try:
        with contextlib.suppress(BrokenPipeError):  # gpg quit: its own error says why
            pump.copy(reader, crypt.stdin.fileno())
    finally:
        with contextlib.suppress(BrokenPipeError):
            crypt.stdin.close()
        export.stdout.close()
    rc, text = pump.finish(crypt, crypt_err)
    if rc != 0:
        pump.stop(export)
        pump.finish(export, export_err)
        raise gpg.failure(argv, rc, text, symmetric=enc.mode == "passphrase")
    _check_export(export, export_err)
    return reader.count, reader.digest.hexdigest()


def _check_export(export: subprocess.Popen[bytes], errors: IO[bytes]) -> None:
    rc, text = pump.finish(export, errors)
    if rc != 0:
        argv = ["incus", *[str(a) for a in export.args[1:]]]  # type: ignore[index]  # spawned with an argv list
        raise BackupError(CommandFailed.describe(argv, rc, text))
