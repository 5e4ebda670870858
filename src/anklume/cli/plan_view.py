"""Present a reconcile plan: the table of ``domain check``, the warnings of ``domain apply``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from anklume.cli import _present

if TYPE_CHECKING:
    from anklume.apply.plan import PlanAction

LEFT_ALONE = {
    "needs-recreate": "apply with --recreate to rebuild (a backup is exported first)",
    "orphan": "apply with --prune to delete what can be (never protected instances)",
}
"""What an apply leaves alone on purpose, and the option that acts on it."""


def show(plan: list[PlanAction]) -> None:
    """Print the plan as a table, one row per action, then the count."""
    rows = [(a.action, a.resource, a.project, a.name, "; ".join(a.changes) or a.reason) for a in plan]
    _present.table("Plan", ["action", "resource", "project", "name", "changes"], rows)
    _present.out(f"{len(plan)} action{'s' if len(plan) != 1 else ''} pending; run 'anklume domain apply'.")


def warn_left_alone(plan: list[PlanAction]) -> None:
    """Warn about each action the apply left alone on purpose, then once per verb with its option."""
    for verb, hint in LEFT_ALONE.items():
        found = [a for a in plan if a.action == verb]
        for action in found:
            where = f"{action.project}/{action.name}" if action.project != action.name else action.name
            detail = "; ".join(action.changes) or action.reason
            _present.warn(f"{verb}: {action.resource} {where} ({detail})")
        if found:
            _present.warn(f"{len(found)} {verb}: {hint}")
