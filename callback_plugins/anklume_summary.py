"""Ansible aggregate callback: write the run's totals and changes as JSON.

Enabled by ``anklume domain apply`` through ``ANSIBLE_CALLBACKS_ENABLED=anklume_summary``;
writes to ``$ANKLUME_SUMMARY_FILE`` at the end of the run (nothing when unset).
The record: ``ok``, ``changed``, ``failed``, ``unreachable``, ``skipped``
(Ansible's totals over hosts), ``duration`` (seconds), ``changes`` (one
``{phase, task, host, item}`` per changed result, loop items one by one)
and ``failures`` (one line each).

It also writes the plan ``site.yml`` reports: a ``set_fact`` of
``anklume_plan_report`` (``{file, plan}``) makes it write ``plan`` as JSON to
``file`` at once (a callback runs in the controller: no module, no worker).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
    name: anklume_summary
    type: aggregate
    short_description: write anklume's run summary as JSON
    description:
      - Writes totals, changed resources and failures to $ANKLUME_SUMMARY_FILE.
    requirements:
      - enable in callbacks_enabled
"""


def _item(res: dict[str, Any]) -> str:
    label = res.get("_ansible_item_label", res.get("item"))
    if isinstance(label, dict):
        label = label.get("name", label)
    return "" if label is None else str(label)


def _write_json(path: Path, data: object) -> None:
    """Write ``data`` as JSON, atomically (a reader never sees half a file)."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1, default=str), encoding="utf-8")
    os.chmod(tmp, 0o600)
    tmp.replace(path)


def _task_name(result: Any) -> str:
    """Return the task's own name (without the ``role : `` prefix Ansible adds)."""
    task = result._task
    return str(task.name or task.get_name()).strip()


class CallbackModule(CallbackBase):  # type: ignore[misc]  # ansible ships no type hints
    """Collect totals and changes; write them as JSON at the end."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "anklume_summary"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self) -> None:
        super().__init__()
        self._phase = ""
        self._changes: list[dict[str, str]] = []
        self._failures: list[str] = []
        self._start = time.monotonic()

    def v2_playbook_on_play_start(self, play: Any) -> None:
        self._phase = play.get_name().strip()

    def _record(self, result: Any, *, loop_item: bool) -> None:
        res = result._result
        items = res.get("anklume_items")
        if isinstance(items, list):  # a batch of actions (anklume_apply): one change per resource
            for item in items:
                if item.get("changed") and not item.get("failed"):
                    self._changes.append(
                        {
                            "phase": self._phase,
                            "task": _task_name(result),
                            "host": result._host.get_name(),
                            "item": str(item.get("label", "")),
                        }
                    )
            return
        if (not loop_item and "results" in res) or not res.get("changed", False):
            return
        self._changes.append(
            {
                "phase": self._phase,
                "task": _task_name(result),
                "host": result._host.get_name(),
                "item": _item(res) if loop_item else "",
            }
        )

    def v2_runner_on_ok(self, result: Any) -> None:
        self._record(result, loop_item=False)
        report = (result._result.get("ansible_facts") or {}).get("anklume_plan_report")
        if isinstance(report, dict) and report.get("file"):
            _write_json(Path(str(report["file"])), report.get("plan"))

    def v2_runner_item_on_ok(self, result: Any) -> None:
        self._record(result, loop_item=True)

    def _fail(self, result: Any) -> None:
        res = result._result
        task = _task_name(result)
        host = result._host.get_name()
        msg = str(res.get("msg", "")).strip() or str(res.get("stderr", "")).strip()[-300:]
        self._failures.append(f"{self._phase} | {task} [{host}] {_item(res)}: {msg}".strip())

    def v2_runner_on_failed(self, result: Any, ignore_errors: bool = False) -> None:
        if not ignore_errors:
            self._record(result, loop_item=False)  # a batch's resources that did change
            self._fail(result)

    def v2_runner_on_unreachable(self, result: Any) -> None:
        self._fail(result)

    def v2_playbook_on_stats(self, stats: Any) -> None:
        target = os.environ.get("ANKLUME_SUMMARY_FILE")
        if not target:
            return
        hosts = stats.processed
        record = {
            "ok": sum(stats.ok.get(h, 0) for h in hosts),
            "changed": sum(stats.changed.get(h, 0) for h in hosts),
            "failed": sum(stats.failures.get(h, 0) for h in hosts),
            "unreachable": sum(stats.dark.get(h, 0) for h in hosts),
            "skipped": sum(stats.skipped.get(h, 0) for h in hosts),
            "duration": round(time.monotonic() - self._start, 3),
            "changes": self._changes,
            "failures": self._failures,
        }
        _write_json(Path(target), record)
