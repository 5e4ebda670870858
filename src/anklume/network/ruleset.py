"""Render the host table ``inet anklume`` from the resolved infra (pure).

The text is one ``nft -f`` transaction: it creates the table when missing,
deletes it, then declares it in full, so loading it replaces the table
atomically and touches no other table. Only anklume's bridges are matched
(by name), so ``incusbr0``, ``docker0`` or libvirt's bridges are left as
they are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from anklume.engine.resolved import Resolved
from anklume.network.policy import DHCP_PORT, DNS_PORT, Endpoint, Flow, flows, ifname

DEFAULT_TABLE = "anklume"
OWNER = "anklume infra "
"""The table's comment names the infra (``project_name``) whose rules it holds."""
PRIORITY = "filter - 5"
"""Both base chains run just before the ``filter`` priority (Incus's and iptables-nft's chains)."""

_TABLE = re.compile(r"[a-z][a-z0-9_]{0,31}")


@dataclass(frozen=True, slots=True)
class Ruleset:
    """A rendered ruleset and what could not be expressed in it."""

    table: str
    text: str
    warnings: list[str] = field(default_factory=list)


def table_name(name: str) -> str:
    """Return ``name`` when it is a valid anklume table name.

    >>> table_name("anklume")
    'anklume'
    >>> table_name("Anklume; flush ruleset")
    Traceback (most recent call last):
    ...
    ValueError: invalid nftables table name 'Anklume; flush ruleset'
    """
    if not _TABLE.fullmatch(name):
        msg = f"invalid nftables table name {name!r}"
        raise ValueError(msg)
    return name


def comment(text: str) -> str:
    """Return an nft ``comment "..."`` clause (quotes removed, at most 120 characters).

    >>> comment('say "hi"\\nthere')
    'comment "say hi there"'
    """
    clean = " ".join(text.replace('"', "").replace("\\", "").split())[:120]
    return f'comment "{clean}"'


def service(flow: Flow) -> str:
    """Return the protocol/port match of a flow ('' for every port and protocol).

    >>> from anklume.network.policy import Endpoint
    >>> e = Endpoint("host", "host")
    >>> service(Flow(e, e, (22,), "tcp", ""))
    'tcp dport 22'
    >>> service(Flow(e, e, (53, 5353), "udp", ""))
    'udp dport { 53, 5353 }'
    >>> service(Flow(e, e, None, "tcp", ""))
    ''
    """
    if flow.ports is None:
        return ""
    if len(flow.ports) == 1:
        return f"{flow.protocol} dport {flow.ports[0]}"
    return f"{flow.protocol} dport {{ {', '.join(str(p) for p in flow.ports)} }}"


def _side(end: Endpoint, way: str) -> list[str]:
    dev = "iifname" if way == "saddr" else "oifname"
    return [f'{dev} "{end.bridge}"', f"ip {way} {end.cidr}"]


def _join(*parts: str) -> str:
    return " ".join(p for p in parts if p)


def forward_rule(flow: Flow) -> str | None:
    """Return the forward rule of a domain-to-domain flow (None when the forward chain has no part in it)."""
    if flow.source.kind == "host" or flow.target.kind == "host":
        return None
    if flow.source.domain == flow.target.domain:
        return None  # inside one domain: already accepted
    return _join(*_side(flow.source, "saddr"), *_side(flow.target, "daddr"), service(flow), "accept")


def input_rule(flow: Flow) -> str | None:
    """Return the input rule of a domain-to-host flow (None for other flows)."""
    if flow.target.kind != "host" or flow.source.kind == "host":
        return None
    return _join(*_side(flow.source, "saddr"), service(flow), "accept")


def _domains(resolved: Resolved) -> list[tuple[str, str, str, bool]]:
    """(name, bridge, gateway, nat) of every declared domain, disabled ones included."""
    return [
        (d.name, ifname(d.network_name), d.gateway, d.nat)
        for d in sorted(resolved.domains.values(), key=lambda d: d.network_name)
    ]


def _bridge_set(bridges: list[str]) -> list[str]:
    lines = ["\tset bridges {", "\t\ttype ifname", f"\t\t{comment('bridges of anklume domains')}"]
    if bridges:
        lines.append("\t\telements = { " + ", ".join(f'"{b}"' for b in bridges) + " }")
    return [*lines, "\t}"]


def _forward(resolved: Resolved, found: list[Flow]) -> list[str]:
    doms = _domains(resolved)
    rules = [
        "iifname != @bridges oifname != @bridges accept " + comment("not anklume traffic: left alone"),
        "ct state established,related accept",
        "ct state invalid drop",
        "meta nfproto ipv6 drop " + comment("anklume bridges carry no IPv6"),
    ]
    rules += [f'iifname "{b}" oifname "{b}" accept {comment("inside domain " + n)}' for n, b, _, _ in doms]
    if resolved.firewall_mode == "vm":
        rules.append("# firewall_mode vm: policies between domains are enforced by anklume-firewall")
    else:
        for flow in found:
            rule = forward_rule(flow)
            if rule:
                rules.append(f"{rule} {comment(flow.description)}")
    rules.append("iifname @bridges oifname @bridges drop " + comment("between domains without a policy"))
    rules += [
        f'iifname "{b}" drop {comment(f"domain {n} has nat false: no way out")}' for n, b, _, nat in doms if not nat
    ]
    return rules


def _input(resolved: Resolved, found: list[Flow]) -> list[str]:
    rules = [
        "iifname != @bridges accept " + comment("not from a domain: left alone"),
        "ct state established,related accept",
        "ct state invalid drop",
        "meta nfproto ipv6 drop " + comment("anklume bridges carry no IPv6"),
        f"udp dport {DHCP_PORT} accept " + comment("DHCP"),
    ]
    for name, bridge, gateway, _ in _domains(resolved):
        to_gw = f'iifname "{bridge}" ip daddr {gateway}'
        rules += [
            f"{to_gw} meta l4proto {{ tcp, udp }} th dport {DNS_PORT} accept {comment('DNS of ' + name)}",
            f"{to_gw} meta l4proto icmp accept {comment('ICMP to the gateway of ' + name)}",
        ]
    for flow in found:
        rule = input_rule(flow)
        if rule:
            rules.append(f"{rule} {comment(flow.description)}")
    rules.append("drop " + comment("anything else from a domain to the host"))
    return rules


def _chain(name: str, hook: str, rules: list[str]) -> list[str]:
    head = [f"\tchain {name} {{", f"\t\ttype filter hook {hook} priority {PRIORITY}; policy accept;"]
    return [*head, *(f"\t\t{r}" for r in rules), "\t}"]


def render(resolved: Resolved, /, *, table: str = DEFAULT_TABLE) -> Ruleset:
    """Return the ``nft -f`` text that replaces table ``inet <table>`` with the infra's rules."""
    name = table_name(table)
    found, warnings = flows(resolved)
    bridges = [b for _, b, _, _ in _domains(resolved)]
    lines = [
        f"# anklume host firewall for '{resolved.project_name}': generated from infra.yml, do not edit.",
        f"# Loading this file replaces table inet {name} atomically and touches no other table.",
        f"table inet {name} {{}}",
        f"delete table inet {name}",
        f"table inet {name} {{",
        "\t" + comment(OWNER + resolved.project_name),
        *_bridge_set(bridges),
        "",
        *_chain("forward", "forward", _forward(resolved, found)),
        "",
        *_chain("input", "input", _input(resolved, found)),
        "}",
    ]
    return Ruleset(name, "\n".join(lines) + "\n", warnings)
