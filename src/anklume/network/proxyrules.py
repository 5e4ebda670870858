"""Host-table rules of the package proxy: each domain that opts in reaches its gateway on the proxy ports only.

A domain without ``package_proxy`` gets no such rule, so the input chain's
final drop keeps it away from the proxy (which listens only on the
gateways of the domains that opt in anyway).
"""

from __future__ import annotations

import ipaddress

from anklume.engine.resolved import Resolved
from anklume.network.nftsafe import comment
from anklume.network.policy import ifname
from anklume.proxy.spec import PORTS, opted_in


def proxy_rules(resolved: Resolved) -> list[str]:
    """Input-chain rules that open the proxy ports on the gateway of each domain that opts in.

    Pure; the rules name the bridge and the gateway, so a packet from another
    bridge or to another address never matches.
    """
    ports = ", ".join(str(p) for p in PORTS)
    return [
        f'iifname "{ifname(d.network_name)}" ip daddr {ipaddress.ip_address(d.gateway)} tcp dport {{ {ports} }} accept '
        + comment(f"package proxy of {d.name}")
        for d in opted_in(resolved)
    ]
