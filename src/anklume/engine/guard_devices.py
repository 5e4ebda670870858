"""Devices that bypass the domain's bridge, the host table or the spoofing filters.

Allowed without ``--yolo``: ``disk`` devices whose source is no host system
path, ``none`` and ``tpm``, the ``eth0`` NIC of a machine with an address
(anklume builds it on the domain's bridge with MAC and IPv4 filtering; the
declaration may only add to it), and in ``firewall_mode: vm`` the firewall's
``fw-<domain>`` NICs on each routed domain's bridge (anklume builds those too). Everything else is reported:
another NIC, a NIC in a profile, a NIC on another bridge or of another kind,
filtering turned off, and every device that passes host hardware, buses or
sockets through (``gpu``, ``unix-char``, ``unix-block``, ``unix-hotplug``,
``usb``, ``pci``, ``infiniband``, ``proxy``, any other type).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from anklume.engine.guard_paths import inside, system_path
from anklume.engine.load import KeyPath
from anklume.engine.model import ConfigValue
from anklume.vocab import text

#: NIC keys that keep one instance from spoofing another, and what turning each off allows.
FILTERS = {
    "security.mac_filtering": "MAC spoofing",
    "security.ipv4_filtering": "IPv4 spoofing",
    "security.ipv6_filtering": "IPv6 spoofing",
    "security.port_isolation": "traffic to the other isolated ports of the bridge",
}

HARMLESS = frozenset({"none", "tpm"})


@dataclass(frozen=True)
class Escape:
    """One thing that needs ``--yolo``: where it is declared and what it does."""

    path: KeyPath
    message: str
    hint: str = "remove it, or pass --yolo to accept the risk for this run"


@dataclass(frozen=True)
class Owner:
    """Who a device belongs to: a machine (with its bridge and address) or a profile."""

    path: KeyPath  # the machine's or the profile's key path
    bridge: str
    has_ip: bool = False
    profile: bool = False
    routes: Mapping[str, str] = field(default_factory=dict)  # the firewall's NICs: device -> the bridge it joins


def _off(value: ConfigValue) -> bool:
    return text(value).strip().lower() in {"false", "0", "no", "off"}


def nic_escapes(dev: str, conf: Mapping[str, ConfigValue], owner: Owner) -> list[Escape]:
    """Return what is wrong with one NIC device."""
    at = (*owner.path, "devices", dev)
    found = []
    bridge = owner.routes.get(dev, owner.bridge)
    nictype = str(conf.get("nictype", "bridged"))
    if nictype != "bridged":
        found.append(Escape((*at, "nictype"), f"a {nictype} NIC bypasses the domain's bridge and the host table"))
    for key in ("network", "parent"):
        value = conf.get(key)
        if value is not None and str(value) != bridge:
            msg = f"NIC on '{value}', not on the domain's bridge '{bridge}': it bypasses the host table"
            found.append(Escape((*at, key), msg))
    for key, allows in FILTERS.items():
        if key in conf and _off(conf[key]):
            found.append(Escape((*at, key), f"turns NIC filtering off: allows {allows}"))
    if owner.profile:
        msg = "a NIC in a profile replaces or adds to the eth0 anklume builds (own bridge, MAC and IPv4 filtering)"
        found.append(Escape(at, msg))
    elif dev not in owner.routes and (dev != "eth0" or not owner.has_ip):
        msg = "only eth0 of a machine with an address is built by anklume (own bridge, MAC and IPv4 filtering)"
        found.append(Escape(at, f"extra NIC '{dev}': {msg}"))
    return found


def disk_escapes(dev: str, conf: Mapping[str, ConfigValue], owner: Owner, bases: Mapping[str, str]) -> list[Escape]:
    """Return what is wrong with one disk device: a host system path, or another's data."""
    source = conf.get("source")
    if not isinstance(source, str) or not (source.startswith("/") or ".." in source):
        return []
    at = (*owner.path, "devices", dev, "source")
    hit = system_path(source)
    if hit is not None:
        return [Escape(at, f"disk source {source} is a host system path ({hit})")]
    for what, base in bases.items():
        if inside(source, base) or inside(base, source):
            return [
                Escape(at, f"disk source {source} reaches {what} ({base}) outside what infra.yml gives this machine")
            ]
    return []


def device_escapes(
    devices: Mapping[str, Mapping[str, ConfigValue]], owner: Owner, bases: Mapping[str, str]
) -> list[Escape]:
    """Return every escape among the devices of a machine or a profile."""
    found: list[Escape] = []
    for dev, conf in devices.items():
        kind = str(conf.get("type", "nic" if dev == "eth0" else ""))
        if kind in HARMLESS or (kind == "" and dev != "eth0"):
            continue  # a device without a type is refused by Incus itself
        if kind == "nic":
            found += nic_escapes(dev, conf, owner)
        elif kind == "disk":
            found += disk_escapes(dev, conf, owner, bases)
        elif kind == "gpu":
            msg = "a gpu device passes host hardware through outside gpu_policy; use 'gpu: true' on the machine"
            found.append(Escape((*owner.path, "devices", dev, "type"), msg))
        else:
            msg = f"a {kind} device passes a host device, bus or socket into the instance"
            found.append(Escape((*owner.path, "devices", dev, "type"), msg))
    return found
