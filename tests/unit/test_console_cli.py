"""``anklume console`` through the real entry point: dry run, usage errors, kill."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from pathlib import Path

import pytest

from anklume.cli.main import main
from tests.unit.conftest import WriteInfra

INFRA = """\
project_name: demo
global:
  addressing: {zone_base: 100}
domains:
  pro:
    trust_level: trusted
    machines:
      pro-web: {}
  lab:
    trust_level: disposable
"""


def test_dry_run_prints_every_declared_machine_without_incus(
    write_infra: WriteInfra, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANKLUME_INCUS", "/nonexistent/incus")
    root = write_infra(INFRA)
    assert main(["-C", str(root), "console", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "window pro  (trusted, green)" in out
    assert "pane pro/pro-web  instance pro-web in project pro  [declared]" in out
    assert "window lab  (disposable, magenta)" in out


def test_unknown_domain_is_a_usage_error(write_infra: WriteInfra, capsys: pytest.CaptureFixture[str]) -> None:
    root = write_infra(INFRA)
    assert main(["-C", str(root), "console", "--dry-run", "--domain", "nope"]) == 2
    assert "no enabled domain named 'nope'" in capsys.readouterr().err


@pytest.mark.parametrize("option", ["--session", "--socket-name"])
def test_tmux_names_are_validated(option: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["console", option, "a;b", "--kill"]) == 2
    assert "letters, digits" in capsys.readouterr().err


def test_kill_removes_the_session_once(capsys: pytest.CaptureFixture[str]) -> None:
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed (apt-get install tmux)")
    socket = f"anklume-test-{secrets.token_hex(4)}"
    base = ["tmux", "-L", socket, "-f", "/dev/null"]
    subprocess.run([*base, "new-session", "-d", "-s", "anklume", "cat"], check=True)
    try:
        assert main(["console", "-L", socket, "--kill"]) == 0
        assert "killed session anklume" in capsys.readouterr().out
        assert main(["console", "-L", socket, "--kill"]) == 0
        assert "no session anklume" in capsys.readouterr().out
    finally:
        subprocess.run([*base, "kill-server"], check=False, capture_output=True)
        Path(os.environ.get("TMUX_TMPDIR") or "/tmp", f"tmux-{os.getuid()}", socket).unlink(missing_ok=True)
