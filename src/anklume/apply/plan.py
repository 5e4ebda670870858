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

SECRET_PREFIXES = ("environment.", "cloud-init.", "user.", "raw.")
"""Config keys whose values may hold secrets: never printed (``user.anklume.*`` keys are anklume's own)."""
HIDDEN = "(hidden)"


def secret(key: str) -> bool:
    """Say whether the value of config key ``key`` (or change ``config.<key>``) is kept off the screen.

    >>> secret("config.environment.API_TOKEN"), secret("user.anklume.domain"), secret("limits.cpu")
    (True, False, False)
    """
    bare = key.removeprefix("config.")
    return bare.startswith(SECRET_PREFIXES) and not bare.startswith("user.anklume.")


def masked_argv(argv: tuple[str, ...]) -> list[str]:
    """Return ``argv`` with the values of secret ``key=value`` arguments hidden.

    >>> masked_argv(("incus", "config", "set", "web", "environment.TOKEN=s3cr3t", "limits.cpu=2"))
    ['incus', 'config', 'set', 'web', 'environment.TOKEN=(hidden)', 'limits.cpu=2']
    """
    out = []
    for arg in argv:
        key, sep, value = arg.removeprefix("--config=").partition("=")
        out.append(arg.replace(f"{key}={value}", f"{key}={HIDDEN}") if sep and value and secret(key) else arg)
    return out


def masked_stdin(stdin: str) -> str:
    """Return an instance or profile document with the values of secret config keys hidden."""
    try:
        doc = json.loads(stdin)
    except json.JSONDecodeError:
        return HIDDEN
    config = doc.get("config") if isinstance(doc, dict) else None
    if isinstance(config, dict):
        doc["config"] = {k: (HIDDEN if secret(k) else v) for k, v in config.items()}
    return json.dumps(doc, sort_keys=True)


def change_lines(action: Action) -> tuple[str, ...]:
    """Render an action's changes as short lines, sorted by key; secret values are hidden.

    >>> change_lines(Action("update", "network", "n", changes={"ipv4.nat": ("true", "false"), "user.x": (None, "1")}))
    ('ipv4.nat: true → false', 'user.x: + (hidden)')
    >>> change_lines(Action("update", "profile", "p", changes={"limits.cpu": ("2", None)}))
    ('limits.cpu: - 2',)
    """
    lines = []
    for key, (shown_old, shown_new) in sorted(action.changes.items()):
        old, new = (
            (None if v is None else HIDDEN for v in (shown_old, shown_new)) if secret(key) else (shown_old, shown_new)
        )
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
