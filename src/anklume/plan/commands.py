"""The incus commands of each planned action, built from the typed declaration.

Every argv is a list (no shell ever sees it); every name in it was checked
by :mod:`anklume.plan.values` when the declaration was built. A ``step``
names what a command does; an action's commands are in the order they must
run (``STEPS`` gives that order per resource kind), and a role task may run
only some steps (the prune task runs ``delete``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from anklume.plan.action import Command
from anklume.plan.model import Domain, Instance, Profile, Volume
from anklume.vocab import PROTECT, text

INCUS = "incus"

STEPS: dict[str, tuple[str, ...]] = {
    "project": ("create", "set", "describe", "delete"),
    "network": ("create", "set", "delete"),
    "profile": ("create", "edit", "delete"),
    "image": ("check",),
    "instance": (
        "create-volume",
        "export",
        "unprotect",
        "delete-old",
        "create",
        "assign-profiles",
        "set-config",
        "describe",
        "remove-devices",
        "add-devices",
        "start",
        "delete",
    ),
}
"""Steps of each resource kind, in the order they run within one action."""


def kv(mapping: Mapping[str, object]) -> list[str]:
    """Return ``key=value`` arguments, sorted by key (``None`` unsets: ``key=``).

    >>> kv({"b": True, "a": None})
    ['a=', 'b=true']
    """
    return [f"{k}={text(v)}" for k, v in sorted(mapping.items())]


def spec(description: str, config: Mapping[str, str], devices: Mapping[str, Mapping[str, str]]) -> str:
    """Return the YAML (JSON) document ``incus create``/``profile edit`` read on stdin."""
    body = {"description": description, "config": dict(config), "devices": {k: dict(v) for k, v in devices.items()}}
    return json.dumps(body, sort_keys=True)


def _project(project: str) -> str:
    return f"--project={project}"


# Projects -----------------------------------------------------------------


def project_create(dom: Domain) -> tuple[Command, ...]:
    """Create the domain's project with its managed keys."""
    argv = [INCUS, "project", "create", dom.project, f"--description={dom.description}"]
    return (Command("create", (*argv, *(f"--config={a}" for a in kv(dom.project_config)))),)


def project_update(name: str, keys: Mapping[str, object], description: str | None) -> tuple[Command, ...]:
    """Set changed managed keys, then the description when it changed."""
    out = []
    if keys:
        out.append(Command("set", (INCUS, "project", "set", name, *kv(keys))))
    if description is not None:
        out.append(Command("describe", (INCUS, "project", "set", name, "--property", f"description={description}")))
    return tuple(out)


def project_delete(name: str) -> tuple[Command, ...]:
    """Delete an emptied project."""
    return (Command("delete", (INCUS, "project", "delete", name)),)


# Networks -----------------------------------------------------------------


def network_create(dom: Domain) -> tuple[Command, ...]:
    """Create the domain's bridge in the default project."""
    argv = (INCUS, "network", "create", dom.network, "--type=bridge", _project("default"))
    description = f"--description=anklume domain {dom.name}"
    return (Command("create", (*argv, description, *kv(dom.network_config))),)


def network_update(name: str, keys: Mapping[str, object]) -> tuple[Command, ...]:
    """Set (or unset, ``key=``) the changed managed keys of a bridge."""
    return (Command("set", (INCUS, "network", "set", name, _project("default"), *kv(keys))),)


def network_delete(name: str) -> tuple[Command, ...]:
    """Delete an unused bridge."""
    return (Command("delete", (INCUS, "network", "delete", name, _project("default"))),)


# Profiles -----------------------------------------------------------------


def profile_write(profile: Profile, *, exists: bool) -> tuple[Command, ...]:
    """Create a profile, or replace it whole (removed keys and devices go away)."""
    verb = "edit" if exists else "create"
    body = spec(profile.description, profile.config, profile.devices)
    return (Command(verb, (INCUS, "profile", verb, profile.name, _project(profile.project)), body),)


