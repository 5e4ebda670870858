"""Ansible stdout callback: compact progress per phase and resource, then what changed.

Enabled by ``anklume domain apply`` through ``ANSIBLE_STDOUT_CALLBACK=anklume_progress``
and ``ANSIBLE_CALLBACK_PLUGINS=<framework>/callback_plugins``. Each play is a
phase; a changed or failed result prints one line naming the task and the
resource (the loop item's label, else the host). The run ends with the list
of changes. ``ANKLUME_PROGRESS=quiet`` prints failures only.
"""

from __future__ import annotations

import os
import time
from typing import Any

from ansible.plugins.callback import CallbackBase
from ansible.utils.color import stringc

DOCUMENTATION = """
    name: anklume_progress
    type: stdout
    short_description: anklume's compact progress and change summary
    description:
      - One header per play (phase), one line per changed or failed resource,
        per-phase counts, and a final list of what changed.
    requirements:
      - set as stdout callback
"""


def _label(result: Any) -> str:
    """Return the resource a result is about: the loop item's label (with the host when
    the task runs on an instance), else the host."""
    res = result._result
    host = result._host.get_name()
    label = res.get("_ansible_item_label", res.get("item"))
    if isinstance(label, dict):
        label = label.get("name", label)
    if label is None:
        return str(host)
    return str(label) if host == "localhost" else f"{host} {label}"


def _message(result: Any) -> str:
    res = result._result
    parts = [str(res.get("msg", "")).strip()]
    stderr = str(res.get("stderr", "")).strip()
    if stderr:
        parts.append(" / ".join(stderr.splitlines()[-3:]))
    return " — ".join(p for p in parts if p) or "failed"


def _task_name(result: Any) -> str:
    """Return the task's own name (without the ``role : `` prefix Ansible adds)."""
    task = result._task
    return str(task.name or task.get_name()).strip()


class CallbackModule(CallbackBase):  # type: ignore[misc]  # ansible ships no type hints
    """Progress per phase/resource and a final summary of changes."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "stdout"
    CALLBACK_NAME = "anklume_progress"

    def __init__(self) -> None:
        super().__init__()
        self._quiet = os.environ.get("ANKLUME_PROGRESS", "normal") == "quiet"
        self._phase = ""
        self._phase_start = 0.0
        self._counts = {"ok": 0, "changed": 0, "failed": 0, "skipped": 0}
        self._changes: dict[str, list[str]] = {}
        self._start = time.monotonic()

    def _say(self, text: str, color: str | None = None, *, always: bool = False) -> None:
        if self._quiet and not always:
            return
        self._display.display(stringc(text, color) if color else text)

    def _close_phase(self) -> None:
        if not self._phase:
            return
        took = time.monotonic() - self._phase_start
        c = self._counts
        self._say(f"    {c['changed']} changed, {c['ok']} unchanged, {c['failed']} failed ({took:.1f} s)", "normal")
        self._counts = dict.fromkeys(self._counts, 0)

    def v2_playbook_on_play_start(self, play: Any) -> None:
        self._close_phase()
        self._phase = play.get_name().strip() or "play"
        self._phase_start = time.monotonic()
        self._say(f"==> {self._phase}", "bright blue")

    def _count(self, task: str, label: str, *, changed: bool) -> None:
        if changed:
            self._counts["changed"] += 1
            line = f"{task}: {label}"
            self._changes.setdefault(self._phase, []).append(line)
            self._say(f"  ~ {line}", "yellow")
        else:
            self._counts["ok"] += 1

    def v2_playbook_on_task_start(self, task: Any, is_conditional: bool) -> None:
        """Say when a batch of actions starts: it may run for minutes before its resources are reported."""
        if str(task.action).rsplit(".", 1)[-1] == "anklume_apply":
            self._say(f"  … {str(task.name or task.get_name()).strip()}", "normal")

    def _record(self, result: Any, *, loop_item: bool) -> None:
        res = result._result
        if not loop_item and "results" in res:
            return  # loop summary: items were already counted one by one
        items = res.get("anklume_items")
        if isinstance(items, list):  # a batch of actions (anklume_apply): one line per resource
            for item in items:
                if not item.get("failed"):
                    self._count(_task_name(result), str(item.get("label", "")), changed=bool(item.get("changed")))
            return
        self._count(_task_name(result), _label(result), changed=bool(res.get("changed", False)))

    def v2_runner_on_ok(self, result: Any) -> None:
        self._record(result, loop_item=False)

    def v2_runner_item_on_ok(self, result: Any) -> None:
        self._record(result, loop_item=True)

    def _fail(self, result: Any, kind: str) -> None:
        task = _task_name(result)
        items = result._result.get("anklume_items")
        failed = [i for i in items if i.get("failed")] if isinstance(items, list) else []
        if failed:  # a batch of actions: the resources that failed, each with its error
            self._record(result, loop_item=False)
            for item in failed:
                self._counts["failed"] += 1
                cmd = " ".join(item.get("cmd") or [])
                err = " / ".join(str(item.get("stderr", "")).strip().splitlines()[-3:])
                line = f"  ! {kind} {task}: {item.get('label')}: '{cmd}' failed (exit {item.get('rc')}): {err}"
                self._say(line, "red", always=True)
            return
        self._counts["failed"] += 1
        self._say(f"  ! {kind} {task}: {_label(result)}: {_message(result)}", "red", always=True)

    def v2_runner_on_failed(self, result: Any, ignore_errors: bool = False) -> None:
        if ignore_errors:
            self._counts["ok"] += 1
            return
        if "results" in result._result:
            return
        self._fail(result, "FAILED")

    def v2_runner_item_on_failed(self, result: Any) -> None:
        self._fail(result, "FAILED")

    def v2_runner_on_unreachable(self, result: Any) -> None:
        self._fail(result, "UNREACHABLE")

    def v2_runner_on_skipped(self, result: Any) -> None:
        self._counts["skipped"] += 1

    def v2_playbook_on_stats(self, stats: Any) -> None:
        self._close_phase()
        took = time.monotonic() - self._start
        failed = sum(stats.failures.get(h, 0) + stats.dark.get(h, 0) for h in stats.processed)
        if self._changes:
            total = sum(len(lines) for lines in self._changes.values())
            self._say(f"Changed ({total}):", "bright yellow")
            for phase, lines in self._changes.items():
                self._say(f"  {phase}")
                for line in lines:
                    self._say(f"    {line}")
        else:
            self._say("Nothing changed.", "green")
        status = "FAILED" if failed else "ok"
        self._say(f"Run {status} in {took:.1f} s", "red" if failed else "green", always=bool(failed))
