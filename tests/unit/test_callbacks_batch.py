"""The progress and summary callbacks report a batch of actions (anklume_apply) resource by resource."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest

PLUGINS = Path(__file__).resolve().parent.parent.parent / "callback_plugins"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"cb_{name}", PLUGINS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _result(items: list[dict[str, Any]], **extra: Any) -> Any:
    task = SimpleNamespace(name="Instances | Create, rebuild, converge and start instances", get_name=lambda: "")
    host = SimpleNamespace(get_name=lambda: "localhost")
    return SimpleNamespace(_result={"anklume_items": items, **extra}, _task=task, _host=host)


ITEMS = [
    {"label": "pro/web", "changed": True, "failed": False, "rc": 0, "cmd": ["incus", "start", "web"], "stderr": ""},
    {"label": "pro/db", "changed": False, "failed": False, "rc": 0, "cmd": [], "stderr": ""},
    {"label": "pro/bad", "changed": False, "failed": True, "rc": 1, "cmd": ["incus", "create"], "stderr": "no space"},
]


def test_summary_lists_each_changed_resource_and_each_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    summary = _load("anklume_summary").CallbackModule()
    summary.v2_playbook_on_play_start(SimpleNamespace(get_name=lambda: "Infra"))
    summary.v2_runner_on_ok(_result(ITEMS[:2], changed=True))
    summary.v2_runner_on_failed(_result(ITEMS, changed=True, failed=True, msg="pro/bad: 'incus create' failed"))
    monkeypatch.setenv("ANKLUME_SUMMARY_FILE", str(tmp_path / "s.json"))
    stats = SimpleNamespace(processed={}, ok={}, changed={}, failures={}, dark={}, skipped={})
    summary.v2_playbook_on_stats(stats)
    record = json.loads((tmp_path / "s.json").read_text())
    assert [c["item"] for c in record["changes"]] == ["pro/web", "pro/web"]
    assert len(record["failures"]) == 1 and "pro/bad" in record["failures"][0]


def test_progress_prints_one_line_per_resource() -> None:
    progress = _load("anklume_progress").CallbackModule()
    lines: list[str] = []
    progress._display = SimpleNamespace(display=lines.append)
    progress.v2_playbook_on_play_start(SimpleNamespace(get_name=lambda: "Infra"))
    progress.v2_runner_on_failed(_result(ITEMS, changed=True, failed=True, msg="x"))
    text = "\n".join(lines)
    assert "~ Instances | Create, rebuild, converge and start instances: pro/web" in text
    assert "pro/db" not in text  # unchanged: counted, not printed
    assert "! FAILED Instances | Create, rebuild, converge and start instances: pro/bad: 'incus create'" in text
    assert "failed (exit 1): no space" in text
    assert progress._counts == {"ok": 1, "changed": 1, "failed": 1, "skipped": 0}


def test_progress_says_when_a_batch_starts() -> None:
    progress = _load("anklume_progress").CallbackModule()
    lines: list[str] = []
    progress._display = SimpleNamespace(display=lines.append)
    task = SimpleNamespace(action="anklume_apply", name="Instances | Create, rebuild, converge and start instances")
    progress.v2_playbook_on_task_start(task, False)
    progress.v2_playbook_on_task_start(SimpleNamespace(action="ansible.builtin.file", name="Other"), False)
    assert lines == ["  … Instances | Create, rebuild, converge and start instances"]
