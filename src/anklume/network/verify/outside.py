"""Live sources outside the declared domains, for :mod:`.extra`.

The outside-in source is a temporary instance verify launches on
``incusbr0`` (a bridge anklume does not own) in the ``default`` project,
from an image the infra's machines already use and that is present
locally: nothing is downloaded. It is ephemeral, named
``anklume-verify-<random>``, and deleted when verify ends, on error too.
When it cannot be launched the report says why and these probes are left
out. Instances of removed domains are the running instances on a bridge
this infra owns (``user.anklume.managed``/``user.anklume.infra``) that
infra.yml no longer declares.
"""

from __future__ import annotations

import ipaddress
import logging
import secrets
import time
from collections.abc import Mapping, Sequence
from typing import Any

from anklume.engine.resolved import Resolved
from anklume.errors import IncusError
from anklume.incus.run import query, run
from anklume.network.verify.extra import OUTSIDE, REMOVED
from anklume.network.verify.plan import Instance

log = logging.getLogger(__name__)

PROBE_BRIDGE = "incusbr0"
PROBE_PROJECT = "default"
ADDRESS_TIMEOUT = 30.0


def _gateway(net: Mapping[str, Any]) -> ipaddress.IPv4Interface | None:
    try:
        return ipaddress.IPv4Interface(str((net.get("config") or {}).get("ipv4.address", "")))
    except ValueError:
        return None


def _owned(net: Mapping[str, Any], infra: str) -> bool:
    cfg = net.get("config") or {}
    return str(cfg.get("user.anklume.managed", "")).lower() == "true" and cfg.get("user.anklume.infra", "") in (
        "",
        infra,
    )


def _address_in(inst: Mapping[str, Any], net: ipaddress.IPv4Network) -> str | None:
    for iface in ((inst.get("state") or {}).get("network") or {}).values():
        for addr in iface.get("addresses") or []:
            if addr.get("family") == "inet" and ipaddress.ip_address(addr.get("address", "0.0.0.0")) in net:
                return str(addr["address"])
    return None


def orphans(
    resolved: Resolved, instances: Sequence[Mapping[str, Any]], networks: Sequence[Mapping[str, Any]]
) -> list[Instance]:
    """Running instances on bridges this infra owns and no longer declares (``incus list``/``network list`` JSON)."""
    declared = {d.network_name for d in resolved.domains.values()}
    gone = {}
    for net in networks:
        gw = _gateway(net)
        if net.get("type") == "bridge" and gw and _owned(net, resolved.project_name) and net["name"] not in declared:
            gone[str(net["name"])] = (gw, str((net.get("config") or {}).get("user.anklume.domain") or net["name"]))
    found = []
    for inst in instances:
        if inst.get("status") != "Running":
            continue
        devices = (inst.get("expanded_devices") or {}).values()
        for bridge in sorted({str(d.get("network")) for d in devices if d.get("type") == "nic"} & set(gone)):
            gw, domain = gone[bridge]
            ip = _address_in(inst, gw.network)
            if ip:
                name, project = str(inst["name"]), str(inst.get("project", "default"))
                found.append(Instance(name, f"{domain}, {REMOVED}", name, project, ip, str(gw.ip)))
    return sorted(found, key=lambda i: i.name)


def _image(resolved: Resolved) -> str | None:
    local = {a.get("name") for img in query(["image", "list"]) or [] for a in img.get("aliases") or []}
    return next((img for img in resolved.images() if img in local), None)


def _pool() -> str | None:
    pools = [str(p.get("name")) for p in query(["storage", "list"]) or []]
    return "default" if "default" in pools else (pools[0] if pools else None)


def _wait_address(name: str, net: ipaddress.IPv4Network) -> str | None:
    deadline = time.monotonic() + ADDRESS_TIMEOUT
    while time.monotonic() < deadline:
        state = query(["query", f"/1.0/instances/{name}/state?project={PROBE_PROJECT}"])
        ip = _address_in({"state": state}, net) if isinstance(state, dict) else None
        if ip:
            return ip
        time.sleep(0.5)
    return None


def launch(resolved: Resolved, networks: Sequence[Mapping[str, Any]]) -> tuple[Instance | None, str]:
    """Launch the outside-in probe instance; return it (or None) and a note for the report."""
    bridge = next((n for n in networks if n.get("name") == PROBE_BRIDGE and n.get("type") == "bridge"), None)
    gw = _gateway(bridge) if bridge else None
    if bridge is None or gw is None or _owned(bridge, resolved.project_name):
        return None, f"outside-in probes skipped: no bridge {PROBE_BRIDGE} with an IPv4 address outside anklume"
    try:
        image, pool = _image(resolved), _pool()
    except IncusError as exc:
        return None, f"outside-in probes skipped: {exc}"
    if image is None or pool is None:
        return None, "outside-in probes skipped: no image of this infra is present locally (or no storage pool)"
    name = f"anklume-verify-{secrets.token_hex(3)}"
    argv = ["launch", image, name, "--ephemeral", "--no-profiles", "--storage", pool, "--network", PROBE_BRIDGE]
    try:
        run([*argv, "--description", "anklume network verify: outside-in probe (temporary)"], project=PROBE_PROJECT)
        ip = _wait_address(name, gw.network)
    except IncusError as exc:
        remove(name)
        return None, f"outside-in probes skipped: cannot launch a probe instance ({str(exc).splitlines()[0]})"
    if ip is None:
        remove(name)
        return None, f"outside-in probes skipped: the probe instance got no address on {PROBE_BRIDGE}"
    inst = Instance(name, f"{OUTSIDE} {PROBE_BRIDGE}", name, PROBE_PROJECT, ip, str(gw.ip))
    return inst, f"outside-in probes from {name} ({ip} on {PROBE_BRIDGE}, deleted after verify)"


def remove(name: str) -> None:
    """Delete the probe instance (never raises: verify is ending)."""
    try:
        run(["delete", "--force", name], project=PROBE_PROJECT, check=False)
    except IncusError as exc:
        log.warning("cannot delete probe instance %s: %s", name, exc)
