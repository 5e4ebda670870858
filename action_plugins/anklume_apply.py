"""Action ``anklume_apply``: run the incus commands of a batch of planned actions, in the controller.

One task applies a whole resource kind: each action's commands in order,
up to ``parallel`` actions at a time (:mod:`anklume.apply.batch`), then,
with ``settle``, waits once until every instance it started has stayed
running (:mod:`anklume.apply.settle`). No module is shipped to a worker:
an action costs its incus commands alone. The result lists every action
(``anklume_items``): the progress output and the summary show them one by
one, as loop items.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from ansible.plugins.action import ActionBase

try:
    from anklume.apply import batch, settle
    from anklume.errors import IncusError
    from anklume.incus.run import binary
except ImportError:  # the framework checkout is used without installing the package
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
    from anklume.apply import batch, settle
    from anklume.errors import IncusError
    from anklume.incus.run import binary

DOCUMENTATION = """
module: anklume_apply
short_description: Run the incus commands of a batch of anklume's planned actions
description:
  - Runs, on the controller, the commands each action carries (argv lists, no shell), each action's in order.
  - Independent actions run side by side, up to I(parallel) at a time.
options:
  actions:
    description: Planned actions (anklume's action records), all of one resource kind.
    type: list
    elements: dict
    required: true
  steps:
    description: Only the commands of these steps; all when omitted.
    type: list
    elements: str
  parallel:
    description: How many actions run at the same time.
    type: int
    default: 4
  settle:
    description: After the commands, wait until every instance started has been Running this many seconds (0 = no wait).
    type: float
    default: 0
  timeout:
    description: Give up waiting for started instances to settle after this many seconds.
    type: float
    default: 60
"""


class ActionModule(ActionBase):  # type: ignore[misc]  # ansible ships no type hints
    """Run the batch in the controller process."""

    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset({"actions", "steps", "parallel", "settle", "timeout"})

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result: dict[str, Any] = super().run(tmp, task_vars)
        args = self._task.args
        actions = list(args.get("actions") or [])
        steps = args.get("steps")
        try:
            incus = binary()
        except IncusError as exc:
            return {**result, "failed": True, "msg": str(exc)}
        done = batch.run_actions(
            actions, batch.subprocess_runner(incus), steps=steps, parallel=int(args.get("parallel", 4))
        )
        items = [r.to_dict() for r in done]
        failed = [r for r in done if r.failed]
        result.update(changed=any(r.changed for r in done), anklume_items=items)
        if failed:
            lines = [f"{r.label}: '{' '.join(r.cmd)}' failed (exit {r.rc}): {r.stderr[-400:]}" for r in failed]
            return {**result, "failed": True, "msg": "\n".join(lines)}
        wait = float(args.get("settle", 0) or 0)
        if wait > 0:
            started = _started(actions, done)
            msg = settle.wait_running(
                started,
                lambda: _query(incus),
                lambda project, name: _console(incus, project, name),
                settle=wait,
                timeout=float(args.get("timeout", 60)),
            )
            if msg:
                return {**result, "failed": True, "msg": msg}
        return result


def _started(actions: list[dict[str, Any]], done: list[batch.ActionResult]) -> list[dict[str, str]]:
    ok = {r.label for r in done if not r.failed}
    return [
        {"project": str(a.get("project") or "default"), "name": str(a.get("name"))}
        for a in actions
        if batch.label_of(a) in ok and any(c.get("step") == "start" for c in a.get("commands") or ())
    ]


def _query(incus: str) -> list[dict[str, Any]]:
    argv = [incus, "query", "/1.0/instances?recursion=1&all-projects=true"]
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    data = json.loads(proc.stdout) if proc.returncode == 0 and proc.stdout.strip() else []
    return data if isinstance(data, list) else []


def _console(incus: str, project: str, name: str) -> str:
    argv = [incus, "console", name, "--show-log", f"--project={project}"]
    return subprocess.run(argv, capture_output=True, text=True, check=False).stdout
