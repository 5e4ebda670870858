"""Render the host table of an infra from the resolved infra (pure).

The text is one ``nft -f`` transaction: it creates the table when missing,
deletes it, then declares it in full, so loading it replaces the table
atomically and touches no other table. Only anklume's bridges are matched
(by name), so ``incusbr0``, ``docker0`` or libvirt's bridges are left as
they are.

Default deny into every bridge of the set: only traffic inside a domain,
declared policies and replies pass. Packets of an established connection
in its original direction are matched against the policies again (only
replies are accepted by state), so removing a policy cuts the connections
it had let through. Every string is validated or escaped (:mod:`nftsafe`).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass, field

from anklume.engine.resolved import Resolved
from anklume.network.flowrules import forward_rule, input_rule, output_rule, reply_rule, service
from anklume.network.nftsafe import comment, table_name, text
from anklume.network.policy import DHCP_PORT, DNS_PORT, Flow, flows, ifname
from anklume.network.proxyrules import proxy_rules

__all__ = [
    "DEFAULT_TABLE",
    "OWNER",
    "Fenced",
    "Ruleset",
    "comment",
    "forward_rule",
    "input_rule",
    "output_rule",
    "render",
    "reply_rule",
    "service",
    "table_name",
]

DEFAULT_TABLE = "anklume"
"""The table of earlier versions (one for the whole host); tables are now derived per infra."""
OWNER = "anklume infra "
"""The table's comment names the infra (``project_name``) whose rules it holds."""
PRIORITY = "filter - 5"
"""Both base chains run just before the ``filter`` priority (Incus's and iptables-nft's chains)."""


@dataclass(frozen=True, slots=True)
class Ruleset:
    """A rendered ruleset and what could not be expressed in it."""

    table: str
    text: str
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Fenced:
    """A bridge this infra owns on the host that infra.yml no longer declares (a removed domain)."""

    bridge: str
    domain: str


@dataclass(frozen=True, slots=True)
class _Bridge:
    name: str
    bridge: str
    gateway: str | None  # None: a removed domain (no DNS, no ICMP to its gateway)
    nat: bool


def _bridges(resolved: Resolved, fenced: Sequence[Fenced]) -> list[_Bridge]:
    """Every declared domain (disabled ones included), then every fenced bridge not declared."""
    found = [
        _Bridge(d.name, ifname(d.network_name), str(ipaddress.ip_address(d.gateway)), d.nat)
        for d in sorted(resolved.domains.values(), key=lambda d: d.network_name)
    ]
    declared = {b.bridge for b in found}
    extra = {f.bridge: f for f in fenced if f.bridge not in declared}
    return found + [_Bridge(f.domain, ifname(f.bridge), None, False) for _, f in sorted(extra.items())]


def _bridge_set(bridges: list[_Bridge]) -> list[str]:
    lines = ["\tset bridges {", "\t\ttype ifname", f"\t\t{comment('bridges of anklume domains')}"]
    if bridges:
        lines.append("\t\telements = { " + ", ".join(f'"{b.bridge}"' for b in bridges) + " }")
    return [*lines, "\t}"]


def _why_closed(b: _Bridge) -> str:
    if b.gateway is None:
        return comment(f"removed domain {b.name} stays fenced until pruned")
    return comment(f"domain {b.name} has nat false: no way out")


def _forward(resolved: Resolved, found: list[Flow], bridges: list[_Bridge]) -> list[str]:
    rules = [
        "iifname != @bridges oifname != @bridges accept " + comment("not anklume traffic: left alone"),
        "ct state invalid drop",
        "ct state related accept " + comment("ICMP errors of tracked connections"),
        "meta nfproto ipv6 drop " + comment("anklume bridges carry no IPv6"),
    ]
    rules += [f'iifname "{b.bridge}" oifname "{b.bridge}" accept {comment("inside domain " + b.name)}' for b in bridges]
    if resolved.firewall_mode == "vm":
        rules.append("# firewall_mode vm: policies between domains are enforced by anklume-firewall")
    else:
        for flow in found:
            for rule in (forward_rule(flow), reply_rule(flow)):
                if rule:
                    rules.append(f"{rule} {comment(flow.description)}")
    rules += [
        "ct direction reply iifname != @bridges accept " + comment("replies to connections a domain opened"),
        "iifname @bridges oifname @bridges drop " + comment("between domains without a policy"),
        "oifname @bridges drop " + comment("into a domain from outside: only replies and policies pass"),
    ]
    rules += [f'iifname "{b.bridge}" drop {_why_closed(b)}' for b in bridges if not b.nat]
    return rules


