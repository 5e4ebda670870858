"""Enrichment step: disk devices derived from shared volumes and persistent data."""

from __future__ import annotations

from anklume.engine.model import Infra
from anklume.vocab import persistent_device, shared_device

Devices = dict[str, dict[str, str]]


def shared_volume_devices(infra: Infra) -> dict[str, Devices]:
    """Return the ``sv-<volume>`` devices of each machine.

    A consumer naming a domain gives the device to each of its machines; a
    consumer naming a machine overrides its domain's access mode.
    """
    out: dict[str, Devices] = {}
    g = infra.global_
    for vname, volume in (infra.shared_volumes or {}).items():
        modes: dict[str, str] = {}
        for consumer, mode in volume.consumers.items():
            domain = infra.domains.get(consumer)
            if domain is not None:
                for mname in domain.machines or {}:
                    modes.setdefault(mname, mode)
        for consumer, mode in volume.consumers.items():
            if consumer not in infra.domains:
                modes[consumer] = mode  # a machine entry wins over its domain's
        for mname, access in modes.items():
            device = {
                "type": "disk",
                "source": volume.source or f"{g.shared_volumes_base}/{vname}",
                "path": volume.path or f"/shared/{vname}",
            }
            if volume.shift:
                device["shift"] = "true"
            if access == "ro":
                device["readonly"] = "true"
            if volume.propagate:
                device["propagation"] = "rshared"
            out.setdefault(mname, {})[shared_device(vname)] = device
    return out


def persistent_data_devices(infra: Infra) -> dict[str, Devices]:
    """Return the ``pd-<volume>`` devices of each machine."""
    out: dict[str, Devices] = {}
    base = infra.global_.persistent_data_base
    for dname, domain in infra.domains.items():
        for mname, machine in (domain.machines or {}).items():
            for vname, data in (machine.persistent_data or {}).items():
                device = {
                    "type": "disk",
                    "source": f"{base}/{dname}/{mname}/{vname}",
                    "path": data.path,
                    "shift": "true",
                }
                if data.readonly:
                    device["readonly"] = "true"
                out.setdefault(mname, {})[persistent_device(vname)] = device
    return out
