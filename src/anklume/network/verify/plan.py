"""Which probes prove the policy, and what each should observe (pure).

For every ordered pair of enabled domains with running instances, one TCP
and one UDP probe on a port no policy names; for every policy direction, its
ports (at most three) between the named machines or the first running
instance of the named domains, plus the same ports from/to a machine of the
same domain that the policy does not name; for every domain, one probe to
the host's gateway address and one to its DNS. The expected outcome comes
from :func:`anklume.network.policy.allows`, not from the rendered ruleset.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

from anklume.engine.resolved import Resolved
from anklume.network.errors import ProbeRefused
from anklume.network.policy import DNS_PORT, HOST, Endpoint, Flow, allows, flows
from anklume.network.verify.extra import outside_in, removed

MAX_PROBES = 400
PORTS_PER_FLOW = 3
DEFAULT_PORT = 47001


@dataclass(frozen=True, slots=True)
class Instance:
    """A running instance a probe can start from or listen in."""

    machine: str
    domain: str
    name: str
    project: str
    ip: str
    gateway: str


@dataclass(frozen=True, slots=True)
class Probe:
    """One packet to send; ``target`` None means the host (``address`` is the source's gateway)."""

    source: Instance
    target: Instance | None
    address: str
    protocol: str
    port: int
    expected: bool
    listen: bool = True

    @property
    def target_label(self) -> str:
        """Who is probed: a machine name or ``host``."""
        return self.target.machine if self.target else HOST


def allowed_addresses(resolved: Resolved) -> set[str]:
    """Addresses a probe may target: declared instance IPs and gateways of enabled domains."""
    found = set()
    for dom in resolved.domains.values():
        if not dom.enabled:
            continue
        found.add(str(ipaddress.ip_address(dom.gateway)))
        found |= {str(ipaddress.ip_address(m.ip)) for m in dom.machines.values() if m.ip}
    return found


def guard(address: str, allowed: set[str]) -> str:
    """Return ``address`` when it may be probed, else raise :class:`ProbeRefused`.

    >>> guard("10.60.0.1", {"10.60.0.1"})
    '10.60.0.1'
    >>> guard("192.168.1.1", {"10.60.0.1"})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    anklume.network.errors.ProbeRefused: refusing to probe 192.168.1.1: not an anklume ...
    """
    try:
        canon = str(ipaddress.ip_address(address))
    except ValueError:
        raise ProbeRefused(address) from None
    if canon not in allowed:
        raise ProbeRefused(address)
    return canon


def free_port(resolved: Resolved, start: int = DEFAULT_PORT) -> int:
    """Return the first port from ``start`` that no policy names."""
    named = {p for pol in resolved.policies if isinstance(pol.ports, list) for p in pol.ports}
    port = start
    while port in named:
        port += 1
    return port


def running_instances(resolved: Resolved, running: set[tuple[str, str]]) -> dict[str, list[Instance]]:
    """Running instances of enabled domains, by domain, in machine-name order."""
    found: dict[str, list[Instance]] = {}
    for dom in sorted(resolved.domains.values(), key=lambda d: d.name):
        if not dom.enabled:
            continue
        for m in sorted(dom.machines.values(), key=lambda m: m.name):
            if m.ip and (dom.incus_project, m.instance_name) in running:
                inst = Instance(m.name, dom.name, m.instance_name, dom.incus_project, m.ip, dom.gateway)
                found.setdefault(dom.name, []).append(inst)
    return found


def _pick(end: Endpoint, by_domain: dict[str, list[Instance]]) -> list[Instance]:
    """The instance that stands for an endpoint, then one of its domain the endpoint does not name."""
    pool = by_domain.get(end.domain, [])
    if end.kind == "domain":
        return pool[:1]
    named = [i for i in pool if i.machine == end.name]
    others = [i for i in pool if i.machine != end.name]
    return named[:1] + others[:1]


def _flow_services(flow: Flow, port: int) -> list[tuple[str, int]]:
    if flow.ports is None:
        return [("tcp", port), ("udp", port)]
    return [(flow.protocol, p) for p in flow.ports[:PORTS_PER_FLOW]]


def _candidates(
    resolved: Resolved, by_domain: dict[str, list[Instance]], port: int
) -> list[tuple[Instance, Instance | None, str, int, bool]]:
    reps = {d: insts[0] for d, insts in by_domain.items()}
    out: list[tuple[Instance, Instance | None, str, int, bool]] = []
    for a, src in reps.items():
        for b, dst in reps.items():
            if a != b:
                out += [(src, dst, "tcp", port, True), (src, dst, "udp", port, True)]
        if len(by_domain[a]) > 1:
            out.append((src, by_domain[a][1], "tcp", port, True))
        out += [(src, None, "tcp", port, True), (src, None, "tcp", DNS_PORT, False)]
    found, _ = flows(resolved)
    for flow in found:
        if flow.source.kind == HOST:
            continue
        sources = _pick(flow.source, by_domain)
        targets: list[Instance | None] = [None] if flow.target.kind == HOST else list(_pick(flow.target, by_domain))
        for proto, p in _flow_services(flow, port):
            out += [(s, t, proto, p, True) for s in sources for t in targets if s != t]
    return out


def plan(
    resolved: Resolved,
    running: set[tuple[str, str]],
    *,
    limit: int = MAX_PROBES,
    outside: Instance | None = None,
    orphans: Sequence[Instance] = (),
) -> tuple[list[Probe], int]:
    """Return the probes (at most ``limit``) and how many were left out.

    ``outside`` is a source outside every domain, ``orphans`` the running
    instances of removed domains (:mod:`.extra`): their probes are always
    expected blocked, since no policy can name them.
    """
    by_domain = running_instances(resolved, running)
    port = free_port(resolved)
    allowed = allowed_addresses(resolved) | {o.ip for o in orphans} | {o.gateway for o in orphans}
    probes: list[Probe] = []
    seen: set[tuple[str, str, str, int]] = set()
    candidates = _candidates(resolved, by_domain, port)
    extras = (outside_in(outside, by_domain, port) if outside else []) + removed(list(orphans), by_domain, port)
    tagged = [(*c, False) for c in candidates] + [(c.source, c.target, c.protocol, c.port, True, True) for c in extras]
    for src, dst, proto, p, listen, never in tagged:
        address = guard(dst.ip if dst else src.gateway, allowed)
        key = (src.machine, address, proto, p)
        if key in seen:
            continue
        seen.add(key)
        target = (dst.domain, dst.ip) if dst else (HOST, None)
        expected = not never and allows(resolved, (src.domain, src.ip), target, proto, p)
        probes.append(Probe(src, dst, address, proto, p, expected, listen))
    return probes[:limit], max(0, len(probes) - limit)
