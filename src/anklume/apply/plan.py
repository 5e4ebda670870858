"""Read the plan that ``site.yml`` writes in plan-only mode and shape it for display.

``anklume_plan_only=true`` makes the playbook compute, per resource kind,
what an apply would do and write it as JSON to ``anklume_plan_file``: the
document of :func:`anklume.plan.run.plan_document`, whose actions are the
planner's own records (:class:`anklume.plan.action.Action`), read back here
with the same model.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from anklume.errors import PlanError
from anklume.plan.action import Action


def change_lines(action: Action) -> tuple[str, ...]:
    """Render an action's changes as short lines, sorted by key.

    >>> change_lines(Action("update", "network", "n", changes={"ipv4.nat": ("true", "false"), "user.x": (None, "1")}))
    ('ipv4.nat: true → false', 'user.x: + 1')
    >>> change_lines(Action("update", "profile", "p", changes={"limits.cpu": ("2", None)}))
    ('limits.cpu: - 2',)
    """
    lines = []
    for key, (old, new) in sorted(action.changes.items()):
        if old is None:
            lines.append(f"{key}: + {new}")
        elif new is None:
            lines.append(f"{key}: - {old}")
        else:
            lines.append(f"{key}: {old} → {new}")
    return tuple(lines)


def parse_plan(data: object) -> list[Action]:
    """Return the actions of a plan document, in apply order.

    >>> doc = {"version": 1, "actions": [Action("create", "project", "pro").to_dict()]}
    >>> [(a.verb, a.resource, a.name) for a in parse_plan(doc)]
    [('create', 'project', 'pro')]
    """
    if not isinstance(data, Mapping) or not isinstance(data.get("actions"), list):
        msg = "the plan file holds no list of actions"
        raise PlanError(msg)
    actions = []
    for entry in data["actions"]:
        if not isinstance(entry, Mapping):
            msg = f"a plan entry is not an action: {entry!r}"
            raise PlanError(msg)
        actions.append(Action.from_dict(entry))
    return actions


def read_plan(path: Path) -> list[Action]:
    """Read and parse the plan file the playbook wrote."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        msg = f"the playbook wrote no plan to {path}"
        raise PlanError(msg) from exc
    except json.JSONDecodeError as exc:
        msg = f"the plan in {path} is not valid JSON: {exc}"
        raise PlanError(msg) from exc
    return parse_plan(data)
