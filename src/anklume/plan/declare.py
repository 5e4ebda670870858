"""Build the declared state from the variables ``anklume sync`` writes.

Input is plain data: one mapping per domain (its ``group_vars/<domain>.yml``
variables) and one per machine (its host variables). The Incus names come
from the generated variables (``incus_project``, ``incus_network.name``,
``instance_name``), so nesting prefixes are used exactly as written.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from typing import Any

from anklume.errors import PlanError
from anklume.plan import values
from anklume.plan.machines import instance
from anklume.plan.model import Declared, Domain, Profile
from anklume.vocab import DEFAULT_IMAGE, DEFAULT_POOL, DEFAULT_PROFILE, NIC, nic, ownership, text

DHCP_GATEWAY = "ipv4.dhcp.gateway"
"""Bridge key of the default gateway DHCP hands out; anklume sets it only for a ``router``, and removes it otherwise."""
RAW_DNSMASQ = "raw.dnsmasq"
DNS_LOCAL = "no-resolv"
"""``raw.dnsmasq`` of a bridge whose DNS answers local names only (``incus_network.dns: local``)."""


def dhcp_range(subnet: str) -> str:
    """Return the DHCP range (.100-.199) of a /24.

    >>> dhcp_range("10.120.0.0/24")
    '10.120.0.100-10.120.0.199'
    """
    net = ipaddress.IPv4Network(subnet, strict=False)
    return f"{net.network_address + 100}-{net.network_address + 199}"


def network_config(domain: str, net: Mapping[str, Any], nat: object) -> dict[str, str]:
    """Return the bridge config of a domain.

    A ``router`` (``firewall_mode: vm``) becomes the default gateway that
    DHCP hands out (``ipv4.dhcp.gateway``); the bridge keeps its own address.
    ``dns: local`` (the default without NAT, so files written before the key
    existed get it too) stops the bridge's dnsmasq from forwarding queries
    upstream: a domain with no way out cannot tunnel data over DNS.

    >>> network_config("pro", {"subnet": "10.120.0.0/24", "gateway": "10.120.0.254"}, False)
    ... # doctest: +NORMALIZE_WHITESPACE
    {'ipv4.address': '10.120.0.254/24', 'ipv4.dhcp.ranges': '10.120.0.100-10.120.0.199',
     'ipv4.nat': 'false', 'ipv6.address': 'none',
     'user.anklume.managed': 'true', 'user.anklume.domain': 'pro', 'raw.dnsmasq': 'no-resolv'}
    >>> network_config("pro", {"subnet": "10.120.0.0/24", "gateway": "10.120.0.254",
    ...     "router": "10.120.0.253"}, False)[DHCP_GATEWAY]
    '10.120.0.253'
    """
    subnet = ipaddress.IPv4Network(str(net["subnet"]), strict=False)
    config = {
        "ipv4.address": f"{net['gateway']}/{subnet.prefixlen}",
        "ipv4.dhcp.ranges": dhcp_range(str(subnet)),
        "ipv4.nat": text(True if nat is None else bool(nat)),
        "ipv6.address": "none",
        **ownership(domain),
    }
    dns = str(net.get("dns") or ("forward" if config["ipv4.nat"] == "true" else "local"))
    if dns not in ("local", "forward"):
        msg = f"domain {domain}: incus_network.dns is {dns!r}, expected local or forward"
        raise PlanError(msg)
    if dns == "local":
        config[RAW_DNSMASQ] = DNS_LOCAL  # dnsmasq reads no upstream server: local names only
    router = net.get("router")
    if router:
        address = ipaddress.IPv4Address(str(router))
        if address not in subnet:
            msg = f"domain {domain}: incus_network.router {address} is outside {subnet}"
            raise PlanError(msg)
        config[DHCP_GATEWAY] = str(address)
    return config


def _default_profile(name: str, project: str, network: str, pool: str, extra: Any) -> Profile:
    spec = extra if isinstance(extra, Mapping) else {}
    devices: dict[str, dict[str, str]] = {
        "root": {"type": "disk", "path": "/", "pool": pool},
        NIC: nic(network),
    }
    devices.update(values.devices(spec.get("devices"), f"profile {project}/default"))
    return Profile(
        name=DEFAULT_PROFILE,
        project=project,
        domain=name,
        config=values.config(spec.get("config"), f"profile {project}/default"),
        devices=devices,
        description=str(spec.get("description") or f"anklume domain {name}"),
    )


def domain(gv: Mapping[str, Any], *, pool: str = DEFAULT_POOL, infra: str = "") -> Domain:
    """Return one domain from its group variables."""
    name = values.resource_name(str(gv.get("domain_name", "")), "domain")
    project = values.resource_name(str(gv.get("incus_project", name)), "project")
    net = gv.get("incus_network") or {}
    if not isinstance(net, Mapping) or not net.get("name") or not net.get("subnet"):
        msg = f"domain {name}: incus_network needs name, subnet and gateway"
        raise PlanError(msg)
    network = values.resource_name(str(net["name"]), "network")
    nat = net.get("nat", gv.get("domain_nat"))
    raw_profiles = gv.get("incus_profiles") or {}
    profiles = {DEFAULT_PROFILE: _default_profile(name, project, network, pool, raw_profiles.get(DEFAULT_PROFILE))}
    for pname, spec in raw_profiles.items():
        if pname == DEFAULT_PROFILE:
            continue
        body = spec if isinstance(spec, Mapping) else {}
        what = f"profile {project}/{pname}"
        profiles[pname] = Profile(
            name=values.resource_name(str(pname), "profile"),
            project=project,
            domain=name,
            config={**values.config(body.get("config"), what), **ownership(name, infra)},
            devices=values.devices(body.get("devices"), what),
            description=str(body.get("description") or ""),
        )
    return Domain(
        name=name,
        project=project,
        network=network,
        project_config={
            "features.images": "false",
            "features.profiles": "true",
            "features.storage.volumes": "false",
            **ownership(name, infra),
        },
        network_config={**network_config(name, net, nat), **ownership(name, infra)},
        profiles=profiles,
        description=str(gv.get("domain_description") or ""),
    )


def declare(
    domains: Sequence[Mapping[str, Any]],
    machines: Sequence[Mapping[str, Any]],
    settings: Mapping[str, Any] | None = None,
) -> Declared:
    """Return the declared state of ``domains`` and their ``machines``.

    >>> d = declare([{"domain_name": "pro", "incus_project": "pro", "incus_network":
    ...     {"name": "net-pro", "subnet": "10.120.0.0/24", "gateway": "10.120.0.254"}}],
    ...     [{"instance_name": "web", "instance_domain": "pro", "instance_ip": "10.120.0.1"}])
    >>> d.instances[0].devices["eth0"]["ipv4.address"], d.instances[0].image
    ('10.120.0.1', 'images:debian/13')
    """
    opts = settings or {}
    pool = str(opts.get("storage_pool") or DEFAULT_POOL)
    default_image = str(opts.get("default_os_image") or DEFAULT_IMAGE)
    infra = str(opts.get("infra") or "")
    doms = {d.name: d for d in (domain(gv, pool=pool, infra=infra) for gv in domains)}
    instances = []
    for hv in machines:
        dom_name = str(hv.get("instance_domain", ""))
        if dom_name not in doms:
            msg = f"machine {hv.get('instance_name')!r}: domain {dom_name!r} has no group_vars"
            raise PlanError(msg)
        instances.append(instance(hv, doms[dom_name], default_image=default_image, infra=infra))
    return Declared(domains=tuple(doms.values()), instances=tuple(instances))
