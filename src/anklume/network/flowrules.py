"""The nft rules of one policy flow, per chain and direction (pure).

Every part is validated on the way: interface names, addresses, ports
(integers) and protocols (``tcp``/``udp``).
"""

from __future__ import annotations

import ipaddress

from anklume.network.policy import Endpoint, Flow, ifname

PROTOCOLS = ("tcp", "udp")


def service(flow: Flow, *, reply: bool = False) -> str:
    """Return the protocol/port match of a flow ('' for every port and protocol).

    >>> from anklume.network.policy import Endpoint
    >>> e = Endpoint("host", "host")
    >>> service(Flow(e, e, (22,), "tcp", ""))
    'tcp dport 22'
    >>> service(Flow(e, e, (53, 5353), "udp", ""), reply=True)
    'udp sport { 53, 5353 }'
    >>> service(Flow(e, e, None, "tcp", ""))
    ''
    """
    if flow.ports is None:
        return ""
    if flow.protocol not in PROTOCOLS:
        msg = f"invalid protocol {flow.protocol!r}"
        raise ValueError(msg)
    way = "sport" if reply else "dport"
    ports = [str(int(p)) for p in flow.ports]
    if len(ports) == 1:
        return f"{flow.protocol} {way} {ports[0]}"
    return f"{flow.protocol} {way} {{ {', '.join(ports)} }}"


def _cidr(value: str) -> str:
    return str(ipaddress.ip_network(value, strict=False)) if "/" in value else str(ipaddress.ip_address(value))


def _side(end: Endpoint, way: str) -> list[str]:
    dev = "iifname" if way == "saddr" else "oifname"
    return [f'{dev} "{ifname(end.bridge)}"', f"ip {way} {_cidr(end.cidr)}"]


def _join(*parts: str) -> str:
    return " ".join(p for p in parts if p)


def forward_rule(flow: Flow) -> str | None:
    """Return the forward rule of a domain-to-domain flow (None when the forward chain has no part in it).

    It matches every packet of the flow's direction, new or established.
    """
    if flow.source.kind == "host" or flow.target.kind == "host":
        return None
    if flow.source.domain == flow.target.domain:
        return None  # inside one domain: already accepted
    return _join(*_side(flow.source, "saddr"), *_side(flow.target, "daddr"), service(flow), "accept")


def reply_rule(flow: Flow) -> str | None:
    """Return the rule accepting the replies of a domain-to-domain flow (tracked connections only)."""
    if forward_rule(flow) is None:
        return None
    back = _join(*_side(flow.target, "saddr"), *_side(flow.source, "daddr"), service(flow, reply=True))
    return f"ct direction reply {back} accept"


def input_rule(flow: Flow) -> str | None:
    """Return the input rule of a domain-to-host flow (None for other flows)."""
    if flow.target.kind != "host" or flow.source.kind == "host":
        return None
    return _join(*_side(flow.source, "saddr"), service(flow), "accept")


def output_rule(flow: Flow) -> str | None:
    """Return the output rule of a host-to-domain flow (only used with ``host_access: policies``)."""
    if flow.source.kind != "host" or flow.target.kind == "host":
        return None
    return _join(*_side(flow.target, "daddr"), service(flow), "accept")
