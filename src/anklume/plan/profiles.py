"""Plan profiles in the domains' projects: the default profile and custom ones.

A profile is declared completely (config and devices), so the role replaces
it with ``incus profile edit``: removed keys and devices go away. The
``default`` profile of a domain project belongs to the project and is
managed whenever the project is anklume's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from anklume.plan import commands as cmd
from anklume.plan.action import Action, Change
from anklume.plan.diff import config_changes, device_changes, prefixed
from anklume.plan.model import Declared, Live, PlanOptions, Profile
from anklume.plan.projects import adopt_or_conflict, mine, orphan_verdict
from anklume.plan.scope import domain_of, doomed_instances, managed_in_scope, used_by_refs


def _changes(want: Profile, cur: Mapping[str, Any]) -> dict[str, Change]:
    changes = prefixed("config.", config_changes(want.config, cur.get("config") or {}))
    changes.update(prefixed("devices.", device_changes(want.devices, cur.get("devices") or {})))
    if str(cur.get("description") or "") != want.description:
        changes["description"] = (cur.get("description"), want.description)
    return changes


def plan_profiles(declared: Declared, live: Live, options: PlanOptions) -> list[Action]:
    """Return profile actions (create/update with the full spec, orphans, deletes)."""
    live_projects = {str(p["name"]): p for p in live.projects}
    by_key = {(str(p.get("project", "default")), str(p["name"])): p for p in live.profiles}
    actions: list[Action] = []
    for dom in declared.domains:
        proj = live_projects.get(dom.project)
        if not options.in_scope(dom.name) or (proj is not None and not mine(proj.get("config"), options)):
            continue
        for prof in dom.profiles.values():
            cur = by_key.get((dom.project, prof.name))
            if cur is None and prof.name != "default":
                actions.append(
                    Action(
                        "create",
                        "profile",
                        prof.name,
                        project=dom.project,
                        domain=dom.name,
                        changes=_changes(prof, {}),
                        reason="declared profile is missing",
                        commands=cmd.profile_write(prof, exists=False),
                    )
                )
                continue
            if cur is not None and prof.name != "default" and not mine(cur.get("config"), options):
                conflict = adopt_or_conflict("profile", prof.name, dom.project, dom.name, options)
                if conflict:
                    actions.append(conflict)
                    continue
            changes = _changes(prof, cur or {"description": "", "config": {}, "devices": {}})
            if changes:
                actions.append(
                    Action(
                        "update",
                        "profile",
                        prof.name,
                        project=dom.project,
                        domain=dom.name,
                        changes=changes,
                        reason="profile differs from its declaration",
                        commands=cmd.profile_write(prof, exists=True),
                    )
                )
    actions.extend(_orphans(declared, live, options))
    return actions


def _orphans(declared: Declared, live: Live, options: PlanOptions) -> list[Action]:
    wanted = {(d.project, p) for d in declared.domains for p in d.profiles}
    declared_instances = {(i.project, i.name) for i in declared.instances}
    gone = doomed_instances(declared, live, options)
    actions = []
    for cur in managed_in_scope(live.profiles, options):
        key = (str(cur.get("project", "default")), str(cur["name"]))
        if key in wanted:
            continue
        users = [
            (proj, name)
            for kind, proj, name in used_by_refs(cur)
            if kind == "instances" and (proj, name) not in gone | declared_instances
        ]
        verb, reason = orphan_verdict(not users, options, f"used by {len(users)} instance(s)")
        deleting = cmd.profile_delete(key[0], key[1]) if verb == "delete" else ()
        actions.append(Action(verb, "profile", key[1], key[0], domain_of(cur), reason=reason, commands=deleting))
    return actions
