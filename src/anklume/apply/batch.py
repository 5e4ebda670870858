"""Run the commands of a batch of planned actions: each action's in order, actions side by side.

The planners put in every action the incus commands that apply it, in the
order they must run (:mod:`anklume.plan.commands`); the actions of one
resource kind are independent of each other (two instances, two bridges).
So one call runs a whole kind: the commands of an action one after the
other, stopping at its first failure, and up to ``parallel`` actions at a
time. Every action gets its own result, for the progress output and the
summary. A command whose ``tolerate`` text is in its error output (a volume
that already exists) is not a failure, and changes nothing.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

Runner = Callable[[Sequence[str], str | None], tuple[int, str, str]]
"""Run an argv with an optional stdin; return ``(rc, stdout, stderr)``."""


@dataclass
class ActionResult:
    """What running one action's commands did."""

    label: str
    changed: bool = False
    failed: bool = False
    rc: int = 0
    cmd: list[str] = field(default_factory=list)
    stderr: str = ""
    ran: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Return the result as an Ansible-style item result."""
        return {
            "label": self.label,
            "changed": self.changed,
            "failed": self.failed,
            "rc": self.rc,
            "cmd": self.cmd,
            "stderr": self.stderr,
            "ran": self.ran,
        }


def subprocess_runner(incus: str) -> Runner:
    """Return a runner that executes incus argv lists (``argv[0]`` replaced by ``incus``'s path), and nothing else."""

    def run(argv: Sequence[str], stdin: str | None) -> tuple[int, str, str]:
        if not argv or argv[0] != "incus":  # the planner writes incus commands only: run nothing else
            return 126, "", f"refused: not an incus command: {' '.join(argv)[:200]}"
        full = [incus, *argv[1:]]
        proc = subprocess.run(full, input=stdin, capture_output=True, text=True, check=False)
        return proc.returncode, proc.stdout, proc.stderr

    return run


def label_of(action: Mapping[str, Any]) -> str:
    """Return how the progress output names an action's resource.

    >>> label_of({"resource": "instance", "project": "pro", "name": "web"})
    'pro/web'
    >>> label_of({"resource": "network", "name": "net-a"})
    'net-a'
    """
    name = str(action.get("name", ""))
    if action.get("resource") in ("instance", "profile"):
        return f"{action.get('project') or 'default'}/{name}"
    return name


def run_action(action: Mapping[str, Any], steps: frozenset[str] | None, runner: Runner) -> ActionResult:
    """Run the commands of one action (those of ``steps``, all when None), in order; stop at a failure."""
    result = ActionResult(label_of(action))
    for command in action.get("commands") or ():
        if steps is not None and command.get("step") not in steps:
            continue
        argv = [str(a) for a in command["argv"]]
        rc, _out, err = runner(argv, command.get("stdin"))
        result.ran += 1
        result.cmd, result.rc = argv, rc
        tolerate = command.get("tolerate")
        if rc != 0 and tolerate and str(tolerate) in err:
            continue
        if rc != 0:
            result.failed, result.stderr = True, err.strip()
            return result
        result.changed = True
    return result


def run_actions(
    actions: Sequence[Mapping[str, Any]], runner: Runner, *, steps: Sequence[str] | None = None, parallel: int = 4
) -> list[ActionResult]:
    """Run every action that has commands (of ``steps``), ``parallel`` at a time; results in plan order.

    >>> calls = []
    >>> def fake(argv, stdin):
    ...     calls.append(argv[1])
    ...     return (1, "", "boom") if argv[1] == "bad" else (0, "", "")
    >>> acts = [{"resource": "network", "name": "a", "commands": [{"step": "create", "argv": ["incus", "ok"]}]},
    ...         {"resource": "network", "name": "b", "commands": [{"step": "create", "argv": ["incus", "bad"]},
    ...                                                           {"step": "set", "argv": ["incus", "never"]}]}]
    >>> [(r.label, r.changed, r.failed, r.stderr) for r in run_actions(acts, fake, parallel=1)]
    [('a', True, False, ''), ('b', False, True, 'boom')]
    >>> calls
    ['ok', 'bad']
    """
    wanted = None if steps is None else frozenset(steps)
    todo = [a for a in actions if any(wanted is None or c.get("step") in wanted for c in a.get("commands") or ())]
    if not todo:
        return []
    with ThreadPoolExecutor(max_workers=max(1, min(parallel, len(todo)))) as pool:
        return list(pool.map(lambda a: run_action(a, wanted, runner), todo))
