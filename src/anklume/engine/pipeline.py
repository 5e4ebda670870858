"""The engine from top to bottom: load → validate → enrich → render → write.

``resolve`` runs the first three stages (what every command that reads the
infra needs); ``sync`` runs all five.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from anklume.ai.holder import honour as honour_ai_holder
from anklume.engine import write as writer
from anklume.engine.enrich import enrich
from anklume.engine.host import gather
from anklume.engine.load import Document, SourceChangedError, SourceMap, changed_sources, load
from anklume.engine.orphans import Orphan, clean_orphans, find_orphans
from anklume.engine.render import render
from anklume.engine.resolved import Resolved
from anklume.engine.validate import validate
from anklume.errors import InfraError, Problem
from anklume.paths import role_search_path

log = logging.getLogger(__name__)


def resolve(directory: Path, /, *, yolo: bool = False, check_roles: bool = True) -> Resolved:
    """Load, validate and enrich the infra of ``directory``."""
    return _resolve(directory, yolo=yolo, check_roles=check_roles)[1]


def _resolve(directory: Path, /, *, yolo: bool, check_roles: bool) -> tuple[Document, Resolved]:
    doc = load(directory)
    infra = honour_ai_holder(validate(doc), directory)  # anklume ai switch's record, when it fits
    policy = infra.global_.resource_policy
    host = gather(yolo=yolo, need_resources=policy is not None and policy is not False)
    resolved = enrich(infra, host, doc.source)
    if check_roles:
        problems = missing_roles(resolved, doc.source, role_search_path(directory))
        if problems:
            raise InfraError(problems)
    return doc, resolved


def missing_roles(resolved: Resolved, sm: SourceMap, search: list[Path]) -> list[Problem]:
    """Report roles named in ``roles:`` (or given to a derived machine) that exist nowhere."""
    existing: dict[str, bool] = {}
    problems = []
    where = ", ".join(p.name + "/" for p in search[:3])
    for dom in resolved.domains.values():
        for machine in dom.machines.values():
            for index, role in enumerate(machine.roles or []):
                if role not in existing:
                    existing[role] = any((d / role).is_dir() for d in search)
                if existing[role]:
                    continue
                path: tuple[str | int, ...] = ("domains", dom.name, "machines", machine.name, "roles", index)
                if machine.auto_added:
                    path = ("global", "firewall_mode")
                problems.append(sm.problem(path, f"role '{role}' of machine '{machine.name}' not found in {where}"))
    return problems


def expected_files(resolved: Resolved, files: dict[Path, str]) -> set[Path]:
    """Files a sync explains: those it writes plus those of disabled domains (kept as they are)."""
    expected = set(files)
    for dom in resolved.domains.values():
        if not dom.enabled:
            expected |= {Path(f"inventory/{dom.name}.yml"), Path(f"group_vars/{dom.name}.yml")}
            expected |= {Path(f"host_vars/{m}.yml") for m in dom.machines}
    return expected


@dataclass
class SyncResult:
    """What a sync found and did."""

    plan: writer.WritePlan
    orphans: list[Orphan]
    resolved: Resolved
    written: list[Path] = field(default_factory=list)
    deleted: list[Path] = field(default_factory=list)


def sync(directory: Path, /, *, write: bool = True, clean: bool = False, yolo: bool = False) -> SyncResult:
    """Generate the Ansible files of ``directory``; write them unless ``write`` is false."""
    doc, resolved = _resolve(directory, yolo=yolo, check_roles=True)
    files = render(resolved)
    plan = writer.plan_writes(directory, files)
    orphans = find_orphans(directory, expected_files(resolved, files))
    result = SyncResult(plan, orphans, resolved)
    if write:
        changed = changed_sources(doc.root, doc.sources)  # an edit made while sync ran: write nothing, never lose it
        if changed:
            raise SourceChangedError(changed)
        result.written = writer.apply(plan)
        if clean:
            result.deleted = clean_orphans(orphans)
    log.debug("sync done", extra={"files": len(files), "written": len(result.written)})
    return result
