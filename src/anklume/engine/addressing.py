"""Subnets and machine addresses (pure functions).

Zone mode: the second octet is ``zone_base + zone_step * zone offset`` of the
domain's trust level; within a zone, domains in alphabetical order take the
first free third octet unless they set ``subnet_id``. Legacy mode:
``<base_subnet>.<subnet_id>.0/24`` with an explicit, globally unique
``subnet_id``. Gateways are always ``.254``; machines without ``ip`` take the
lowest free host number from 1 (at most 99 per domain).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

ZONE_OFFSET = {"admin": 0, "trusted": 1, "semi-trusted": 2, "untrusted": 4, "disposable": 5}
DEFAULT_TRUST = "semi-trusted"
AUTO_IP_MAX = 99
GATEWAY = 254
FIREWALL_HOST = 253


def second_octet(zone_base: int, zone_step: int, trust_level: str) -> int:
    """Return the second octet of a trust zone.

    >>> second_octet(100, 10, "trusted")
    110
    >>> second_octet(100, 10, "disposable")
    150
    """
    return zone_base + zone_step * ZONE_OFFSET[trust_level]


def assign_subnet_ids(requested: Mapping[str, int | None]) -> dict[str, int]:
    """Give each domain of one zone a third octet, keeping explicit ones.

    Domains are taken in alphabetical order; explicit ids are kept (their
    uniqueness is checked elsewhere), the others get the lowest free value.

    >>> assign_subnet_ids({"pro": None, "perso": 0, "lab": None})
    {'lab': 1, 'perso': 0, 'pro': 2}
    """
    taken = {sid for sid in requested.values() if sid is not None}
    result: dict[str, int] = {}
    candidate = 0
    for name in sorted(requested):
        sid = requested[name]
        if sid is None:
            while candidate in taken:
                candidate += 1
            sid = candidate
            taken.add(sid)
        result[name] = sid
    return result


def subnet_of(prefix: str) -> str:
    """Return the /24 of a three-octet prefix.

    >>> subnet_of("10.110.1")
    '10.110.1.0/24'
    """
    return f"{prefix}.0/24"


def gateway_of(prefix: str) -> str:
    """Return the gateway address of a three-octet prefix.

    >>> gateway_of("10.110.1")
    '10.110.1.254'
    """
    return f"{prefix}.{GATEWAY}"


def host_number(ip: str, prefix: str) -> int | None:
    """Return the last octet of ``ip`` when it lies in ``prefix``.0/24, else None.

    >>> host_number("10.110.1.7", "10.110.1")
    7
    >>> host_number("10.110.2.7", "10.110.1") is None
    True
    """
    head, _, last = ip.rpartition(".")
    return int(last) if head == prefix else None


def auto_ips(prefix: str, explicit: Sequence[str | None]) -> list[str | None]:
    """Fill the missing addresses of one domain, in declaration order.

    Returns the list with every None replaced, or None where more than
    ``AUTO_IP_MAX`` addresses would be needed.

    >>> auto_ips("10.110.1", [None, "10.110.1.1", None])
    ['10.110.1.2', '10.110.1.1', '10.110.1.3']
    """
    taken = {host_number(ip, prefix) for ip in explicit if ip is not None}
    out: list[str | None] = []
    candidate = 1
    for ip in explicit:
        if ip is not None:
            out.append(ip)
            continue
        while candidate in taken:
            candidate += 1
        if candidate > AUTO_IP_MAX:
            out.append(None)
            continue
        taken.add(candidate)
        out.append(f"{prefix}.{candidate}")
    return out


def bridge_name(domain: str, prefix: str) -> str:
    """Return the bridge of a domain, at most 15 characters (Linux's limit).

    Without a nesting prefix: ``net-<domain>``. With one, ``<prefix>net-<domain>``
    when it fits, otherwise a deterministic short form: the prefix, ``n``, the
    first four letters of the domain and five hex digits of its SHA-256.

    >>> bridge_name("pro", "")
    'net-pro'
    >>> bridge_name("pro", "001-")
    '001-net-pro'
    >>> bridge_name("laboratory", "001-")
    '001-nlabo51273'
    """
    plain = f"{prefix}net-{domain}"
    if len(plain) <= 15:
        return plain
    import hashlib  # noqa: PLC0415 -- only needed for long names

    digest = hashlib.sha256(domain.encode()).hexdigest()[:5]
    return f"{prefix}n{domain[:4]}{digest}"
