"""``backup create``: ``incus export NAME -`` streamed through gpg into a private file, then its manifest."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from anklume import __version__
from anklume.backup import export, live, names, pump, store
from anklume.backup.errors import BackupError
from anklume.backup.export import Encrypt, Written
from anklume.backup.manifest import Artefact, Encryption, Export, Manifest, Source, Versions, now, stamp
from anklume.engine.resolved import Resolved
from anklume.ops.targets import Target
from anklume.vocab import PROTECT

__all__ = ["Encrypt", "Made", "create"]


@dataclass(frozen=True)
class Made:
    """A backup written: its manifest's path and content."""

    path: Path
    manifest: Manifest


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
    created = now()
    base = f"{target.domain}.{target.name}.{stamp(created)}"
    name = names.archive_name(base, compression, encrypted=enc.mode != "none")
    dir_fd, _ = store.open_private_dir(out)
    try:
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="backup-facts") as facts:
            # asked while the export streams: Incus answers meanwhile, the export does not wait
            versions = facts.submit(live.versions)
            declared = facts.submit(live.declaration, directory, target.domain, target.name)
            written = _write_archive(dir_fd, name, target, enc, compression, instance_only, progress)
            (client, server), declaration = versions.result(), declared.result()
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
            declaration=declaration,
            export=Export(
                compression=compression,  # type: ignore[arg-type]  # checked by the CLI
                instance_only=instance_only,
                bytes=written.clear[0],
                sha256=written.clear[1],
            ),
            encryption=Encryption(
                mode=enc.mode,
                cipher="AES256" if enc.mode == "passphrase" else "",
                recipients=[enc.key.fingerprint] if enc.key else [],
            ),
            versions=Versions(anklume=__version__, incus_client=client, incus_server=server),
            artefacts=[Artefact(file=name, bytes=written.archive[0], sha256=written.archive[1])],
        )
        store.write_file(dir_fd, base + names.MANIFEST_SUFFIX, manifest.dump())
    finally:
        os.close(dir_fd)
    return Made(out / (base + names.MANIFEST_SUFFIX), manifest)


def _write_archive(
    dir_fd: int,
    name: str,
    target: Target,
    enc: Encrypt,
    compression: str,
    instance_only: bool,
    progress: pump.Progress | None,
) -> Written:
    """Stream the export into the archive (fsynced, then given its name); return what was written."""
    tmp, out_fd = store.create_temp(dir_fd, name)
    try:
        written = export.stream(out_fd, target, enc, compression, instance_only, progress)
        os.fsync(out_fd)
    except BaseException:
        store.discard(dir_fd, tmp)
        raise
    finally:
        os.close(out_fd)
    store.publish(dir_fd, tmp, name)
    return written
