"""What a restored copy must not keep from the original: its MAC, its static IP, its bridge, its ownership.

A copy under a new name (or in another domain) would otherwise start with
the original's MAC address and static IPv4 (a conflict), on the original
domain's bridge (a hole in isolation), and marked as a machine of the infra
that infra.yml does not declare (an orphan that prune would delete). These
are pure functions returning ``incus`` argv lists; the caller runs them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from anklume.vocab import DOMAIN, INFRA, MANAGED, PROVISIONED

OWNERSHIP = (MANAGED, DOMAIN, INFRA, PROVISIONED)


def copy_commands(
    name: str,
    inst: Mapping[str, Any],
    *,
    source_network: str,
    target_network: str,
    declared: bool,
    domain: str,
    infra: str,
) -> list[list[str]]:
    """The ``incus`` commands that turn an imported instance ``name`` into a copy of its own.

    >>> inst = {"config": {"volatile.eth0.hwaddr": "10:66:6a:00:00:01", "user.anklume.managed": "true"},
    ...         "devices": {"eth0": {"type": "nic", "network": "net-pro", "ipv4.address": "10.1.0.5"}}}
    >>> for argv in copy_commands("web2", inst, source_network="net-pro", target_network="net-lab",
    ...                           declared=False, domain="lab", infra="x"):
    ...     print(" ".join(argv))
    config unset web2 volatile.eth0.hwaddr
    config device unset web2 eth0 ipv4.address
    config device set web2 eth0 network=net-lab
    config unset web2 user.anklume.managed
    """
    config: Mapping[str, Any] = inst.get("config") or {}
    devices: Mapping[str, Mapping[str, Any]] = inst.get("devices") or {}
    argv = [["config", "unset", name, key] for key in sorted(config) if _is_mac(key)]
    for dev, spec in sorted(devices.items()):
        if spec.get("type") != "nic":
            continue
        argv += [["config", "device", "unset", name, dev, k] for k in ("ipv4.address", "ipv6.address") if k in spec]
        if spec.get("network") == source_network and source_network != target_network:
            argv.append(["config", "device", "set", name, dev, f"network={target_network}"])
    if declared:
        argv.append(["config", "set", name, f"{DOMAIN}={domain}", f"{INFRA}={infra}", f"{MANAGED}=true"])
        argv += [["config", "unset", name, PROVISIONED]] if PROVISIONED in config else []
    else:
        argv += [["config", "unset", name, key] for key in OWNERSHIP if key in config]
    return argv


def _is_mac(key: str) -> bool:
    """Say whether a config key holds a NIC's generated MAC address.

    >>> _is_mac("volatile.eth0.hwaddr"), _is_mac("volatile.eth0.host_name")
    (True, False)
    """
    return key.startswith("volatile.") and key.endswith(".hwaddr")
