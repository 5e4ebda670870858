"""Entry points for the playbook: plan one kind or every kind at once, the plan document.

The Ansible filter plugin only converts types and errors; the logic is here
so that it is typed and unit-tested. Provisioning fingerprints are in
:mod:`anklume.provision`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from anklume.plan.action import to_dicts
from anklume.plan.declare import declare
from anklume.plan.images import plan_images
from anklume.plan.instances import plan_instances
from anklume.plan.model import Declared, Live, PlanOptions
from anklume.plan.networks import plan_networks
from anklume.plan.profiles import plan_profiles
from anklume.plan.projects import plan_projects

KINDS = ("projects", "networks", "profiles", "images", "instances")
_PLANNERS = {
    "projects": plan_projects,
    "networks": plan_networks,
    "profiles": plan_profiles,
    "images": plan_images,
    "instances": plan_instances,
}


def declared_from(inputs: Mapping[str, Any]) -> Declared:
    """Return the declared state of ``{domains, machines, settings}``."""
    return declare(inputs.get("domains") or [], inputs.get("machines") or [], inputs.get("settings"))


def plan_kind(
    inputs: Mapping[str, Any], kind: str, live: Mapping[str, Any], options: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """Return the actions of one kind as plain dicts.

    >>> plan_kind({"domains": []}, "projects", {}, {})
    []
    """
    planner = _PLANNERS[kind]
    return to_dicts(planner(declared_from(inputs), Live.from_mapping(live), PlanOptions.from_mapping(options)))


def plan_all(
    inputs: Mapping[str, Any], live: Mapping[str, Any], options: Mapping[str, Any]
) -> dict[str, list[dict[str, Any]]]:
    """Return ``{kind: [action, ...]}`` for every kind, from one live snapshot."""
    declared = declared_from(inputs)
    state = Live.from_mapping(live)
    opts = PlanOptions.from_mapping(options)
    return {kind: to_dicts(_PLANNERS[kind](declared, state, opts)) for kind in KINDS}


def plan_document(plan: Mapping[str, list[Mapping[str, Any]]]) -> dict[str, Any]:
    """Return the plan file document: every action, in apply order, with counts.

    >>> doc = plan_document({"projects": [{"action": "create"}], "networks": []})
    >>> doc["counts"], doc["changes"]
    ({'create': 1}, 1)
    """
    actions = [dict(a) for kind in KINDS for a in plan.get(kind, [])]
    counts: dict[str, int] = {}
    for action in actions:
        counts[str(action["action"])] = counts.get(str(action["action"]), 0) + 1
    changing = sum(n for verb, n in counts.items() if verb != "orphan")
    return {"version": 1, "actions": actions, "counts": counts, "changes": changing}


def commands_of(actions: Sequence[Mapping[str, Any]], step: str) -> list[dict[str, Any]]:
    """Return the commands of ``step`` of every action, in plan order, ready for a role's loop.

    Each item has the action's ``project``, ``name`` and ``label`` (what the
    task prints), the ``argv`` and, when the command reads one, ``stdin``.

    >>> acts = [{"name": "web", "project": "pro", "commands": [
    ...     {"step": "start", "argv": ["incus", "start", "web", "--project=pro"]}]}]
    >>> commands_of(acts, "start")[0]["label"], commands_of(acts, "create")
    ('pro/web', [])
    """
    out = []
    for action in actions:
        project, name = str(action.get("project") or "default"), str(action.get("name", ""))
        label = name if action.get("resource") in ("project", "network", "image") else f"{project}/{name}"
        for command in action.get("commands") or ():
            if command.get("step") == step:
                out.append({"project": project, "name": name, "label": label, **command})
    return out


def kinds_to_run(plan: Mapping[str, Sequence[Mapping[str, Any]]], kinds: Sequence[str], step: str = "") -> list[str]:
    """Return the kinds, in the order given, whose actions have commands (of ``step``, any when empty).

    Images are also run when one is ``missing``: the role stops the run before anything changes.

    >>> plan = {"projects": [{"action": "create", "commands": [{"step": "create", "argv": []}]}],
    ...         "images": [{"action": "missing", "commands": []}], "instances": []}
    >>> kinds_to_run(plan, ["images", "projects", "instances"]), kinds_to_run(plan, ["projects"], "delete")
    (['images', 'projects'], [])
    """
    out = []
    for kind in kinds:
        actions = plan.get(kind) or ()
        busy = any(not step or c.get("step") == step for a in actions for c in a.get("commands") or ())
        if busy or (kind == "images" and any(a.get("action") == "missing" for a in actions)):
            out.append(kind)
    return out
