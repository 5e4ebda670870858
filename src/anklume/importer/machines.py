"""One live instance as an infra.yml machine (pure)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from anklume.importer.keys import PROTECT, split_config

TYPES = {"container": "lxc", "virtual-machine": "vm"}
NIC = "eth0"
#: Keys of the domain NIC that anklume derives itself (network, address, filtering).
NIC_DERIVED = frozenset(
    {"type", "network", "name", "ipv4.address", "security.mac_filtering", "security.ipv4_filtering"}
)
IMAGE_KEY = "user.anklume.image"


@dataclass
class Notes:
    """What an import could not carry over as it is: warnings, and keys left out."""

    warnings: list[str] = field(default_factory=list)
    withheld: dict[str, list[str]] = field(default_factory=dict)


def live_ip(inst: Mapping[str, Any]) -> str | None:
    """The IPv4 address of the instance's ``eth0``: static in its device, else what it has now.

    >>> live_ip({"expanded_devices": {"eth0": {"type": "nic", "ipv4.address": "10.1.2.3"}}})
    '10.1.2.3'
    >>> live_ip({"expanded_devices": {}, "state": {"network": {"eth0": {"addresses": [
    ...     {"family": "inet6", "address": "fe80::1"}, {"family": "inet", "address": "10.1.2.104"}]}}}})
    '10.1.2.104'
    """
    static = ((inst.get("expanded_devices") or {}).get(NIC) or {}).get("ipv4.address")
    if static:
        return str(static)
    nic = (((inst.get("state") or {}).get("network")) or {}).get(NIC) or {}
    for addr in nic.get("addresses") or ():
        if addr.get("family") == "inet" and addr.get("scope", "global") == "global":
            return str(addr.get("address"))
    return None


def image_of(inst: Mapping[str, Any], images: Iterable[Mapping[str, Any]]) -> tuple[str, str]:
    """``(os_image, note)``: the alias of the instance's image, or its fingerprint with a note.

    >>> imgs = [{"fingerprint": "ab" * 32, "aliases": [{"name": "anklume/debian-12"}]}]
    >>> image_of({"config": {"volatile.base_image": "ab" * 32}}, imgs)
    ('anklume/debian-12', '')
    >>> image_of({"config": {"user.anklume.image": "golden/web"}}, imgs)
    ('golden/web', '')
    >>> image_of({"config": {"volatile.base_image": "cd" * 32}}, imgs)[1]
    'its image has no alias in the image store: os_image is its fingerprint'
    """
    config = inst.get("config") or {}
    if config.get(IMAGE_KEY):
        return str(config[IMAGE_KEY]), ""
    fingerprint = str(config.get("volatile.base_image") or "")
    for image in images:
        if fingerprint and str(image.get("fingerprint")) == fingerprint:
            aliases = [str(a.get("name")) for a in image.get("aliases") or ()]
            if aliases:
                return sorted(aliases)[0], ""
            source = image.get("update_source") or {}
            if "images.linuxcontainers.org" in str(source.get("server", "")) and source.get("alias"):
                return f"images:{source['alias']}", ""
    if not fingerprint:
        return "", "its image is unknown (no volatile.base_image): os_image left to the default"
    return fingerprint, "its image has no alias in the image store: os_image is its fingerprint"


def nic_extra(device: Mapping[str, Any]) -> dict[str, str]:
    """What a local ``eth0`` holds beyond what anklume derives (kept as a machine device).

    >>> nic_extra({"type": "nic", "network": "net-pro", "ipv4.address": "10.1.2.3", "hwaddr": "00:16:3e:00:00:01"})
    {'hwaddr': '00:16:3e:00:00:01'}
    """
    return {str(k): str(v) for k, v in device.items() if k not in NIC_DERIVED}


def machine(
    inst: Mapping[str, Any],
    *,
    images: Iterable[Mapping[str, Any]],
    subnet: str | None,
    include: Iterable[str],
    notes: Notes,
) -> dict[str, Any]:
    """The infra.yml entry of one instance (``ephemeral`` is set by the caller, per domain)."""
    name = str(inst["name"])
    entry: dict[str, Any] = {}
    if inst.get("description"):
        entry["description"] = str(inst["description"]).splitlines()[0]
    kind = TYPES.get(str(inst.get("type", "container")), "lxc")
    if kind != "lxc":
        entry["type"] = kind
    ip = live_ip(inst)
    if ip and subnet and ipaddress.IPv4Address(ip) in ipaddress.IPv4Network(subnet):
        entry["ip"] = ip
    elif ip:
        notes.warnings.append(f"instance {name}: address {ip} is outside its domain's subnet; left to anklume")
    image, note = image_of(inst, images)
    if image:
        entry["os_image"] = image
    if note:
        notes.warnings.append(f"instance {name}: {note}")
    profiles = [str(p) for p in inst.get("profiles") or ()]
    if profiles != ["default"]:
        entry["profiles"] = profiles
    config, withheld = split_config(inst.get("config") or {}, include)
    if config:
        entry["config"] = config
    if withheld:
        notes.withheld[f"instance {name}"] = withheld
    devices = {}
    for dev, spec in sorted((inst.get("devices") or {}).items()):
        body = nic_extra(spec) if dev == NIC and spec.get("type") == "nic" else {k: str(v) for k, v in spec.items()}
        if body:
            devices[str(dev)] = body
    if devices:
        entry["devices"] = devices
    entry["_protected"] = str((inst.get("config") or {}).get(PROTECT, "")).lower() == "true"
    return entry
