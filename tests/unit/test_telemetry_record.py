"""Telemetry recording: opt-in, one line per command, nothing else, never raises."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from anklume import telemetry
from anklume.cli.telemetry import app
from anklume.telemetry import store

FIELDS = ["command", "domain", "duration_s", "exit_code", "ts"]


def home() -> Path:
    return Path(os.environ["HOME"])


def test_off_by_default_and_records_nothing() -> None:
    assert not telemetry.enabled()
    for _ in range(3):
        telemetry.record("sync", None, 0.5, 0)
    assert not (home() / ".anklume").exists()


def test_on_writes_exactly_one_line_per_command() -> None:
    store.enable()
    telemetry.record("sync", None, 0.51234, 0)
    telemetry.record("domain apply", "pro", 42.0, 1)
    lines = (home() / ".anklume" / "telemetry" / "usage.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2
    events = [json.loads(line) for line in lines]
    assert [sorted(e) for e in events] == [FIELDS, FIELDS]
    assert events[0] | {"ts": ""} == {
        "ts": "",
        "command": "sync",
        "domain": None,
        "duration_s": 0.512,
        "exit_code": 0,
    }
    assert events[1]["domain"] == "pro"
    assert events[1]["exit_code"] == 1


def test_off_again_stops_recording_and_keeps_the_log() -> None:
    store.enable()
    telemetry.record("sync", None, 1.0, 0)
    store.disable()
    telemetry.record("sync", None, 1.0, 0)
    assert store.status().events == 1
    assert store.clear() == 1
    assert store.status().events == 0


def test_log_is_private_to_the_user() -> None:
    store.enable()
    telemetry.record("sync", None, 1.0, 0)
    directory = home() / ".anklume" / "telemetry"
    assert directory.stat().st_mode & 0o077 == 0
    assert (directory / "usage.jsonl").stat().st_mode & 0o077 == 0


def test_record_never_raises_when_the_log_cannot_be_written() -> None:
    store.enable()
    (home() / ".anklume" / "telemetry" / "usage.jsonl").mkdir()  # a directory where the file should be
    telemetry.record("sync", None, 1.0, 0)


def test_malformed_lines_are_skipped(caplog: pytest.LogCaptureFixture) -> None:
    store.enable()
    telemetry.record("sync", None, 1.0, 0)
    with (home() / ".anklume" / "telemetry" / "usage.jsonl").open("a", encoding="utf-8") as log:
        log.write("not json\n{}\n")
    assert [e["command"] for e in store.read_events()] == ["sync"]
    assert "malformed telemetry line 2" in caplog.text


def test_importing_telemetry_does_not_load_the_plotting_library() -> None:
    code = "import sys, anklume.telemetry; print('plotext' in sys.modules, 'anklume.telemetry.report' in sys.modules)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.split() == ["False", "False"]


def test_cli_turns_telemetry_on_and_off() -> None:
    from typer.testing import CliRunner

    runner = CliRunner()
    assert "telemetry off; 0 events" in runner.invoke(app, ["status"]).output
    assert runner.invoke(app, ["on"]).exit_code == 0
    telemetry.record("sync", None, 1.0, 0)
    assert "telemetry on; 1 events" in runner.invoke(app, ["status"]).output
    assert runner.invoke(app, ["off"]).exit_code == 0
    assert "deleted 1 events" in runner.invoke(app, ["clear"]).output
