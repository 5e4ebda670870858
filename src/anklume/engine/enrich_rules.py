"""Enrichment rules that span the whole infra: firewall VM, privileges, limits, policies."""

from __future__ import annotations

from typing import Any

from anklume.engine import addressing as addr
from anklume.engine.enrich_addresses import DomainNet
from anklume.engine.enrich_devices import config_text
from anklume.engine.host import HostFacts
from anklume.engine.load import SourceMap
from anklume.engine.model import Infra, Machine, Profile, ResourcePolicy
from anklume.engine.references import AI_DOMAIN
from anklume.engine.resolved import ResolvedPolicy
from anklume.engine.resources import allocate
from anklume.errors import Problem

FIREWALL = "anklume-firewall"


def with_firewall(infra: Infra, nets: dict[str, DomainNet]) -> Infra:
    """Add the firewall VM to domain ``anklume`` unless it is declared somewhere."""
    if infra.global_.firewall_mode != "vm" or "anklume" not in nets:
        return infra
    if any(FIREWALL in (d.machines or {}) for d in infra.domains.values()):
        return infra
    firewall = Machine(
        description="Firewall routing between domains (added by anklume)",
        type="vm",
        ip=f"{nets['anklume'].prefix}.{addr.FIREWALL_HOST}",
        ephemeral=False,
        config={"limits.cpu": "2", "limits.memory": "2GiB"},
        roles=["base_system", "firewall_router"],
    )
    anklume = infra.domains["anklume"]
    machines = {**(anklume.machines or {}), FIREWALL: firewall}
    domains = {**infra.domains, "anklume": anklume.model_copy(update={"machines": machines})}
    return infra.model_copy(update={"domains": domains})


def truthy(value: str | bool | int | float) -> bool:
    """Whether Incus reads a configuration value as true.

    >>> [truthy(v) for v in (True, 1, "yes", "ON", "TRUE", "false", 0, "")]
    [True, True, True, True, True, False, False, False]
    """
    return config_text(value).strip().lower() in {"true", "1", "yes", "on"}


def _privileged_by(machine: Machine, profiles: dict[str, Profile]) -> tuple[str | int, ...] | None:
    """Where a machine becomes privileged: its own config, or the first profile that says so."""
    own = (machine.config or {}).get("security.privileged")
    if own is not None:
        return ("config", "security.privileged") if truthy(own) else None
    for index, name in enumerate(machine.profiles or []):
        profile = profiles.get(name)
        if profile is not None and truthy((profile.config or {}).get("security.privileged", "")):
            return ("profiles", index)
    return None


def privileged(infra: Infra, host: HostFacts, sm: SourceMap, warnings: list[str]) -> list[Problem]:
    """Forbid privileged containers (in their config or a profile they use) without a VM above."""
    problems = []
    for dname, domain in infra.domains.items():
        for mname, machine in (domain.machines or {}).items():
            where = _privileged_by(machine, domain.profiles or {})
            if machine.type != "lxc" or host.vm_nested or where is None:
                continue
            if host.yolo:
                warnings.append(f"machine '{mname}': privileged container allowed by --yolo")
                continue
            path = ("domains", dname, "machines", mname, *where)
            msg = "a privileged container is forbidden unless a VM is in the parent chain"
            hint = "use type: vm, or run inside a VM (/etc/anklume/vm_nested: true), or pass --yolo"
            problems.append(sm.problem(path, msg, hint))
    return problems


def limits(
    infra: Infra, host: HostFacts, sm: SourceMap, problems: list[Problem], warnings: list[str]
) -> dict[str, dict[str, str]]:
    setting = infra.global_.resource_policy
    if setting is None or setting is False:
        return {}
    policy = setting if isinstance(setting, ResourcePolicy) else ResourcePolicy()
    if not host.cpus or not host.memory_bytes:
        warnings.append("could not read the host's CPUs and memory: resource_policy skipped")
        return {}
    machines = {
        mname: (m.weight, {k: config_text(v) for k, v in (m.config or {}).items()})
        for d in infra.domains.values()
        if d.enabled
        for mname, m in (d.machines or {}).items()
    }
    limits, over = allocate(policy, host.cpus, host.memory_bytes, machines)
    if over and not policy.overcommit:
        hint = "lower the limits, add weight to the important machines, or set resource_policy.overcommit: true"
        problems.append(sm.problem(("global", "resource_policy"), f"resources overcommitted: {over}", hint))
    elif over:
        warnings.append(f"resources overcommitted: {over}")
    return limits


def policies(infra: Infra) -> tuple[list[ResolvedPolicy], list[dict[str, Any]] | None]:
    declared = infra.network_policies or []
    policies = [ResolvedPolicy(p.description, p.from_, p.to, p.ports, p.protocol, p.bidirectional) for p in declared]
    raw = [p.model_dump(by_alias=True, exclude_unset=True) for p in declared]
    g = infra.global_
    if g.ai_access_policy == "exclusive" and g.ai_access_default and not any(p.to == AI_DOMAIN for p in declared):
        desc = f"Exclusive AI access: {g.ai_access_default} (added by anklume)"
        policies.append(ResolvedPolicy(desc, g.ai_access_default, AI_DOMAIN, "all", "tcp", True, auto_added=True))
        raw.append(
            {
                "description": desc,
                "from": g.ai_access_default,
                "to": AI_DOMAIN,
                "ports": "all",
                "bidirectional": True,
            }
        )
    return policies, raw or None
