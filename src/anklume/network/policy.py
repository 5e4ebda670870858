"""Network policies as flows between concrete endpoints.

A policy names a domain (its whole /24 behind its bridge), a machine (its
single IP behind its domain's bridge) or ``host``. :func:`flows` turns the
resolved policies into one-way :class:`Flow` records (a bidirectional policy
gives two), and :func:`allows` answers whether a packet is allowed: the
oracle that ``network verify`` compares real traffic with.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Literal

from anklume.engine.resolved import Resolved, ResolvedPolicy
from anklume.proxy.spec import PORTS

HOST = "host"
DNS_PORT = 53
DHCP_PORT = 67

_IFNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,14}")


def ifname(name: str) -> str:
    """Return ``name`` when it is a valid Linux interface name.

    >>> ifname("net-pro")
    'net-pro'
    >>> ifname('x" accept')
    Traceback (most recent call last):
    ...
    ValueError: invalid interface name 'x" accept'
    """
    if not _IFNAME.fullmatch(name):
        msg = f"invalid interface name {name!r}"
        raise ValueError(msg)
    return name


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One side of a flow: ``cidr`` is a /24 for a domain, a single IP for a machine."""

    kind: Literal["domain", "machine", "host"]
    name: str
    domain: str = ""
    bridge: str = ""
    cidr: str = ""

    def covers(self, domain: str, ip: str | None) -> bool:
        """Return True when a packet from/to ``ip`` on ``domain`` (``host``: the host) matches.

        >>> Endpoint("domain", "pro", "pro", "net-pro", "10.1.0.0/24").covers("pro", "10.1.0.7")
        True
        >>> Endpoint("machine", "web", "pro", "net-pro", "10.1.0.7").covers("pro", "10.1.0.8")
        False
        >>> Endpoint("host", "host").covers("host", None)
        True
        """
        if self.kind == "host":
            return domain == HOST
        if domain != self.domain or ip is None:
            return False
        return ipaddress.ip_address(ip) in ipaddress.ip_network(self.cidr)


@dataclass(frozen=True, slots=True)
class Flow:
    """One allowed direction of a policy; ``ports`` None means every port and protocol."""

    source: Endpoint
    target: Endpoint
    ports: tuple[int, ...] | None
    protocol: str
    description: str

    def matches(self, protocol: str, port: int) -> bool:
        """Return True when ``protocol``/``port`` is inside this flow's service."""
        return self.ports is None or (protocol == self.protocol and port in self.ports)


def endpoint(resolved: Resolved, name: str) -> Endpoint | None:
    """Return the endpoint a policy name stands for (None: a machine without an IP)."""
    if name == HOST:
        return Endpoint("host", HOST)
    if name in resolved.domains:
        dom = resolved.domains[name]
        net = ipaddress.ip_network(dom.subnet)
        return Endpoint("domain", name, name, ifname(dom.network_name), str(net))
    for dom in resolved.domains.values():
        machine = dom.machines.get(name)
        if machine is not None:
            if machine.ip is None:
                return None
            ip = ipaddress.ip_address(machine.ip)
            return Endpoint("machine", name, dom.name, ifname(dom.network_name), str(ip))
    msg = f"policy endpoint {name!r} is neither a domain, a machine nor 'host'"
    raise ValueError(msg)


def _ports(policy: ResolvedPolicy) -> tuple[int, ...] | None:
    if isinstance(policy.ports, str) or not policy.ports:
        return None
    return tuple(sorted({int(p) for p in policy.ports}))


def flows(resolved: Resolved) -> tuple[list[Flow], list[str]]:
    """Return every allowed direction of every policy, plus warnings for those that cannot apply."""
    found: list[Flow] = []
    warnings: list[str] = []
    for policy in resolved.policies:
        src, dst = endpoint(resolved, policy.source), endpoint(resolved, policy.target)
        label = policy.description or f"{policy.source} -> {policy.target}"
        if src is None or dst is None:
            warnings.append(f"policy '{label}': a machine without an IP cannot be filtered; flow stays closed")
            continue
        pairs = [(src, dst)] + ([(dst, src)] if policy.bidirectional else [])
        for a, b in pairs:
            found.append(Flow(a, b, _ports(policy), policy.protocol, label))
    return found, warnings


def allows(
    resolved: Resolved,
    source: tuple[str, str | None],
    target: tuple[str, str | None],
    protocol: str,
    port: int,
) -> bool:
    """Return True when the policy model lets this packet through.

    ``source``/``target`` are ``(domain, ip)``, or ``("host", None)`` for the host.
    Inside a domain everything is allowed; the host reaches every domain
    (with ``host_access: policies``, only through a flow); a domain reaches
    DHCP and DNS on its gateway; everything else needs a flow.
    Domains that opt in to ``package_proxy`` also reach the proxy ports.
    """
    if source[0] == target[0] and source[0] != HOST:
        return True
    if source[0] == HOST and resolved.host_access != "policies":
        return True
    if target[0] == HOST and (port == DNS_PORT or (protocol == "udp" and port == DHCP_PORT)):
        return True
    if target[0] == HOST and protocol == "tcp" and port in PORTS and _proxied(resolved, source[0]):
        return True  # the package proxy on the domain's gateway
    found, _ = flows(resolved)
    return any(f.source.covers(*source) and f.target.covers(*target) and f.matches(protocol, port) for f in found)


def _proxied(resolved: Resolved, domain: str) -> bool:
    dom = resolved.domains.get(domain)
    return dom is not None and dom.package_proxy and dom.enabled
