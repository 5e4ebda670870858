"""Find other tables' base chains that would drop what anklume allows (pure).

nftables runs every base chain registered on a hook; an ``accept`` only ends
the chain it is in, while a ``drop`` anywhere is final. So a foreign forward
chain with ``policy drop`` (Docker's ``ip filter FORWARD``, for example)
drops flows that table ``inet anklume`` accepts, whatever the priorities.
anklume never alters such a table: it reports it and explains the fix.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

HOOKS = ("forward", "input")


@dataclass(frozen=True, slots=True)
class ForeignChain:
    """A base chain of another table that drops by default."""

    family: str
    table: str
    chain: str
    hook: str
    priority: int

    @property
    def where(self) -> str:
        """Human-readable location.

        >>> ForeignChain("ip", "filter", "FORWARD", "forward", 0).where
        'table ip filter, chain FORWARD (hook forward, priority 0, policy drop)'
        """
        hook = f"hook {self.hook}, priority {self.priority}, policy drop"
        return f"table {self.family} {self.table}, chain {self.chain} ({hook})"


def find(items: Iterable[dict[str, Any]], *own_tables: str) -> list[ForeignChain]:
    """Return the drop-policy forward/input base chains outside the ``inet <own_tables>``.

    ``items`` are the objects of ``nft -j list ruleset``.

    >>> docker = {"chain": {"family": "ip", "table": "filter", "name": "FORWARD",
    ...           "type": "filter", "hook": "forward", "prio": 0, "policy": "drop"}}
    >>> [c.chain for c in find([docker], "anklume")]
    ['FORWARD']
    >>> find([{"chain": {**docker["chain"], "policy": "accept"}}], "anklume")
    []
    """
    found = []
    for item in items:
        chain = item.get("chain")
        if not isinstance(chain, dict) or chain.get("hook") not in HOOKS or chain.get("policy") != "drop":
            continue
        family, table = str(chain.get("family", "")), str(chain.get("table", ""))
        if family == "inet" and table in own_tables:
            continue
        prio = chain.get("prio", 0)
        found.append(
            ForeignChain(
                family,
                table,
                str(chain.get("name", "")),
                str(chain["hook"]),
                int(prio) if isinstance(prio, int) else 0,
            )
        )
    return sorted(found, key=lambda c: (c.family, c.table, c.chain))


def explain(chain: ForeignChain, bridges: list[str]) -> str:
    """Say what a foreign drop chain breaks and how to fix it without weakening anklume's table.

    >>> "DOCKER-USER" in explain(ForeignChain("ip", "filter", "FORWARD", "forward", 0), ["net-pro"])
    True
    """
    names = " ".join(bridges) or "(none declared)"
    if chain.hook == "forward":
        what = (
            "forwarded packets it does not accept itself are dropped, including the flows anklume's "
            "policies allow between domains and the outbound traffic of nat: true domains"
        )
    else:
        what = (
            "packets to the host it does not accept itself are dropped, including DHCP and DNS from "
            "domains and policies 'to: host'"
        )
    fix = (
        f"accept the anklume bridges' traffic in that chain (bridges: {names}); anklume's table "
        "still enforces the policies"
    )
    if chain.table == "filter" and chain.chain == "FORWARD":
        fix += (
            "; with Docker: for each bridge B, 'iptables -I DOCKER-USER -i B -j ACCEPT' and "
            "'iptables -I DOCKER-USER -o B -j ACCEPT'"
        )
    why = "an accept in table inet anklume cannot override a drop in another table"
    return f"{chain.where}: {what}; {why}. Fix: {fix}."
