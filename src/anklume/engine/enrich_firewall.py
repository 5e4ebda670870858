"""Enrichment step of ``firewall_mode: vm``: the firewall's NICs and the domains' router.

The firewall instance (``anklume-firewall``) keeps its own ``eth0`` on the
bridge of the domain that holds it (``anklume``). It gets one more NIC on the
bridge of every other enabled domain, device and interface ``fw-<domain>``,
at that domain's ``.253``; each of those domains then uses ``.253`` as its
default gateway (``incus_network.router``), so traffic between domains is
routed, and filtered, by the firewall. In host mode nothing here applies.
"""

from __future__ import annotations

from anklume.engine import addressing as addr
from anklume.engine.enrich_addresses import DomainNet
from anklume.engine.enrich_rules import FIREWALL
from anklume.engine.load import SourceMap
from anklume.engine.model import Infra
from anklume.engine.resolved import Resolved
from anklume.errors import Problem

NIC_PREFIX = "fw-"
"""Device and interface name prefix of the firewall's NICs (``fw-`` + an 11-character domain fits 15)."""


def nic_name(domain: str) -> str:
    """Return the firewall's device and interface name on a domain's bridge.

    >>> nic_name("pro")
    'fw-pro'
    """
    return f"{NIC_PREFIX}{domain}"


def router_address(prefix: str) -> str:
    """Return the firewall's address in a domain (its ``.253``).

    >>> router_address("10.110.1")
    '10.110.1.253'
    """
    return f"{prefix}.{addr.FIREWALL_HOST}"


def firewall_home(infra: Infra) -> str | None:
    """Return the enabled domain that holds the firewall in ``firewall_mode: vm``, else None."""
    if infra.global_.firewall_mode != "vm":
        return None
    for name, domain in infra.domains.items():
        if FIREWALL in (domain.machines or {}):
            return name if domain.enabled else None
    return None


def routed_domains(infra: Infra, nets: dict[str, DomainNet]) -> list[str]:
    """Return the enabled domains whose traffic is routed through the firewall."""
    home = firewall_home(infra)
    if home is None:
        return []
    return [name for name, d in infra.domains.items() if d.enabled and name != home and name in nets]


def firewall_nics(infra: Infra, nets: dict[str, DomainNet], bridges: dict[str, str]) -> dict[str, dict[str, str]]:
    """Return the firewall's ``fw-<domain>`` NIC devices (empty in host mode)."""
    return {
        nic_name(name): {
            "type": "nic",
            "network": bridges[name],
            "name": nic_name(name),
            "ipv4.address": router_address(nets[name].prefix),
        }
        for name in routed_domains(infra, nets)
    }


def router_conflicts(
    infra: Infra, nets: dict[str, DomainNet], ips: dict[str, str | None], sm: SourceMap
) -> list[Problem]:
    """Report machines that hold the ``.253`` the firewall takes in a routed domain."""
    problems: list[Problem] = []
    for name in routed_domains(infra, nets):
        taken = router_address(nets[name].prefix)
        for mname in infra.domains[name].machines or {}:
            if ips.get(mname) == taken:
                msg = f"{taken} is the firewall's address in this domain (firewall_mode: vm)"
                path = ("domains", name, "machines", mname, "ip")
                problems.append(sm.problem(path, msg, "choose another address (.251-.253 are reserved)"))
    return problems


def routers(res: Resolved) -> dict[str, str]:
    """Return domain → router address, read from the firewall's ``fw-<domain>`` NICs.

    The firewall's devices are the single source: a domain routes through the
    firewall exactly when the firewall has a NIC on its bridge.
    """
    if res.firewall_mode != "vm":
        return {}
    firewall = next(
        (d.machines[FIREWALL] for d in res.domains.values() if d.enabled and FIREWALL in d.machines),
        None,
    )
    if firewall is None:
        return {}
    found: dict[str, str] = {}
    for device, conf in (firewall.devices or {}).items():
        dom = res.domains.get(device.removeprefix(NIC_PREFIX)) if device.startswith(NIC_PREFIX) else None
        if dom is None or conf.get("type") != "nic" or conf.get("network") != dom.network_name:
            continue
        if conf.get("ipv4.address") and dom.name != firewall.domain:
            found[dom.name] = conf["ipv4.address"]
    return found
