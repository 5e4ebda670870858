"""Enrichment rules that span the whole infra: firewall VM, limits, policies.

What needs ``--yolo`` (privileged containers and the other escapes) is checked in :mod:`anklume.engine.guard`.
"""

from __future__ import annotations

from typing import Any

from anklume.engine import addressing as addr
from anklume.engine.enrich_addresses import DomainNet
from anklume.engine.host import HostFacts
from anklume.engine.load import SourceMap
from anklume.engine.model import Infra, Machine, ResourcePolicy
from anklume.engine.references import AI_DOMAIN
from anklume.engine.resolved import ResolvedPolicy
from anklume.engine.resources import allocate
from anklume.errors import Problem
from anklume.vocab import text

FIREWALL = "anklume-firewall"


def with_firewall(infra: Infra, nets: dict[str, DomainNet]) -> tuple[Infra, frozenset[str]]:
    """Add the firewall VM to domain ``anklume`` unless it is declared somewhere.

    Returns the infra and the names of the machines added.
    """
    if infra.global_.firewall_mode != "vm" or "anklume" not in nets:
        return infra, frozenset()
    if any(FIREWALL in (d.machines or {}) for d in infra.domains.values()):
        return infra, frozenset()
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
    return infra.model_copy(update={"domains": domains}), frozenset({FIREWALL})


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
        mname: (m.weight, {k: text(v) for k, v in (m.config or {}).items()})
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
