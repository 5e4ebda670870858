"""Find zone addressing that gives each domain the subnet its bridge already has (pure)."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass

#: Zone offset of each trust level (docs/SPEC.md, addressing).
OFFSETS = {"admin": 0, "trusted": 1, "semi-trusted": 2, "untrusted": 4, "disposable": 5}
#: Trust levels tried first: the default, then the others.
PREFERENCE = ("semi-trusted", "trusted", "admin", "untrusted", "disposable")
STEPS = (10, *range(1, 52))


@dataclass(frozen=True)
class Fit:
    """Zone addressing and, per domain, the trust level and subnet_id that reproduce its subnet."""

    zone_base: int
    zone_step: int
    trust: Mapping[str, str]
    subnet_id: Mapping[str, int]


def octets(subnet: str) -> tuple[int, int] | None:
    """Second and third octets of a ``10.x.y.0/24`` subnet; None for any other subnet.

    >>> octets("10.132.3.0/24"), octets("192.168.1.0/24"), octets("10.1.0.0/16")
    ((132, 3), None, None)
    """
    try:
        net = ipaddress.IPv4Network(subnet, strict=False)
    except ValueError:
        return None
    if net.prefixlen != 24 or not net.subnet_of(ipaddress.IPv4Network("10.0.0.0/8")):
        return None
    parts = str(net.network_address).split(".")
    return int(parts[1]), int(parts[2])


def _try(second: Mapping[str, int], base: int, step: int) -> dict[str, str] | None:
    by_offset = {off: trust for trust, off in OFFSETS.items()}
    trust = {}
    for domain, octet in second.items():
        diff = octet - base
        if diff < 0 or diff % step or diff // step not in by_offset:
            return None
        trust[domain] = by_offset[diff // step]
    return trust


def fit(subnets: Mapping[str, str]) -> Fit | None:
    """Addressing under which every domain gets exactly its subnet (None when none exists).

    The default zone step (10) and the default trust level (semi-trusted) are
    preferred; the trust level found is only what makes the subnet fit.

    >>> f = fit({"pro": "10.132.0.0/24", "lab": "10.132.1.0/24"})
    >>> f.zone_base, f.zone_step, dict(f.trust), dict(f.subnet_id)
    (112, 10, {'pro': 'semi-trusted', 'lab': 'semi-trusted'}, {'pro': 0, 'lab': 1})
    >>> f = fit({"a": "10.132.0.0/24", "b": "10.133.0.0/24"})
    >>> f.zone_base, f.zone_step, dict(f.trust)
    (131, 1, {'a': 'trusted', 'b': 'semi-trusted'})
    >>> fit({"a": "192.168.1.0/24"}) is None
    True
    """
    parsed = {d: octets(s) for d, s in subnets.items()}
    if not parsed or any(p is None for p in parsed.values()):
        return None
    second = {d: p[0] for d, p in parsed.items() if p is not None}
    third = {d: p[1] for d, p in parsed.items() if p is not None}
    lowest = min(second.values())
    for step in STEPS:
        for level in PREFERENCE:
            base = lowest - step * OFFSETS[level]
            if not 0 <= base <= 245:
                continue
            trust = _try(second, base, step)
            if trust is not None:
                return Fit(base, step, trust, third)
    return None
