"""The second isolation layer: IPv4 policy-routing rules that do not live in nftables (pure).

The host table is the first layer. A ``flush ruleset`` (Debian's
``nftables.service`` stop or reload, an administrator's reset) removes it
with every other table, Incus's included, and nothing in nftables can
survive that. This layer lives in the kernel's routing policy database
(``ip rule``), which no nftables command touches:

- ``ALLOW`` (goto ``END``): the host reaching each domain, and every policy
  flow between two domains (host mode) with its replies, matched by
  addresses, protocol and port;
- ``DENY`` (``blackhole``, a silent drop like the table's): everything a ``nat: false`` domain would route
  out of its bridge, everything routed into it from elsewhere, and from a
  ``nat: true`` domain to every other domain of the infra; bridges of
  removed domains are fenced both ways;
- ``END``: a ``nop`` rule that allowed packets jump to, so they skip the
  denials and go on to the host's own rules (``lookup main``, a VPN's
  tables): the layer never chooses a route, it only forbids.

Traffic inside a domain is bridged, not routed, and traffic to the host's
own addresses is delivered by the ``local`` table (priority 0) first: this
layer covers routed traffic only; domain-to-host services stay with the
table. Rules with an interface that does not exist yet are kept detached
by the kernel and apply as soon as the bridge appears, so the boot file can
be loaded before Incus creates its bridges.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from anklume.engine.resolved import Resolved
from anklume.network.policy import Flow, flows, ifname

PROTOCOL = 173
"""Tag (``protocol``) of every rule anklume installs, so the live ones can be told apart."""
ALLOW, DENY, END = 9310, 9320, 9330
"""Priorities: allowed flows jump to END over the denials; END is a no-op that later rules follow."""


@dataclass(frozen=True, slots=True, order=True)
class Rule:
    """One ``ip rule``: priority, selector (key/value pairs in a fixed order) and action."""

    pref: int
    selector: tuple[tuple[str, str], ...]
    action: str

    def args(self) -> list[str]:
        """The arguments after ``ip rule add`` / ``ip rule del``.

        >>> Rule(DENY, (("iif", "net-a"),), "blackhole").args()
        ['pref', '9320', 'iif', 'net-a', 'protocol', '173', 'blackhole']
        """
        out = ["pref", str(self.pref)]
        for key, value in self.selector:
            out += [key, value]
        return [*out, "protocol", str(PROTOCOL), *self.action.split()]


_ORDER = ("from", "to", "iif", "ipproto", "sport", "dport")


def _rule(pref: int, action: str, **sel: str) -> Rule:
    return Rule(pref, tuple((k, sel[k]) for k in _ORDER if sel.get(k)), action)


def _net(cidr: str) -> str:
    net = ipaddress.ip_network(cidr, strict=False)
    return str(net)


def _flow_rules(flow: Flow) -> list[Rule]:
    """Allow a flow between two domains and its replies (ICMP errors included), statelessly."""
    src, dst, goto = flow.source, flow.target, f"goto {END}"
    there = {"from": _net(src.cidr), "to": _net(dst.cidr), "iif": src.bridge}
    back = {"from": _net(dst.cidr), "to": _net(src.cidr), "iif": dst.bridge}
    if flow.ports is None:
        return [_rule(ALLOW, goto, **there), _rule(ALLOW, goto, **back)]
    out = []
    for port in flow.ports:
        out.append(_rule(ALLOW, goto, **there, ipproto=flow.protocol, dport=str(port)))
        out.append(_rule(ALLOW, goto, **back, ipproto=flow.protocol, sport=str(port)))
    return [*out, _rule(ALLOW, goto, **back, ipproto="icmp")]


def rules(resolved: Resolved, fenced: Iterable[tuple[str, str | None]] = ()) -> list[Rule]:
    """Return the rules of an infra, sorted; ``fenced`` lists (bridge, subnet or None) of removed domains."""
    doms = sorted(resolved.domains.values(), key=lambda d: d.network_name)
    out = {_rule(END, "nop")}
    for dom in doms:
        out.add(_rule(ALLOW, f"goto {END}", to=_net(dom.subnet), iif="lo"))
    if resolved.firewall_mode != "vm":  # in vm mode the firewall routes between domains, never the host
        found, _ = flows(resolved)
        for flow in found:
            if "host" in (flow.source.kind, flow.target.kind) or flow.source.domain == flow.target.domain:
                continue  # to or from the host: local delivery; inside a domain: bridged
            out.update(_flow_rules(flow))
    for dom in doms:
        bridge = ifname(dom.network_name)
        if not dom.nat:
            out |= {_rule(DENY, "blackhole", iif=bridge), _rule(DENY, "blackhole", to=_net(dom.subnet))}
            continue
        out |= {_rule(DENY, "blackhole", to=_net(o.subnet), iif=bridge) for o in doms if o is not dom}
    for bridge, subnet in fenced:
        out.add(_rule(DENY, "blackhole", iif=ifname(bridge)))
        if subnet:
            out.add(_rule(DENY, "blackhole", to=_net(subnet)))
    return sorted(out, key=lambda r: (r.pref, r.action != "nop", r.selector, r.action))


def text(found: Sequence[Rule], table: str) -> str:
    """The boot file: ``ip -batch`` lines adding every rule (END first, so gotos resolve at once).

    >>> print(text([Rule(END, (), "nop")], "anklume"), end="")
    # anklume second isolation layer of table anklume: generated from infra.yml, do not edit.
    # Load with: ip -batch <this file> (on a host without these rules, i.e. at boot).
    rule add pref 9330 protocol 173 nop
    """
    head = [
        f"# anklume second isolation layer of table {table}: generated from infra.yml, do not edit.",
        "# Load with: ip -batch <this file> (on a host without these rules, i.e. at boot).",
    ]
    ends = [r for r in found if r.pref == END]
    body = [" ".join(["rule", "add", *r.args()]) for r in [*ends, *(r for r in found if r.pref != END)]]
    return "\n".join([*head, *body]) + "\n"


def parse(content: str) -> list[Rule]:
    """Read back a boot file written by :func:`text` (other lines are ignored).

    >>> parse(text([_rule(DENY, "blackhole", iif="net-a")], "t"))
    [Rule(pref=9320, selector=(('iif', 'net-a'),), action='blackhole')]
    """
    out = []
    for line in content.splitlines():
        words = line.split()
        if len(words) < 6 or words[:3] != ["rule", "add", "pref"] or not words[3].isdigit():
            continue
        rest, action = words[4:], []
        sel: dict[str, str] = {}
        while rest:
            key = rest.pop(0)
            if key in _ORDER and rest:
                sel[key] = rest.pop(0)
            elif key == "protocol" and rest:
                rest.pop(0)
            else:
                action = [key, *rest]
                break
        out.append(_rule(int(words[3]), " ".join(action), **sel))
    return out


def from_json(item: Mapping[str, Any]) -> Rule | None:
    """Return an anklume rule from one ``ip -j rule show`` object (None for anyone else's rule).

    >>> from_json({"priority": 9320, "src": "all", "dst": "10.1.0.0", "dstlen": 24,
    ...            "action": "blackhole", "protocol": "173"})
    Rule(pref=9320, selector=(('to', '10.1.0.0/24'),), action='blackhole')
    >>> from_json({"priority": 9310, "src": "10.1.0.1", "iif": "net-a", "ipproto": "tcp", "dport": 80,
    ...            "goto": 9330, "protocol": "173"}).args()[2:4]
    ['from', '10.1.0.1/32']
    >>> from_json({"priority": 0, "src": "all", "table": "local"}) is None
    True
    """
    if str(item.get("protocol")) != str(PROTOCOL):
        return None

    def addr(key: str, length: str) -> str:
        value = str(item.get(key, "all"))
        return "" if value == "all" else f"{value}/{item.get(length, 32)}"

    if "goto" in item:
        action = f"goto {item['goto']}"
    elif "nop" in item:
        action = "nop"
    else:
        action = str(item.get("action", ""))
    sel = {
        "from": addr("src", "srclen"),
        "to": addr("dst", "dstlen"),
        "iif": str(item.get("iif", "")),
        "ipproto": str(item.get("ipproto", "")),
        "sport": str(item.get("sport", "")),
        "dport": str(item.get("dport", "")),
    }
    return _rule(int(item.get("priority", 0)), action, **sel)
