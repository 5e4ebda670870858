"""Present a reconcile plan: the table of ``domain check``, the warnings of ``domain apply``."""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING

from anklume.apply.plan import change_lines, masked_argv, masked_stdin
from anklume.cli import _present

if TYPE_CHECKING:
    from anklume.plan.action import Action

LEFT_ALONE = {
    "needs-recreate": "apply with --recreate to rebuild (a backup is exported first)",
    "orphan": "apply with --prune to delete what can be (never protected instances)",
}
"""What an apply leaves alone on purpose, and the option that acts on it."""


def show(plan: list[Action], *, commands: bool = False) -> None:
    """Print the plan as a table, one row per action, then (``commands``) what each runs, then the count."""
    rows = [(a.verb, a.resource, a.project, a.name, "; ".join(change_lines(a)) or a.reason) for a in plan]
    _present.table("Plan", ["action", "resource", "project", "name", "changes"], rows)
    if commands:
        for action in plan:
            for command in action.commands:
                argv = masked_argv(command.argv)
                _present.out(f"{action.resource} {action.project}/{action.name}: {shlex.join(argv)}")
                if command.stdin is not None:
                    _present.out(f"  stdin: {masked_stdin(command.stdin)}")
    _present.out(f"{len(plan)} action{'s' if len(plan) != 1 else ''} pending; run 'anklume domain apply'.")


def warn_left_alone(plan: list[Action]) -> None:
    """Warn about each action the apply left alone on purpose, then once per verb with its option."""
    for verb, hint in LEFT_ALONE.items():
        found = [a for a in plan if a.verb == verb]
        for action in found:
            where = f"{action.project}/{action.name}" if action.project != action.name else action.name
            detail = "; ".join(change_lines(action)) or action.reason
            _present.warn(f"{verb}: {action.resource} {where} ({detail})")
        if found:
            _present.warn(f"{len(found)} {verb}: {hint}")
