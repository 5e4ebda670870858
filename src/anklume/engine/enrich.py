"""Stage 3: apply defaults and derive what infra.yml leaves implicit.

Pure: the host's facts come in as :class:`HostFacts`. Derived parts are the
nesting prefix, subnets and addresses, the firewall VM of ``firewall_mode:
vm`` and its NICs on the other domains' bridges, disk devices of shared volumes and persistent data, resource limits,
and the policy of exclusive AI access.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from anklume.engine import addressing as addr
from anklume.engine.enrich_addresses import DomainNet, domain_nets, host_conflicts, machine_ips
from anklume.engine.enrich_devices import persistent_data_devices, shared_volume_devices
from anklume.engine.enrich_firewall import firewall_nics, router_conflicts
from anklume.engine.enrich_rules import FIREWALL, limits, policies, with_firewall
from anklume.engine.guard import guard
from anklume.engine.host import HostFacts
from anklume.engine.load import SourceMap
from anklume.engine.model import Domain, Infra, Machine
from anklume.engine.resolved import Resolved, ResolvedDomain, ResolvedMachine
from anklume.errors import InfraError
from anklume.vocab import text

Derived = dict[str, dict[str, dict[str, str]]]


@dataclass(frozen=True)
class _Ctx:
    """What every domain and machine needs from the whole infra."""

    infra: Infra
    prefix: str
    ips: dict[str, str | None]
    devices: Derived
    limits: dict[str, dict[str, str]]
    auto_added: frozenset[str]


def nesting_prefix(infra: Infra, host: HostFacts) -> str:
    """Return ``NNN-`` when this host is nested and the prefix is wanted, else ``""``."""
    if not infra.global_.nesting_prefix or host.absolute_level is None:
        return ""
    return f"{host.absolute_level:03d}-"


def enrich(infra: Infra, host: HostFacts, sm: SourceMap, /) -> Resolved:
    """Return the resolved infra, or raise :class:`InfraError` with every problem."""
    prefix = nesting_prefix(infra, host)
    nets, problems = domain_nets(infra, sm)
    infra, auto_added = with_firewall(infra, nets)
    ips, found = machine_ips(infra, nets, sm)
    problems += found
    bridges = {name: addr.bridge_name(name, prefix) for name in infra.domains}
    if host.check_subnets:
        problems += host_conflicts(nets, bridges, host.addresses, sm)
    problems += router_conflicts(infra, nets, ips, sm)
    warnings: list[str] = []
    problems += guard(infra, host, sm, warnings)
    added = limits(infra, host, sm, problems, warnings)
    if problems:
        raise InfraError(problems)
    nics = firewall_nics(infra, nets, bridges)
    devices = _merge(shared_volume_devices(infra), persistent_data_devices(infra), {FIREWALL: nics} if nics else {})
    ctx = _Ctx(infra, prefix, ips, devices, added, auto_added)
    domains = {name: _domain(name, dom, nets[name], bridges[name], ctx) for name, dom in infra.domains.items()}
    if infra.global_.gpu_policy == "shared":
        gpus = [m.name for d in domains.values() for m in d.machines.values() if m.gpu]
        if len(gpus) > 1:
            warnings.append(f"{len(gpus)} instances share the GPU ({', '.join(gpus)}): no isolation between them")
    rules, raw = policies(infra)
    g = infra.global_
    return Resolved(
        project_name=infra.project_name,
        addressing=g.addressing.model_dump() if g.addressing else None,
        base_subnet=None if g.addressing else g.base_subnet,
        default_os_image=g.default_os_image,
        default_connection=g.default_connection,
        default_user=g.default_user,
        firewall_mode=g.firewall_mode,
        host_access=g.host_access,
        nesting_prefix=prefix,
        domains=domains,
        policies=rules,
        raw_policies=raw,
        warnings=warnings,
    )


def _merge(*sources: dict[str, dict[str, dict[str, str]]]) -> dict[str, dict[str, dict[str, str]]]:
    out: dict[str, dict[str, dict[str, str]]] = {}
    for source in sources:
        for machine, devices in source.items():
            out.setdefault(machine, {}).update(devices)
    return out


def _domain(name: str, dom: Domain, net: DomainNet, bridge: str, ctx: _Ctx) -> ResolvedDomain:
    machines = {mname: _machine(mname, m, name, dom, ctx) for mname, m in (dom.machines or {}).items()}
    return ResolvedDomain(
        name=name,
        description=dom.description,
        enabled=dom.enabled,
        ephemeral=dom.ephemeral,
        trust_level=dom.trust_level or addr.DEFAULT_TRUST,
        trust_level_declared=dom.trust_level is not None,
        ai_provider=dom.ai_provider,
        ai_sanitize=dom.ai_sanitize if dom.ai_sanitize is not None else dom.ai_provider != "local",
        subnet_id=net.subnet_id,
        subnet=addr.subnet_of(net.prefix),
        gateway=addr.gateway_of(net.prefix),
        incus_project=f"{ctx.prefix}{name}",
        network_name=bridge,
        nat=dom.nat,
        profiles=_profiles(dom),
        machines=machines,
        package_proxy=ctx.infra.global_.package_proxy if dom.package_proxy is None else dom.package_proxy,
    )


def _profiles(dom: Domain) -> dict[str, dict[str, Any]] | None:
    """Profiles with every value as the string Incus stores, like machine config."""
    if not dom.profiles:
        return None
    out: dict[str, dict[str, Any]] = {}
    for name, profile in dom.profiles.items():
        entry: dict[str, Any] = {}
        if profile.devices is not None:
            entry["devices"] = {dev: {k: text(v) for k, v in conf.items()} for dev, conf in profile.devices.items()}
        if profile.config is not None:
            entry["config"] = {k: text(v) for k, v in profile.config.items()}
        out[name] = entry
    return out


def _machine(name: str, m: Machine, domain: str, dom: Domain, ctx: _Ctx) -> ResolvedMachine:
    config = {k: text(v) for k, v in (m.config or {}).items()}
    config.update({k: v for k, v in ctx.limits.get(name, {}).items() if k not in config})
    devices = dict(ctx.devices.get(name, {}))
    for dev, conf in (m.devices or {}).items():
        devices[dev] = {k: text(v) for k, v in conf.items()}
    return ResolvedMachine(
        name=name,
        domain=domain,
        instance_name=f"{ctx.prefix}{name}",
        type=m.type,
        description=m.description,
        ip=ctx.ips[name],
        os_image=m.os_image or ctx.infra.global_.default_os_image,
        ephemeral=m.ephemeral if m.ephemeral is not None else dom.ephemeral,
        gpu=m.gpu,
        profiles=list(m.profiles) if m.profiles is not None else None,
        config=config or None,
        devices=devices or None,
        storage_volumes=(
            {k: v.model_dump(exclude_none=True) for k, v in m.storage_volumes.items()} if m.storage_volumes else None
        ),
        roles=list(m.roles) if m.roles is not None else None,
        weight=m.weight,
        boot_autostart=m.boot_autostart,
        boot_priority=m.boot_priority,
        snapshots_schedule=m.snapshots_schedule,
        snapshots_expiry=m.snapshots_expiry,
        auto_added=name in ctx.auto_added,
    )
