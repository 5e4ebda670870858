"""Turn one machine's host variables into a declared :class:`Instance`.

Derived keys: ``security.protection.delete`` from ``instance_ephemeral``,
boot and snapshot keys, ownership keys and the image (``user.anklume.image``,
to detect an image change). Derived devices: ``eth0`` with the static IP and
NIC filtering, ``gpu`` for ``instance_gpu``, ``vol-<name>`` disks for
storage volumes (volume ``<instance>-<name>``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from anklume import vocab
from anklume.errors import PlanError
from anklume.plan import values
from anklume.plan.model import Domain, Instance, Volume
from anklume.vocab import IMAGE, NIC, PROTECT, ownership

TYPES = {"lxc": "container", "vm": "virtual-machine"}


def _instance_config(hv: Mapping[str, Any], dom: str, image: str, what: str, infra: str) -> dict[str, str]:
    cfg = values.config(hv.get("instance_config"), what)
    optional = {
        "boot.autostart": hv.get("instance_boot_autostart"),
        "boot.autostart.priority": hv.get("instance_boot_priority"),
        "snapshots.schedule": hv.get("instance_snapshots_schedule"),
        "snapshots.expiry": hv.get("instance_snapshots_expiry"),
    }
    cfg.update({k: vocab.text(v) for k, v in optional.items() if v is not None})
    if not bool(hv.get("instance_ephemeral", False)):
        cfg[PROTECT] = "true"
    cfg.update(ownership(dom, infra))
    cfg[IMAGE] = image
    return cfg


def instance(hv: Mapping[str, Any], dom: Domain, *, default_image: str, infra: str = "") -> Instance:
    """Return one instance from its host variables and its domain."""
    name = values.resource_name(str(hv.get("instance_name", "")), "instance")
    what = f"instance {name}"
    kind = str(hv.get("instance_type") or "lxc")
    if kind not in TYPES:
        msg = f"{what}: instance_type must be lxc or vm, not {kind!r}"
        raise PlanError(msg)
    image = values.image_name(str(hv.get("instance_os_image") or default_image), what)
    devs = values.devices(hv.get("instance_devices"), what)
    if hv.get("instance_ip"):
        devs[NIC] = vocab.nic(dom.network, str(hv["instance_ip"]), devs.get(NIC))
    if hv.get("instance_gpu") and not any(d.get("type") == "gpu" for d in devs.values()):
        devs["gpu"] = {"type": "gpu"}
    volumes = []
    for vol, spec in (hv.get("instance_storage_volumes") or {}).items():
        body = spec if isinstance(spec, Mapping) else {}
        vname = values.resource_name(vocab.volume_name(name, vol), "storage volume")
        pool = values.resource_name(str(body.get("pool") or vocab.DEFAULT_POOL), "storage pool")
        volumes.append(Volume(pool=pool, name=vname, size=vocab.text(body.get("size"))))
        devs[values.resource_name(vocab.volume_device(vol), "device")] = {
            "type": "disk",
            "pool": pool,
            "source": vname,
            "path": str(body.get("path") or vocab.volume_path(vol)),
        }
    host_dirs = {
        dev: spec["source"]
        for dev, spec in devs.items()
        if dev.startswith(vocab.HOST_DIR_PREFIXES) and spec.get("source", "").startswith("/")
    }
    profiles = tuple(
        values.resource_name(str(p), "profile") for p in hv.get("instance_profiles") or [vocab.DEFAULT_PROFILE]
    )
    return Instance(
        name=name,
        project=dom.project,
        domain=dom.name,
        type=TYPES[kind],
        image=image,
        profiles=profiles,
        config=_instance_config(hv, dom.name, image, what, infra),
        devices=devs,
        description=str(hv.get("instance_description") or ""),
        volumes=tuple(volumes),
        host_dirs=host_dirs,
    )
