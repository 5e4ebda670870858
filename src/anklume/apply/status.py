"""Declared versus live instances: state, address and drift, per instance.

Declared instances come from the engine's resolved model (what ``anklume
sync`` writes to ``host_vars/``); live ones from a single ``incus list
--all-projects``. Anklume-owned live instances (``user.anklume.managed``) of a
declared domain that nothing declares are orphans. Instances of disabled
domains are left alone, and those of domains this infra does not declare
(another infra directory on the same host, or a removed domain) are not
listed: ``anklume domain check`` reports every orphan.

A live instance is matched by project and name, and what belongs to this
infra is decided by the planners' own scope function
(:func:`anklume.plan.scope.managed_in_scope`), so that ``status`` never calls
an instance of another infra an orphan or a drift that ``check`` leaves
alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from anklume.plan.model import PlanOptions
from anklume.plan.scope import domain_of, managed_in_scope

if TYPE_CHECKING:
    from anklume.engine.resolved import Resolved


@dataclass(frozen=True, order=True)
class Declared:
    """One instance as the generated files declare it."""

    domain: str
    name: str
    project: str
    ip: str = ""
    infra: str = ""
    """``project_name`` of the infra that declares the instance."""


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
        Declared(
            domain=d.name, name=m.instance_name, project=d.incus_project, ip=m.ip or "", infra=resolved.project_name
        )
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


def _key(instance: Mapping[str, Any]) -> tuple[str, str]:
    return str(instance.get("project", "default")), str(instance.get("name"))


def _match(
    decl: Declared,
    by_key: Mapping[tuple[str, str], Mapping[str, Any]],
    taken: set[tuple[str, str]],
    options: PlanOptions,
) -> Mapping[str, Any] | None:
    """Return the live instance of ``decl``: same project and name, else one of this infra in another project."""
    exact = by_key.get((decl.project, decl.name))
    if exact is not None:
        return exact
    for key, inst in by_key.items():
        if key[1] == decl.name and key not in taken and options.same_infra(inst.get("config")):
            return inst
    return None


def compare(
    declared: Sequence[Declared],
    live: Iterable[Mapping[str, Any]],
    ignored_domains: Iterable[str] = (),
    *,
    infra: str | None = None,
) -> list[StatusRow]:
    """Compare declared with live instances; one row per instance, orphans included.

    ``infra`` is the ``project_name`` of the declaring infra (default: the
    one the declared instances carry); instances another infra owns are
    never matched nor orphans.

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
    by_key = {_key(i): i for i in live}
    domains = frozenset(d.domain for d in declared)
    name = infra if infra is not None else next((d.infra for d in declared if d.infra), "")
    options = PlanOptions(selected=domains, disabled=frozenset(ignored_domains), infra=name)
    rows = []
    taken = {(d.project, d.name) for d in declared}
    matched = set(taken)
    for decl in declared:
        cur = _match(decl, by_key, taken, options)
        if cur is not None:
            matched.add(_key(cur))
        state, ip, drift = _drift(decl, cur)
        rows.append(StatusRow(decl.domain, decl.name, decl.project, state, ip, drift))
    orphans = managed_in_scope(by_key.values(), options) if domains else []
    for inst in orphans:
        project, inst_name = _key(inst)
        if (project, inst_name) in matched:
            continue
        rows.append(
            StatusRow(domain_of(inst), inst_name, project, str(inst.get("status", "?")), live_ipv4(inst), "orphan")
        )
    return sorted(rows)
