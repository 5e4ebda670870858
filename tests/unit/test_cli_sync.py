"""The CLI through its real entry points: sync, domain list, schema, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from anklume import __version__
from anklume.cli.main import main
from tests.unit.conftest import MINIMAL, WriteInfra

ANKLUME = Path(sys.executable).parent / "anklume"


def test_installed_command_runs_and_reports_its_version() -> None:
    proc = subprocess.run([str(ANKLUME), "--version"], capture_output=True, text=True, check=False)
    assert proc.returncode == 0
    assert proc.stdout.strip() == f"anklume {__version__}"


def test_sync_writes_then_changes_nothing(write_infra: WriteInfra, capsys: pytest.CaptureFixture[str]) -> None:
    root = write_infra(MINIMAL)
    assert main(["-C", str(root), "sync"]) == 0
    assert "5 new" not in capsys.readouterr().out
    assert (root / "host_vars" / "pro-b.yml").is_file()
    before = {p: p.stat().st_mtime_ns for p in root.rglob("*.yml")}
    assert main(["-C", str(root), "sync"]) == 0
    assert "unchanged" in capsys.readouterr().out
    assert {p: p.stat().st_mtime_ns for p in root.rglob("*.yml")} == before


def test_user_content_outside_the_block_survives(write_infra: WriteInfra) -> None:
    root = write_infra(MINIMAL)
    assert main(["-C", str(root), "sync"]) == 0
    path = root / "host_vars" / "pro-a.yml"
    path.write_text(path.read_text() + "my_var: 42  # mine\n")
    (root / "infra.yml").write_text(MINIMAL.replace("pro-a: {}", "pro-a: {description: changed}"))
    assert main(["-C", str(root), "sync"]) == 0
    text = path.read_text()
    assert "instance_description: changed" in text
    assert text.endswith("# Your custom variables below:\nmy_var: 42  # mine\n")


def test_check_exits_3_and_lists_stale_files(write_infra: WriteInfra, capsys: pytest.CaptureFixture[str]) -> None:
    root = write_infra(MINIMAL)
    assert main(["-C", str(root), "sync", "--check"]) == 3
    assert "group_vars/all.yml" in capsys.readouterr().out
    assert not (root / "group_vars").exists()
    main(["-C", str(root), "sync"])
    assert main(["-C", str(root), "sync", "--check"]) == 0


def test_dry_run_prints_a_diff_and_writes_nothing(write_infra: WriteInfra, capsys: pytest.CaptureFixture[str]) -> None:
    root = write_infra(MINIMAL)
    assert main(["-C", str(root), "sync", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "+++ b/host_vars/pro-a.yml" in out
    assert "+instance_ip: 10.110.1.2" in out
    assert not (root / "host_vars").exists()


def test_orphans_are_reported_and_cleaned_only_when_asked(
    write_infra: WriteInfra, capsys: pytest.CaptureFixture[str]
) -> None:
    root = write_infra(MINIMAL.replace("      pro-a: {}\n", "      pro-a: {}\n      old: {ephemeral: true}\n"))
    main(["-C", str(root), "sync"])
    write_infra(MINIMAL)
    assert main(["-C", str(root), "sync"]) == 0
    assert "orphan host_vars/old.yml" in capsys.readouterr().err
    assert (root / "host_vars" / "old.yml").exists()
    assert main(["-C", str(root), "sync", "--check"]) == 3
    assert main(["-C", str(root), "sync", "--clean-orphans"]) == 0
    assert not (root / "host_vars" / "old.yml").exists()
    assert (root / "host_vars" / "pro-a.yml").exists()


def test_invalid_input_exits_2_without_traceback(tmp_path: Path) -> None:
    (tmp_path / "infra.yml").write_text("project_name: x\nglobal: {}\ndomains: [1, 2]\n")
    proc = subprocess.run([str(ANKLUME), "-C", str(tmp_path), "sync"], capture_output=True, text=True, check=False)
    assert proc.returncode == 2
    assert "infra.yml:3: domains:" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


def test_no_infra_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-C", str(tmp_path), "sync"]) == 2
    assert "no infra.yml or infra/" in capsys.readouterr().err


def test_unknown_option_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sync", "--no-such-option"]) == 2
    assert "No such option" in capsys.readouterr().err


def test_domain_list(write_infra: WriteInfra, capsys: pytest.CaptureFixture[str]) -> None:
    root = write_infra(MINIMAL)
    assert main(["-C", str(root), "domain", "list"]) == 0
    out = capsys.readouterr().out
    assert "10.110.1.0/24" in out
    assert "perso" in out


@pytest.mark.parametrize("part", ["infra", "base", "domains", "policies"])
def test_schema_prints_json(part: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", part]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["$schema"].startswith("https://json-schema.org/")


def test_help_teaches_with_examples(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sync", "--help"]) == 0
    out = capsys.readouterr().out
    assert "anklume sync --dry-run" in out
    assert "MANAGED BY infra.yml" in out


def test_files_of_a_disabled_domain_are_kept_and_not_orphans(
    write_infra: WriteInfra, capsys: pytest.CaptureFixture[str]
) -> None:
    root = write_infra(MINIMAL.replace("    subnet_id: 0\n", "    subnet_id: 0\n    ephemeral: true\n"))
    main(["-C", str(root), "sync"])
    write_infra(MINIMAL.replace("    subnet_id: 0\n", "    subnet_id: 0\n    ephemeral: true\n    enabled: false\n"))
    assert main(["-C", str(root), "sync", "--clean-orphans"]) == 0
    assert "orphan" not in capsys.readouterr().err
    assert (root / "group_vars" / "perso.yml").exists()
    assert (root / "host_vars" / "perso-a.yml").exists()


def test_each_command_records_one_telemetry_line_only_when_on(write_infra: WriteInfra) -> None:
    root = write_infra(MINIMAL)
    log = Path.home() / ".anklume" / "telemetry" / "usage.jsonl"
    assert main(["-C", str(root), "domain", "list"]) == 0
    assert not log.exists()
    assert main(["telemetry", "on"]) == 0
    assert main(["-C", str(root), "sync", "--check"]) == 3
    assert main(["-C", str(root), "domain", "list"]) == 0
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    commands = [(e["command"], e["exit_code"]) for e in entries]
    assert commands[-2:] == [("sync", 3), ("domain list", 0)]
    assert str(root) not in log.read_text()  # argument values are never recorded
    assert main(["telemetry", "off"]) == 0
    count = len(log.read_text().splitlines())
    assert main(["-C", str(root), "domain", "list"]) == 0
    assert len(log.read_text().splitlines()) == count
