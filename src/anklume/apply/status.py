"""Declared versus live instances: state, address and drift, per instance.

Declared instances come from the engine's resolved model (what ``anklume
sync`` writes to ``host_vars/``); live ones from a single ``incus list
--all-projects``. Anklume-owned live instances (``user.anklume.managed``) of a
declared domain that nothing declares are orphans. Instances of disabled
domains are left alone, and those of domains this infra does not declare
(another infra directory on the same host, or a removed domain) are not
listed: ``anklume domain check`` reports every orphan.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from anklume.plan.model import DOMAIN, owned

if TYPE_CHECKING:
    from anklume.engine.resolved import Resolved


@dataclass(frozen=True, order=True)
class Declared:
    """One instance as the generated files declare it."""

    domain: str
    name: str
    project: str
    ip: str = ""


@dataclass(frozen=True, order=True)
class StatusRow:
    """One line of the status table; ``drift`` is empty when live matches declared."""

    domain: str
    name: str
    project: str
    state: str
    ip: str
    drift: str


def declared_instances(resolved: Resolved) -> list[Declared]:
    """Return the instances of the enabled domains of a resolved infra."""
    return sorted(
        Declared(domain=d.name, name=m.instance_name, project=d.incus_project, ip=m.ip or "")
        for d in resolved.domains.values()
        if d.enabled
        for m in d.machines.values()
    )


def live_ipv4(instance: Mapping[str, Any]) -> str:
    """Return the first global IPv4 address of a live instance (eth0 first).

    >>> live_ipv4({"state": {"network": {"lo": {"addresses": [
    ...     {"family": "inet", "address": "127.0.0.1", "scope": "local"}]},
    ...     "eth0": {"addresses": [{"family": "inet", "address": "10.1.0.1", "scope": "global"}]}}}})
    '10.1.0.1'
    >>> live_ipv4({"state": None})
    ''
    """
    network = (instance.get("state") or {}).get("network") or {}
    names = sorted(network, key=lambda n: (n != "eth0", n))
    for nic in names:
        for addr in (network[nic] or {}).get("addresses") or []:
            if addr.get("family") == "inet" and addr.get("scope") == "global":
                return str(addr.get("address", ""))
    return ""


def _owned_domain(instance: Mapping[str, Any]) -> str | None:
    config = instance.get("config") or {}
    return str(config.get(DOMAIN, "")) if owned(config) else None


def _drift(decl: Declared, live: Mapping[str, Any] | None) -> tuple[str, str, str]:
    """Return (state, ip, drift) of one declared instance.

    >>> _drift(Declared("pro", "web", "pro", "10.1.0.1"), None)
    ('absent', '', 'missing')
    >>> _drift(Declared("pro", "web", "pro", "10.1.0.1"), {"status": "Stopped", "project": "pro"})
    ('Stopped', '', 'not running')
    """
    if live is None:
        return "absent", "", "missing"
    state = str(live.get("status", "?"))
    ip = live_ipv4(live)
    problems = []
    if live.get("project", decl.project) != decl.project:
        problems.append(f"in project {live.get('project')}")
    if state != "Running":
        problems.append("not running")
    elif decl.ip and ip != decl.ip:
        problems.append(f"ip {ip or 'none'} ≠ {decl.ip}")
    return state, ip, ", ".join(problems)


def compare(
    declared: Sequence[Declared],
    live: Iterable[Mapping[str, Any]],
    ignored_domains: Iterable[str] = (),
) -> list[StatusRow]:
    """Compare declared with live instances; one row per instance, orphans included.

    >>> rows = compare([Declared("pro", "web", "pro", "10.1.0.1")], [
    ...     {"name": "web", "project": "pro", "status": "Running", "state": {"network": {"eth0": {
    ...         "addresses": [{"family": "inet", "address": "10.1.0.1", "scope": "global"}]}}}},
    ...     {"name": "old", "project": "pro", "status": "Running",
    ...      "config": {"user.anklume.managed": "true", "user.anklume.domain": "pro"}},
    ...     {"name": "mine", "project": "default", "status": "Running", "config": {}},
    ...     {"name": "other", "project": "lab", "status": "Running",
    ...      "config": {"user.anklume.managed": "true", "user.anklume.domain": "lab"}}])
    >>> [(r.name, r.drift) for r in rows]
    [('old', 'orphan'), ('web', '')]
    """
    by_name = {str(i.get("name")): i for i in live}
    ignored = set(ignored_domains)
    names = {d.name for d in declared}
    domains = {d.domain for d in declared}
    rows = []
    for decl in declared:
        state, ip, drift = _drift(decl, by_name.get(decl.name))
        rows.append(StatusRow(decl.domain, decl.name, decl.project, state, ip, drift))
    for name, inst in by_name.items():
        domain = _owned_domain(inst)
        if name in names or domain not in domains or domain in ignored:
            continue
        project = str(inst.get("project", ""))
        rows.append(StatusRow(domain, name, project, str(inst.get("status", "?")), live_ipv4(inst), "orphan"))
    return sorted(rows)
