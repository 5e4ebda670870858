"""Read the plan that ``site.yml`` writes in plan-only mode and shape it for display.

``anklume_plan_only=true`` makes the playbook compute, per resource kind,
what an apply would do and write it as JSON to ``anklume_plan_file``. Each
action names a verb (create, update, delete, needs-recreate, orphan), a
resource kind, its name, its project, and the changes it carries.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from anklume.errors import PlanError

VERBS = ("create", "update", "delete", "needs-recreate", "recreate", "orphan", "conflict", "missing")
_ALIASES = {"needs_recreate": "needs-recreate", "prune": "delete", "remove": "delete"}
_NOOP = frozenset({"noop", "none", "ok", ""})


@dataclass(frozen=True, order=True)
class PlanAction:
    """One thing an apply would do to one resource."""

    resource: str
    name: str
    action: str
    project: str = ""
    changes: tuple[str, ...] = ()
    reason: str = ""


def _verb(raw: object) -> str:
    """Normalise an action verb.

    >>> _verb("needs_recreate"), _verb("Update")
    ('needs-recreate', 'update')
    """
    text = str(raw).strip().lower()
    return _ALIASES.get(text, text)


def _change_lines(raw: object) -> tuple[str, ...]:
    """Render changes (mapping key → [old, new], list, or text) as short lines.

    >>> _change_lines({"ipv4.nat": ["true", "false"], "user.x": [None, "1"]})
    ('ipv4.nat: true → false', 'user.x: + 1')
    >>> _change_lines({"limits.cpu": ["2", None]})
    ('limits.cpu: - 2',)
    """
    if raw is None:
        return ()
    if isinstance(raw, Mapping):
        lines = []
        for key, value in sorted(raw.items(), key=lambda kv: str(kv[0])):
            if isinstance(value, list | tuple) and len(value) == 2:
                old, new = value
                if old is None:
                    lines.append(f"{key}: + {new}")
                elif new is None:
                    lines.append(f"{key}: - {old}")
                else:
                    lines.append(f"{key}: {old} → {new}")
            else:
                lines.append(f"{key}: {value}")
        return tuple(lines)
    if isinstance(raw, list | tuple):
        return tuple(str(x) for x in raw)
    return (str(raw),)


def _action(entry: Mapping[str, Any], kind_hint: str) -> PlanAction:
    verb = _verb(entry.get("action", entry.get("op", entry.get("kind", ""))))
    resource = entry.get("resource", entry.get("type", kind_hint))
    if verb not in VERBS and "kind" in entry and _verb(entry["kind"]) not in VERBS:
        resource = entry["kind"]
    return PlanAction(
        resource=str(resource),
        name=str(entry.get("name", "")),
        action=verb,
        project=str(entry.get("project", "") or ""),
        changes=_change_lines(entry.get("changes")),
        reason=str(entry.get("reason", "") or ""),
    )


def _entries(data: object, kind_hint: str = "") -> Iterable[tuple[Mapping[str, Any], str]]:
    if isinstance(data, list):
        for entry in data:
            if isinstance(entry, Mapping):
                yield entry, kind_hint
        return
    if isinstance(data, Mapping):
        if "actions" in data:
            yield from _entries(data["actions"], kind_hint)
            return
        for key, value in data.items():
            if isinstance(value, list | Mapping):
                yield from _entries(value, str(key).rstrip("s"))


def parse_plan(data: object) -> list[PlanAction]:
    """Return the actions of a plan document in its (apply) order, without no-ops.

    >>> parse_plan({"actions": [{"action": "update", "resource": "network",
    ...     "name": "net-pro", "changes": {"ipv4.nat": ["true", "false"]}},
    ...     {"action": "noop", "resource": "project", "name": "pro"}]})
    ... # doctest: +NORMALIZE_WHITESPACE
    [PlanAction(resource='network', name='net-pro', action='update', project='',
                changes=('ipv4.nat: true → false',), reason='')]
    >>> [a.resource for a in parse_plan({"instances": [{"action": "create", "name": "web"}]})]
    ['instance']
    """
    actions = [_action(entry, hint) for entry, hint in _entries(data)]
    return [a for a in actions if a.action not in _NOOP]


def read_plan(path: Path) -> list[PlanAction]:
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
