"""Bridges this infra owns on the host, declared or not (reads Incus).

A domain removed from infra.yml keeps its bridge (and its protected or
unpruned instances) until ``domain apply --prune`` deletes them. Its bridge
stays in the table's set, fenced: traffic inside it passes, nothing enters
or leaves it. Ownership comes from the keys ``user.anklume.managed`` and
``user.anklume.infra`` that apply sets on every network it creates; a
managed network without the infra key (made by an earlier version) counts
as this infra's.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from anklume.engine.resolved import Resolved
from anklume.errors import IncusError
from anklume.incus.run import query
from anklume.network.ruleset import Fenced

log = logging.getLogger(__name__)

MANAGED = "user.anklume.managed"
DOMAIN = "user.anklume.domain"
INFRA = "user.anklume.infra"


@dataclass(frozen=True, slots=True)
class OwnedBridge:
    """An Incus network this infra owns: its bridge name and the domain it was made for."""

    name: str
    domain: str


def owned_by(config: Mapping[str, Any] | None, infra: str) -> bool:
    """Say whether a resource's config marks it as anklume's and of ``infra``.

    >>> owned_by({MANAGED: "true", INFRA: "lab"}, "lab"), owned_by({MANAGED: "true", INFRA: "b"}, "lab")
    (True, False)
    >>> owned_by({MANAGED: "true"}, "lab"), owned_by({}, "lab")
    (True, False)
    """
    cfg = config or {}
    theirs = str(cfg.get(INFRA, ""))
    return str(cfg.get(MANAGED, "")).lower() == "true" and theirs in ("", infra)


def owned_bridges(networks: list[Mapping[str, Any]], infra: str) -> list[OwnedBridge]:
    """Return the bridges of ``infra`` among ``incus network list`` objects.

    >>> nets = [{"name": "net-a", "type": "bridge", "config": {MANAGED: "true", DOMAIN: "a", INFRA: "lab"}},
    ...         {"name": "incusbr0", "type": "bridge", "config": {}},
    ...         {"name": "net-b", "type": "bridge", "config": {MANAGED: "true", DOMAIN: "b", INFRA: "other"}}]
    >>> owned_bridges(nets, "lab")
    [OwnedBridge(name='net-a', domain='a')]
    """
    found = [
        OwnedBridge(str(n.get("name", "")), str((n.get("config") or {}).get(DOMAIN, "")))
        for n in networks
        if n.get("type") == "bridge" and owned_by(n.get("config"), infra)
    ]
    return sorted(found, key=lambda b: b.name)


def undeclared(resolved: Resolved, owned: list[OwnedBridge]) -> list[Fenced]:
    """Return the owned bridges infra.yml does not declare (domains removed, not yet pruned)."""
    declared = {d.network_name for d in resolved.domains.values()}
    return [Fenced(b.name, b.domain or b.name) for b in owned if b.name not in declared]


def live_networks() -> list[Mapping[str, Any]]:
    """``incus network list`` of the default project (bridges are global)."""
    data = query(["network", "list"])
    return [n for n in data or [] if isinstance(n, dict)]


def fenced(resolved: Resolved) -> tuple[list[Fenced], list[str]]:
    """Return the bridges to fence and warnings (Incus unreachable: nothing extra is fenced, say so).

    This is what ``network verify`` needs to probe the removed-domain case.
    """
    try:
        owned = owned_bridges(live_networks(), resolved.project_name)
    except IncusError as exc:
        log.debug("incus unreachable", extra={"error": str(exc)})
        return [], [f"cannot list Incus networks ({exc}): bridges of removed domains are not fenced"]
    return undeclared(resolved, owned), []


def running_orphans(resolved: Resolved, removed: list[Fenced]) -> list[tuple[str, str, str]]:
    """Return ``(project, instance, domain)`` of running instances of this infra whose domain is no longer declared."""
    gone = {f.domain for f in removed}
    if not gone:
        return []
    found = []
    for inst in query(["list", "--all-projects"]) or []:
        cfg = inst.get("config") or {}
        if owned_by(cfg, resolved.project_name) and cfg.get(DOMAIN) in gone and inst.get("status") == "Running":
            found.append((str(inst.get("project", "")), str(inst.get("name", "")), str(cfg[DOMAIN])))
    return sorted(found)


def orphan_warnings(resolved: Resolved) -> list[str]:
    """One warning per running instance of a removed domain (for ``domain apply``); [] when Incus is unreachable."""
    removed, _ = fenced(resolved)
    try:
        running = running_orphans(resolved, removed)
    except IncusError:
        return []
    bridge = {f.domain: f.bridge for f in removed}
    return [
        f"instance {project}/{name} of a domain no longer in infra.yml is running; its bridge "
        f"{bridge[domain]} stays fenced (nothing enters or leaves it) until "
        "'anklume domain apply --prune' deletes it"
        for project, name, domain in running
    ]
