"""``--yolo`` on every command that reads the infra, and ANKLUME_YOLO for the processes they start."""

from __future__ import annotations

import os
import subprocess
import sys
import typing as t
from pathlib import Path

import pytest
import typer

from anklume.cli.main import app, main
from tests.unit.conftest import WriteInfra

ESCAPE = """\
project_name: x
global: {addressing: {zone_base: 100}}
domains:
  pro:
    machines:
      w:
        devices: {kb: {type: usb, vendorid: '046d'}}
"""
WHERE = "infra.yml:7: domains.pro.machines.w.devices.kb.type"


@pytest.fixture(autouse=True)
def _no_yolo_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANKLUME_YOLO", "")  # recorded, so the undo removes what --yolo exports
    monkeypatch.delenv("ANKLUME_YOLO")


class Command(t.NamedTuple):
    test_id: str
    words: tuple[str, ...]


COMMANDS = [
    Command(" ".join(w), w)
    for w in (
        ("sync",),
        ("domain", "apply"),
        ("domain", "check"),
        ("domain", "list"),
        ("domain", "status"),
        ("network", "rules"),
        ("network", "deploy"),
        ("network", "status"),
        ("network", "verify"),
        ("console",),
    )
]


@pytest.mark.parametrize("case", COMMANDS, ids=[c.test_id for c in COMMANDS])
def test_every_command_that_reads_the_infra_accepts_yolo(case: Command) -> None:
    cmd: t.Any = typer.main.get_command(app)
    for word in case.words:
        cmd = cmd.commands[word]
    assert any("--yolo" in p.opts for p in cmd.params), case.words


class Run(t.NamedTuple):
    test_id: str
    args: tuple[str, ...]


RUNS = [
    Run("domain-list", ("domain", "list")),
    Run("network-rules", ("network", "rules")),
    Run("console-dry-run", ("console", "--dry-run")),
]


@pytest.mark.parametrize("case", RUNS, ids=[c.test_id for c in RUNS])
def test_an_escape_stops_the_command_unless_yolo(
    write_infra: WriteInfra, capfd: pytest.CaptureFixture[str], case: Run
) -> None:
    root = write_infra(ESCAPE)
    assert main(["-C", str(root), *case.args]) == 2
    assert WHERE in capfd.readouterr().err
    assert main(["-C", str(root), *case.args, "--yolo"]) == 0
    if case.test_id == "domain-list":  # the others show their own output only
        assert f"{WHERE}: a usb device" in capfd.readouterr().err


def test_a_child_anklume_sees_yolo_through_the_environment(write_infra: WriteInfra) -> None:
    """What the incus_nftables role does: run ``anklume network ...`` as a separate process."""
    root = write_infra(ESCAPE)
    env = {k: v for k, v in os.environ.items() if k != "ANKLUME_YOLO"}
    argv = [sys.executable, "-m", "anklume.cli.main", "-C", str(root), "network", "rules"]
    refused = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    assert refused.returncode == 2, refused.stderr
    assert WHERE in refused.stderr
    allowed = subprocess.run(argv, env={**env, "ANKLUME_YOLO": "1"}, capture_output=True, text=True, check=False)
    assert allowed.returncode == 0, allowed.stderr
    assert "table inet" in allowed.stdout


def test_yolo_option_exports_anklume_yolo(write_infra: WriteInfra) -> None:
    root = write_infra(ESCAPE)
    assert main(["-C", str(root), "domain", "list", "--yolo"]) == 0
    assert os.environ.get("ANKLUME_YOLO") == "1"
    assert Path(root / "infra.yml").is_file()