def profile_delete(project: str, name: str) -> tuple[Command, ...]:
    """Delete an unused profile."""
    return (Command("delete", (INCUS, "profile", "delete", name, _project(project))),)


# Images -------------------------------------------------------------------


def image_check(image: str) -> tuple[Command, ...]:
    """Ask the remote for the image before any instance needs it (changes nothing)."""
    return (Command("check", (INCUS, "image", "info", image)),)


# Instances ----------------------------------------------------------------


def volume_create(volume: Volume) -> Command:
    """Create a custom storage volume (an existing one is fine: the role accepts it)."""
    size = (f"size={volume.size}",) if volume.size else ()
    argv = (INCUS, "storage", "volume", "create", volume.pool, volume.name, _project("default"), *size)
    return Command("create-volume", argv, tolerate="already exists")


def instance_create(inst: Instance, volumes: Iterable[Volume]) -> tuple[Command, ...]:
    """Create the volumes it mounts, create the instance from its full spec, start it."""
    profiles = [f"--profile={p}" for p in inst.profiles] or ["--no-profiles"]
    vm = ["--vm"] if inst.type == "virtual-machine" else []
    argv = (INCUS, "create", inst.image, inst.name, _project(inst.project), *vm, *profiles)
    return (
        *(volume_create(v) for v in volumes),
        Command("create", argv, spec(inst.description, inst.config, inst.devices)),
        instance_start(inst.project, inst.name),
    )


def instance_recreate(inst: Instance, *, protected: bool, backup_dir: str, stamp: str) -> tuple[Command, ...]:
    """Export a backup, lift the protection, delete, then create and start again."""
    archive = f"{backup_dir.rstrip('/')}/{inst.project}-{inst.name}{'-' + stamp if stamp else ''}.tar.gz"
    unprotect = (
        (Command("unprotect", (INCUS, "config", "set", inst.name, f"{PROTECT}=false", _project(inst.project))),)
        if protected
        else ()
    )
    return (
        Command("export", (INCUS, "export", inst.name, archive, _project(inst.project))),
        *unprotect,
        Command("delete-old", (INCUS, "delete", "--force", inst.name, _project(inst.project))),
        *instance_create(inst, inst.volumes),
    )


def instance_update(inst: Instance, data: Mapping[str, Any], volumes: Iterable[Volume]) -> tuple[Command, ...]:
    """Converge a live instance: profiles, config, description, devices, then start it if stopped.

    ``data`` holds what changed: ``profiles`` (or None), ``config_set`` (``""``
    unsets), ``description`` (or None), ``devices_remove``, ``devices_add``
    and ``start``.
    """
    name, project = inst.name, _project(inst.project)
    out = [volume_create(v) for v in volumes]
    if data.get("profiles") is not None:
        profiles = ",".join(data["profiles"])
        out.append(Command("assign-profiles", (INCUS, "profile", "assign", name, profiles, project)))
    if data.get("config_set"):
        out.append(Command("set-config", (INCUS, "config", "set", name, project, *kv(data["config_set"]))))
    if data.get("description") is not None:
        desc = f"description={data['description']}"
        out.append(Command("describe", (INCUS, "config", "set", name, "--property", desc, project)))
    if data.get("devices_remove"):
        gone = data["devices_remove"]
        out.append(Command("remove-devices", (INCUS, "config", "device", "remove", name, *gone, project)))
    for dev in data.get("devices_add") or ():
        body = {k: v for k, v in dev["spec"].items() if k != "type"}
        argv = (INCUS, "config", "device", "add", name, dev["device"], dev["spec"]["type"], project, *kv(body))
        out.append(Command("add-devices", argv))
    if data.get("start"):
        out.append(instance_start(inst.project, inst.name))
    return tuple(out)


def instance_start(project: str, name: str) -> Command:
    """Start an instance (the role then checks it stays running)."""
    return Command("start", (INCUS, "start", name, _project(project)))


def instance_delete(project: str, name: str) -> tuple[Command, ...]:
    """Delete an unprotected instance no longer declared."""
    return (Command("delete", (INCUS, "delete", "--force", name, _project(project))),)
