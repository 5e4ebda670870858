"""Render the ruleset of the firewall instance (``firewall_mode: vm``), pure.

The firewall has one NIC on every domain bridge and is the domains' default
gateway, so traffic between domains is routed through it. It enforces the
same policies as the host table, matching on addresses (every instance NIC
has Incus's IPv4 filtering, so a source address names its machine), and logs
what it drops. A ``nat: false`` domain is not routed anywhere outside the
domains; the others leave masqueraded behind the firewall's own address, so
replies come back through it.
"""

from __future__ import annotations

import ipaddress

from anklume.engine.resolved import Resolved
from anklume.network.policy import Flow, flows
from anklume.network.ruleset import comment, service, table_name

LOG_PREFIX = "anklume-drop "


def _subnets(resolved: Resolved) -> list[tuple[str, str, bool]]:
    return [
        (d.name, str(ipaddress.ip_network(d.subnet)), d.nat)
        for d in sorted(resolved.domains.values(), key=lambda d: d.name)
    ]


def forward_rule(flow: Flow) -> str | None:
    """Return the router rule of a domain-to-domain flow (None for flows that involve the host)."""
    if "host" in (flow.source.kind, flow.target.kind) or flow.source.domain == flow.target.domain:
        return None
    parts = [f"ip saddr {flow.source.cidr}", f"ip daddr {flow.target.cidr}", service(flow), "accept"]
    return " ".join(p for p in parts if p)


def render(resolved: Resolved, /, *, table: str = "anklume") -> str:
    """Return the ``nft -f`` text of the firewall instance (replaces ``inet <table>`` atomically)."""
    name = table_name(table)
    nets = _subnets(resolved)
    found, _ = flows(resolved)
    elements = ", ".join(cidr for _, cidr, _ in nets)
    fwd = [
        "ct state established,related accept",
        "ct state invalid drop",
        "meta nfproto ipv6 drop",
    ]
    fwd += [f"ip saddr {c} ip daddr {c} accept {comment('inside domain ' + n)}" for n, c, _ in nets]
    for flow in found:
        rule = forward_rule(flow)
        if rule:
            fwd.append(f"{rule} {comment(flow.description)}")
    if nets:
        fwd += [
            f"ip saddr {c} ip daddr != @domains accept {comment(f'domain {n} has nat true: route out')}"
            for n, c, nat in nets
            if nat
        ]
    fwd.append(f'limit rate 10/second log prefix "{LOG_PREFIX}" level info')
    inp = [
        "ct state established,related accept",
        "ct state invalid drop",
        'iifname "lo" accept',
        "meta l4proto icmp accept",
        "meta nfproto ipv6 drop",
    ]
    if "anklume" in resolved.domains:
        own = str(ipaddress.ip_network(resolved.domains["anklume"].subnet))
        inp.append(f"ip saddr {own} accept {comment('the anklume domain administers the firewall')}")
    inp.append(f'limit rate 10/second log prefix "{LOG_PREFIX}" level info')
    lines = [
        "# anklume firewall router: generated from infra.yml, do not edit.",
        f"table inet {name} {{}}",
        f"delete table inet {name}",
        f"table inet {name} {{",
        "\tset domains {",
        "\t\ttype ipv4_addr",
        "\t\tflags interval",
        *([f"\t\telements = {{ {elements} }}"] if elements else []),
        "\t}",
        "",
        "\tchain forward {",
        "\t\ttype filter hook forward priority filter; policy drop;",
        *(f"\t\t{r}" for r in fwd),
        "\t}",
        "",
        "\tchain input {",
        "\t\ttype filter hook input priority filter; policy drop;",
        *(f"\t\t{r}" for r in inp),
        "\t}",
        "",
        "\tchain postrouting {",
        "\t\ttype nat hook postrouting priority srcnat; policy accept;",
        *(f"\t\tip saddr {c} ip daddr != @domains masquerade" for _, c, nat in nets if nat),
        "\t}",
        "}",
    ]
    return "\n".join(lines) + "\n"