def _input(found: list[Flow], bridges: list[_Bridge], proxy: list[str]) -> list[str]:
    rules = [
        "iifname != @bridges accept " + comment("not from a domain: left alone"),
        "ct state invalid drop",
        "ct state related accept " + comment("ICMP errors of tracked connections"),
        "ct direction reply accept " + comment("replies to connections the host opened"),
        "meta nfproto ipv6 drop " + comment("anklume bridges carry no IPv6"),
        f"udp dport {DHCP_PORT} accept " + comment("DHCP"),
    ]
    for b in bridges:
        if b.gateway is None:
            continue
        to_gw = f'iifname "{b.bridge}" ip daddr {b.gateway}'
        rules += [
            f"{to_gw} meta l4proto {{ tcp, udp }} th dport {DNS_PORT} accept {comment('DNS of ' + b.name)}",
            f"{to_gw} meta l4proto icmp accept {comment('ICMP to the gateway of ' + b.name)}",
        ]
    rules += proxy
    for flow in found:
        rule = input_rule(flow)
        if rule:
            rules.append(f"{rule} {comment(flow.description)}")
    rules.append("drop " + comment("anything else from a domain to the host"))
    return rules


def _output(found: list[Flow]) -> list[str]:
    """Host to domains with ``host_access: policies``: replies, DHCP answers and policies ``from: host`` only."""
    rules = [
        "oifname != @bridges accept " + comment("not to a domain: left alone"),
        "ct state invalid drop",
        "ct state related accept " + comment("ICMP errors of tracked connections"),
        "ct direction reply accept " + comment("answers to what domains asked the host (DNS, policies to host)"),
        "meta nfproto ipv6 drop " + comment("anklume bridges carry no IPv6"),
        f"udp sport {DHCP_PORT} udp dport 68 accept " + comment("DHCP answers"),
    ]
    for flow in found:
        rule = output_rule(flow)
        if rule:
            rules.append(f"{rule} {comment(flow.description)}")
    rules.append("drop " + comment("host_access policies: the host opens nothing else into a domain"))
    return rules


def _chain(name: str, hook: str, rules: list[str]) -> list[str]:
    head = [f"\tchain {name} {{", f"\t\ttype filter hook {hook} priority {PRIORITY}; policy accept;"]
    return [*head, *(f"\t\t{r}" for r in rules), "\t}"]


def render(
    resolved: Resolved,
    /,
    *,
    table: str = DEFAULT_TABLE,
    fenced: Sequence[Fenced] = (),
    replaces: Sequence[str] = (),
) -> Ruleset:
    """Return the ``nft -f`` text that replaces table ``inet <table>`` with the infra's rules.

    ``fenced``: bridges this infra owns but no longer declares; they stay in
    the set, closed. ``replaces``: older tables of this infra that the same
    transaction deletes (the migration from the shared ``inet anklume``).
    """
    name = table_name(table)
    found, warnings = flows(resolved)
    bridges = _bridges(resolved, fenced)
    old = [table_name(t) for t in replaces if t != name]
    lines = [
        f"# anklume host firewall of infra {text(resolved.project_name)}: generated from infra.yml, do not edit.",
        f"# Loading this file replaces table inet {name} atomically and touches no other table.",
        *(line for t in old for line in (f"table inet {t} {{}}", f"delete table inet {t}")),
        f"table inet {name} {{}}",
        f"delete table inet {name}",
        f"table inet {name} {{",
        "\t" + comment(OWNER + resolved.project_name),
        *_bridge_set(bridges),
        "",
        *_chain("forward", "forward", _forward(resolved, found, bridges)),
        "",
        *_chain("input", "input", _input(found, bridges, proxy_rules(resolved))),
        *(["", *_chain("output", "output", _output(found))] if resolved.host_access == "policies" else []),
        "}",
    ]
    return Ruleset(name, "\n".join(lines) + "\n", warnings)
