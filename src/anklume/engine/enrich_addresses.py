"""Enrichment step: the subnet of every domain and the address of every machine."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from anklume.engine import addressing as addr
from anklume.engine.load import SourceMap
from anklume.engine.model import Infra
from anklume.errors import Problem


@dataclass(frozen=True)
class DomainNet:
    """Where a domain lives on the network."""

    subnet_id: int
    prefix: str  # the first three octets, "10.110.1"


def domain_nets(infra: Infra, sm: SourceMap) -> tuple[dict[str, DomainNet], list[Problem]]:
    """Compute every domain's subnet (disabled domains reserve theirs too)."""
    if infra.global_.addressing is None:
        return _legacy(infra, sm)
    return _zones(infra, sm)


def _legacy(infra: Infra, sm: SourceMap) -> tuple[dict[str, DomainNet], list[Problem]]:
    nets: dict[str, DomainNet] = {}
    problems: list[Problem] = []
    owner: dict[int, str] = {}
    base = infra.global_.base_subnet
    for name, domain in infra.domains.items():
        sid = domain.subnet_id
        if sid is None:
            hint = "add subnet_id (0-254), or switch to global.addressing for automatic subnets"
            problems.append(sm.problem(("domains", name), "subnet_id is required in legacy addressing", hint))
            continue
        if sid in owner:
            msg = f"subnet_id {sid} is already used by domain '{owner[sid]}'"
            problems.append(sm.problem(("domains", name, "subnet_id"), msg))
        owner.setdefault(sid, name)
        nets[name] = DomainNet(sid, f"{base}.{sid}")
    return nets, problems


def _zones(infra: Infra, sm: SourceMap) -> tuple[dict[str, DomainNet], list[Problem]]:
    cfg = infra.global_.addressing
    if cfg is None:  # pragma: no cover - the caller checks
        return {}, []
    nets: dict[str, DomainNet] = {}
    problems: list[Problem] = []
    zones: dict[str, dict[str, int | None]] = {}
    for name, domain in infra.domains.items():
        zones.setdefault(domain.trust_level or addr.DEFAULT_TRUST, {})[name] = domain.subnet_id
    for trust, members in zones.items():
        second = addr.second_octet(cfg.zone_base, cfg.zone_step, trust)
        if second > 255:
            for name in members:
                msg = f"zone_base {cfg.zone_base} + zone_step {cfg.zone_step} puts '{trust}' at {second} (> 255)"
                problems.append(sm.problem(("domains", name, "trust_level"), msg, "lower global.addressing"))
            continue
        owner: dict[int, str] = {}
        for name in sorted(members):
            sid = members[name]
            if sid is not None and sid in owner:
                msg = f"subnet_id {sid} is already used by '{owner[sid]}' in the {trust} zone"
                problems.append(sm.problem(("domains", name, "subnet_id"), msg))
            if sid is not None:
                owner.setdefault(sid, name)
        for name, sid in addr.assign_subnet_ids(members).items():
            if sid > 254:
                problems.append(sm.problem(("domains", name), f"no free subnet left in the {trust} zone"))
                continue
            nets[name] = DomainNet(sid, f"{cfg.base_octet}.{second}.{sid}")
    return nets, problems


def machine_ips(infra: Infra, nets: dict[str, DomainNet], sm: SourceMap) -> tuple[dict[str, str | None], list[Problem]]:
    """Check explicit addresses and give the others one (zone mode only)."""
    ips: dict[str, str | None] = {}
    problems: list[Problem] = []
    used: dict[str, str] = {}
    auto = infra.global_.addressing is not None
    for dname, domain in infra.domains.items():
        machines = domain.machines or {}
        net = nets.get(dname)
        if net is None:
            ips.update(dict.fromkeys(machines))
            continue
        for mname, machine in machines.items():
            if machine.ip is None:
                continue
            path = ("domains", dname, "machines", mname, "ip")
            number = addr.host_number(machine.ip, net.prefix)
            if number is None:
                msg = f"{machine.ip} is outside the domain's subnet {addr.subnet_of(net.prefix)}"
                problems.append(sm.problem(path, msg))
            elif number in {0, addr.GATEWAY, 255}:
                problems.append(sm.problem(path, f"{machine.ip} is the network, gateway or broadcast address"))
            if machine.ip in used:
                problems.append(sm.problem(path, f"{machine.ip} is already used by machine '{used[machine.ip]}'"))
            used.setdefault(machine.ip, mname)
        explicit = [m.ip for m in machines.values()]
        filled = addr.auto_ips(net.prefix, explicit) if auto else explicit
        for (mname, machine), ip in zip(machines.items(), filled, strict=True):
            if ip is None and auto:
                msg = f"more than {addr.AUTO_IP_MAX} machines need an automatic address in this domain"
                problems.append(sm.problem(("domains", dname, "machines", mname), msg))
            ips[mname] = ip if machine.ip is None else machine.ip
    return ips, problems


def host_conflicts(
    nets: dict[str, DomainNet], bridges: dict[str, str], addresses: list[tuple[str, str]], sm: SourceMap
) -> list[Problem]:
    """Report domain subnets that overlap an address of the host.

    Addresses on anklume's own bridges (``bridges``: domain → bridge name)
    are expected and ignored.
    """
    problems: list[Problem] = []
    own = set(bridges.values())
    for ifname, cidr in addresses:
        if ifname in own:
            continue
        host_net = ipaddress.ip_interface(cidr).network
        for dname, net in nets.items():
            subnet = ipaddress.ip_network(addr.subnet_of(net.prefix))
            if subnet.overlaps(host_net):
                msg = f"subnet {subnet} overlaps {cidr} on host interface {ifname}"
                hint = (
                    "move the domain (subnet_id or global.addressing.zone_base); "
                    "to skip this check set ANKLUME_SKIP_HOST_SUBNET_CHECK=1"
                )
                problems.append(sm.problem(("domains", dname), msg, hint))
    return problems
