"""The telemetry report renders from a fixture log, without a terminal."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from anklume.telemetry import store
from anklume.telemetry.html_page import page
from anklume.telemetry.report import EMPTY, render_fragments, render_text, summary

FIXTURE = """\
{"ts":"2025-03-01T09:00:00Z","command":"sync","domain":null,"duration_s":0.8,"exit_code":0}
{"ts":"2025-03-01T09:05:00Z","command":"domain apply","domain":"pro","duration_s":61.5,"exit_code":0}
{"ts":"2025-03-02T10:00:00Z","command":"sync","domain":null,"duration_s":1.2,"exit_code":2}
{"ts":"2025-03-03T11:00:00Z","command":"domain apply","domain":"perso","duration_s":48.5,"exit_code":1}
{"ts":"2025-03-03T11:30:00Z","command":"console","domain":null,"duration_s":0.3,"exit_code":0}
"""


def fixture_log(tmp_path: Path) -> Path:
    log = tmp_path / "usage.jsonl"
    log.write_text(FIXTURE, encoding="utf-8")
    return log


def test_text_report_has_three_charts_and_a_summary(tmp_path: Path) -> None:
    events = store.read_events(fixture_log(tmp_path))
    text = render_text(events, width=90)
    assert text.startswith("5 commands from 2025-03-01 to 2025-03-03, 2 failed\n")
    assert "  domain apply: 2 runs, 1 failed, mean 55.0 s, max 61.5 s" in text
    for title in ("Commands per day", "Mean duration per command (s)", "Failures per command"):
        assert title in text
    for day in ("2025-03-01", "2025-03-02", "2025-03-03"):
        assert day in text
    assert "\x1b[" not in text  # no colour codes unless asked
    assert max(len(line) for line in text.splitlines()) <= 90


def test_report_command_renders_without_a_terminal(tmp_path: Path) -> None:
    log = fixture_log(tmp_path)
    html = tmp_path / "usage.html"
    argv = [
        sys.executable,
        "-m",
        "anklume.cli.main",
        "telemetry",
        "report",
        "--log",
        str(log),
        "--html",
        str(html),
    ]
    proc = subprocess.run(argv, capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr
    assert "Failures per command" in proc.stdout
    assert "█" in proc.stdout
    doc = html.read_text(encoding="utf-8")
    assert doc.startswith("<!DOCTYPE html>")
    assert doc.count("<pre>") == 3
    assert "http://" not in doc
    assert "https://" not in doc
    assert "<script" not in doc


def test_html_fragments_are_inline_styled(tmp_path: Path) -> None:
    events = store.read_events(fixture_log(tmp_path))
    fragments = render_fragments(events)
    assert len(fragments) == 3
    assert all(f.startswith("<pre>") and "style=" in f for f in fragments)
    assert "<title>usage</title>" in page("usage", summary(events), fragments)


def test_empty_log_says_how_to_turn_telemetry_on(tmp_path: Path) -> None:
    assert render_text(store.read_events(tmp_path / "missing.jsonl")) == EMPTY + "\n"
