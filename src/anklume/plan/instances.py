"""Plan instances: create, converge config/devices/profiles, start, recreate, prune.

Config keys and devices that are not declared are removed, except the
run-time keys Incus and anklume set themselves (``volatile.*``, ``image.*``,
``user.anklume.provisioned``). A type or image change needs a recreate:
reported as ``needs-recreate``, performed only with ``recreate`` (after a
snapshot). Stopped instances are started.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from anklume.plan import commands as cmd
from anklume.plan.action import Action, Change
from anklume.plan.diff import config_changes, device_changes, prefixed
from anklume.plan.model import Declared, Instance, Live, PlanOptions
from anklume.plan.projects import adopt_or_conflict, mine, orphan_verdict
from anklume.plan.scope import domain_of, doomed_instances, managed_in_scope, protected
from anklume.vocab import IMAGE


def host_dirs(inst: Instance, devices: Iterable[str] | None = None) -> dict[str, Any]:
    """Return the role's data: the host directories the instance's (new) disks need."""
    wanted = inst.host_dirs if devices is None else {k: v for k, v in inst.host_dirs.items() if k in set(devices)}
    return {"host_dirs": sorted(set(wanted.values()))} if wanted else {}


def recreate_reasons(inst: Instance, cur: Mapping[str, Any]) -> dict[str, Change]:
    """Return the changes that only a recreate can apply (type, image).

    >>> from anklume.plan.model import Instance
    >>> i = Instance("web", "pro", "pro", "container", "anklume/debian-13")
    >>> recreate_reasons(i, {"type": "container", "config": {"user.anklume.image": "anklume/debian-12"}})
    {'image': ('anklume/debian-12', 'anklume/debian-13')}
    >>> recreate_reasons(i, {"type": "container", "config": {}})
    {}
    """
    changes: dict[str, Change] = {}
    if str(cur.get("type", "container")) != inst.type:
        changes["type"] = (cur.get("type"), inst.type)
    live_image = (cur.get("config") or {}).get(IMAGE)
    if live_image is not None and live_image != inst.image:
        changes["image"] = (live_image, inst.image)
    return changes


def _update(inst: Instance, cur: Mapping[str, Any]) -> Action | None:
    cfg = config_changes(inst.config, cur.get("config") or {})
    devs = device_changes(inst.devices, cur.get("devices") or {})
    changes = {**prefixed("config.", cfg), **prefixed("devices.", devs)}
    profiles = list(cur.get("profiles") or [])
    if profiles != list(inst.profiles):
        changes["profiles"] = (profiles, list(inst.profiles))
    if str(cur.get("description") or "") != inst.description:
        changes["description"] = (cur.get("description"), inst.description)
    status = str(cur.get("status", ""))
    if status != "Running":
        changes["status"] = (status, "Running")
    if not changes:
        return None
    added = {k: dict(inst.devices[k]) for k, (_, new) in devs.items() if new is not None}
    what = {
        "config_set": {k: ("" if new is None else new) for k, (_, new) in cfg.items()},
        "devices_remove": sorted(k for k, (old, _) in devs.items() if old is not None),
        "devices_add": [{"device": k, "spec": v} for k, v in sorted(added.items())],
        "profiles": list(inst.profiles) if "profiles" in changes else None,
        "description": inst.description if "description" in changes else None,
        "start": "status" in changes,
    }
    volumes = [v for v in inst.volumes if any(d.get("source") == v.name for d in added.values())]
    return Action(
        "update",
        "instance",
        inst.name,
        project=inst.project,
        domain=inst.domain,
        changes=changes,
        reason="instance differs from its declaration",
        data=host_dirs(inst, added),
        commands=cmd.instance_update(inst, what, volumes),
    )


def _declared_actions(inst: Instance, cur: Mapping[str, Any] | None, options: PlanOptions) -> list[Action]:
    if cur is None:
        changes = {"image": (None, inst.image), "type": (None, inst.type)}
        return [
            Action(
                "create",
                "instance",
                inst.name,
                inst.project,
                inst.domain,
                changes,
                "declared machine is missing",
                host_dirs(inst),
                cmd.instance_create(inst, inst.volumes),
            )
        ]
    if not mine(cur.get("config"), options):
        conflict = adopt_or_conflict("instance", inst.name, inst.project, inst.domain, options)
        if conflict:
            return [conflict]
    heavy = recreate_reasons(inst, cur)
    if heavy and not options.recreate:
        reason = "type or image changed; apply with recreate to rebuild it (after a backup)"
        return [Action("needs-recreate", "instance", inst.name, inst.project, inst.domain, heavy, reason)]
    if heavy:
        reason = "type or image changed (recreate, after a backup)"
        rebuild = cmd.instance_recreate(
            inst, protected=protected(cur), backup_dir=options.backup_dir, stamp=options.stamp
        )
        return [
            Action(
                "recreate", "instance", inst.name, inst.project, inst.domain, heavy, reason, host_dirs(inst), rebuild
            )
        ]
    update = _update(inst, cur)
    return [update] if update else []


def plan_instances(declared: Declared, live: Live, options: PlanOptions) -> list[Action]:
    """Return instance actions for the domains in scope, orphans last."""
    by_key = {(str(i.get("project", "default")), str(i["name"])): i for i in live.instances}
    actions: list[Action] = []
    for inst in declared.instances:
        if options.in_scope(inst.domain):
            actions.extend(_declared_actions(inst, by_key.get((inst.project, inst.name)), options))
    wanted = {(i.project, i.name) for i in declared.instances}
    gone = doomed_instances(declared, live, options)
    for cur in managed_in_scope(live.instances, options):
        key = (str(cur.get("project", "default")), str(cur["name"]))
        if key in wanted:
            continue
        verb, reason = orphan_verdict(key in gone, options, "protected (security.protection.delete)")
        deleting = cmd.instance_delete(key[0], key[1]) if verb == "delete" else ()
        actions.append(Action(verb, "instance", key[1], key[0], domain_of(cur), reason=reason, commands=deleting))
    return actions
