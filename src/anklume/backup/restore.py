"""``backup restore``: a checked archive, decrypted as a stream into ``incus import`` in a domain's project.

Order of a restore: the archive's sha256 against its manifest (a damaged
file never reaches Incus); with ``--replace``, the current instance is
stopped and set aside under ``NAME-replaced`` (a protected one is refused:
anklume never deletes a protected instance); the import; a copy under a new
name or domain gets its own identity (:mod:`.identity`); only then is the
set-aside instance deleted. A failed import removes what it created and
puts the set-aside instance back.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import typing
from dataclasses import dataclass, field
from pathlib import Path

from anklume.backup import gpg, identity, live, pump, store
from anklume.backup.errors import BackupError
from anklume.backup.verify import Found, check_integrity, locate
from anklume.engine.model import TrustLevel
from anklume.engine.resolved import Resolved
from anklume.errors import UsageError
from anklume.incus.run import binary, project_argv, run
from anklume.ops import targets
from anklume.vocab import PROTECT

TRUST_ORDER = typing.get_args(TrustLevel)  # most trusted first


@dataclass
class Restored:
    """Where the instance went and what the user should know."""

    domain: str
    project: str
    name: str
    replaced: bool = False
    copy: bool = False
    notes: list[str] = field(default_factory=list)


def trust_warning(source: str, source_level: str, target: str, target_level: str) -> str:
    """A warning when data moves from a less trusted domain into a more trusted one ('' otherwise).

    >>> trust_warning("perso", "untrusted", "pro", "trusted")
    "restoring a backup of 'perso' (untrusted) into 'pro' (trusted): what ran there comes with it"
    >>> trust_warning("pro", "trusted", "perso", "untrusted")
    ''
    """
    if TRUST_ORDER.index(source_level) <= TRUST_ORDER.index(target_level):
        return ""
    return (
        f"restoring a backup of '{source}' ({source_level}) into '{target}' ({target_level}): "
        "what ran there comes with it"
    )


def restore(
    resolved: Resolved,
    path: Path,
    *,
    domain: str | None,
    name: str | None,
    replace: bool,
    secret: gpg.Secret | None,
    progress: pump.Progress | None = None,
) -> Restored:
    """Restore the backup at ``path``; see the module docstring for the order of steps."""
    found = locate(path)
    src = found.manifest.source
    dom = resolved.domains[targets.check_domain(resolved, domain or src.domain)]
    new = targets.check_name(name or src.instance, "instance")
    if found.manifest.encryption.mode == "passphrase" and secret is None:
        msg = f"{path} is encrypted with a passphrase: give --passphrase-file"
        raise UsageError(msg)
    check_integrity(found)
    done = Restored(dom.name, dom.incus_project, new, copy=(dom.incus_project, new) != (src.project, src.instance))
    level = src.trust_level
    if warning := trust_warning(src.domain, level, dom.name, dom.trust_level):
        done.notes.append(warning)
    aside = _set_aside(dom.incus_project, new, replace=replace)
    try:
        _import(found, dom.incus_project, new, secret, progress)
    except BaseException:
        _undo(dom.incus_project, new, aside)
        raise
    if done.copy:
        declared = any(m.instance_name == new for m in dom.machines.values())
        inst = live.instance(dom.incus_project, new) or {}
        source_net = resolved.domains[src.domain].network_name if src.domain in resolved.domains else ""
        for argv in identity.copy_commands(
            new,
            inst,
            source_network=source_net,
            target_network=dom.network_name,
            declared=declared,
            domain=dom.name,
            infra=resolved.project_name,
        ):
            run(argv, project=dom.incus_project)
        if not declared:
            done.notes.append(f"{new} is not declared in infra.yml: anklume leaves it alone (incus delete removes it)")
    if aside:
        run(["delete", "--force", aside[0]], project=dom.incus_project)
        done.replaced = True
    return done


def _set_aside(project: str, name: str, *, replace: bool) -> tuple[str, bool] | None:
    """Move an existing instance out of the way (stopped, renamed); None when there is none."""
    inst = live.instance(project, name)
    if inst is None:
        return None
    if not replace:
        msg = f"instance {name} already exists in project {project}: add --replace, or restore under --name NEW"
        raise BackupError(msg)
    if str((inst.get("config") or {}).get(PROTECT, "")).lower() == "true":
        msg = (
            f"instance {name} in project {project} is protected (ephemeral: false) and anklume never deletes a "
            f"protected instance: restore under --name NEW, or remove it yourself first "
            f"(anklume instance remove {name} --force)"
        )
        raise BackupError(msg)
    aside = f"{name[:54]}-replaced"
    if live.instance(project, aside) is not None:
        msg = f"{aside} exists in project {project} (left by an earlier --replace): remove or rename it first"
        raise BackupError(msg)
    running = str(inst.get("status", "")).lower() == "running"
    if running:
        run(["stop", name], project=project)
    run(["rename", name, aside], project=project)
    return aside, running


def _undo(project: str, name: str, aside: tuple[str, bool] | None) -> None:
    """After a failed import: remove what it created, put the set-aside instance back."""
    if live.instance(project, name) is not None:
        run(["config", "set", name, f"{PROTECT}=false"], project=project, check=False)
        run(["delete", "--force", name], project=project, check=False)
    if aside:
        run(["rename", aside[0], name], project=project, check=False)
        if aside[1]:
            run(["start", name], project=project, check=False)


def _import(found: Found, project: str, name: str, secret: gpg.Secret | None, progress: pump.Progress | None) -> None:
    """Stream the archive (decrypted when encrypted) into ``incus import - NAME``; check the clear sha256."""
    fd = store.open_file(found.archive_path)
    importer, import_err = pump.spawn(
        [binary(), *project_argv(project), "import", "-", name, "-q"], stdin=-1, stdout=subprocess.DEVNULL
    )
    assert importer.stdin is not None  # stdin=PIPE
    crypt = None
    try:
        if found.manifest.encryption.mode == "none":
            reader = pump.HashingReader(fd, pump.Ticker(progress))
        else:
            with gpg.passphrase_fd(secret) as pfd:
                argv = gpg.decrypt_argv(gpg.binary(), fd=pfd)
                crypt = pump.spawn(argv, stdin=fd, stdout=-1, pass_fds=() if pfd is None else (pfd,))
            assert crypt[0].stdout is not None  # stdout=PIPE
            reader = pump.HashingReader(crypt[0].stdout.fileno(), pump.Ticker(progress))
        with contextlib.suppress(BrokenPipeError):  # incus quit: its own error says why
            pump.copy(reader, importer.stdin.fileno())
        reader.drain()
    finally:
        with contextlib.suppress(BrokenPipeError):
            importer.stdin.close()
        os.close(fd)
    if crypt is not None:
        rc, text = pump.finish(*crypt)
        if rc != 0:
            pump.finish(importer, import_err, timeout=600)  # it saw the end of its input: let it fail by itself
            raise gpg.failure(argv, rc, text, symmetric=found.manifest.encryption.mode == "passphrase")
    rc, text = pump.finish(importer, import_err)
    if rc != 0:
        tail = " / ".join(text.strip().splitlines()[-2:])
        msg = f"incus import into project {project} failed (exit {rc}): {tail}"
        raise BackupError(msg)
    export = found.manifest.export
    if (reader.count, reader.digest.hexdigest()) != (export.bytes, export.sha256):
        msg = f"{found.archive_path}: the decrypted export differs from the one recorded (sha256); import undone"
        raise BackupError(msg)
