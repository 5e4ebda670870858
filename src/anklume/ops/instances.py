"""Removing one instance, saying first what is lost and what is kept."""

from __future__ import annotations

from anklume.incus.run import run
from anklume.ops.live import JsonObj, config
from anklume.ops.targets import Target


def loss_note(target: Target, inst: JsonObj) -> str:
    """What removing ``inst`` loses and keeps, in one paragraph."""
    snaps = len(inst.get("snapshots") or ())
    disks = sorted(
        str(dev.get("source", ""))
        for dev in (inst.get("expanded_devices") or inst.get("devices") or {}).values()
        if dev.get("type") == "disk" and dev.get("path") not in (None, "/") and dev.get("source")
    )
    kept = f"; kept: {', '.join(disks)}" if disks else ""
    image = config(inst).get("user.anklume.image") or config(inst).get("image.description") or "its image"
    return (
        f"{target.domain}/{target.name}: lost: its root disk and {snaps} snapshot{'s' if snaps != 1 else ''}{kept}. "
        f"infra.yml still declares it: the next 'domain apply' creates it again from {image}, empty."
    )


def remove(target: Target, *, unprotect: bool) -> None:
    """Delete the instance (lifting its protection first when asked)."""
    if unprotect:
        run(["config", "set", target.instance, "security.protection.delete=false"], project=target.project)
    run(["delete", "--force", target.instance], project=target.project)
