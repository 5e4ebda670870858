"""Probes from sources outside the declared domains (pure).

Two cases the policy model never allows, whatever the policies say:

- outside-in: a source outside every domain (a temporary probe instance on
  a bridge anklume does not own) sends TCP and UDP into each domain;
- removed domains: instances still running on a bridge this infra owns
  but no longer declares (a domain removed from infra.yml, not yet pruned)
  must reach no domain and no host port, and no domain may reach them.

Policies can only name declared domains, machines and the host, so every
such probe is expected blocked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # plan imports this module
    from anklume.network.verify.plan import Instance

OUTSIDE = "outside"
REMOVED = "removed"


@dataclass(frozen=True, slots=True)
class Candidate:
    """One probe to add: source, target (None: the source's gateway on the host), protocol, port."""

    source: Instance
    target: Instance | None
    protocol: str
    port: int


def outside_in(source: Instance, by_domain: dict[str, list[Instance]], port: int) -> list[Candidate]:
    """TCP and UDP from ``source`` to the first running instance of every domain.

    >>> from anklume.network.verify.plan import Instance
    >>> out = Instance("probe", OUTSIDE, "probe", "default", "10.250.0.9", "10.250.0.1")
    >>> web = Instance("web", "pro", "web", "pro", "10.1.0.1", "10.1.0.254")
    >>> [(c.target.machine, c.protocol) for c in outside_in(out, {"pro": [web]}, 47001)]
    [('web', 'tcp'), ('web', 'udp')]
    """
    out = []
    for insts in by_domain.values():
        out += [Candidate(source, insts[0], proto, port) for proto in ("tcp", "udp")]
    return out


def removed(orphans: list[Instance], by_domain: dict[str, list[Instance]], port: int) -> list[Candidate]:
    """Each running instance of a removed domain to and from every domain, and to a host port on its gateway."""
    out = []
    for orphan in orphans:
        out.append(Candidate(orphan, None, "tcp", port))
        for insts in by_domain.values():
            rep = insts[0]
            for proto in ("tcp", "udp"):
                out += [Candidate(orphan, rep, proto, port), Candidate(rep, orphan, proto, port)]
    return out
