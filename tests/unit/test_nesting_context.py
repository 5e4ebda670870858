"""incus_nesting writes the three context files in one process (files/write_context.py, run as python3 -c)."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

import yaml

ROLE = Path(__file__).resolve().parents[2] / "roles" / "incus_nesting"
SCRIPT = (ROLE / "files" / "write_context.py").read_text(encoding="utf-8")


def _write(directory: Path, *pairs: str) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-c", SCRIPT, str(directory), *pairs]
    return subprocess.run(argv, capture_output=True, text=True, check=False, timeout=30)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_writes_each_file_once_then_reports_ok(tmp_path: Path) -> None:
    where = tmp_path / "etc" / "anklume"
    first = _write(where, "absolute_level=2", "relative_level=1", "vm_nested=false")
    assert (first.returncode, first.stdout) == (0, "changed\n")
    assert {p.name: p.read_text() for p in where.iterdir()} == {
        "absolute_level": "2\n",
        "relative_level": "1\n",
        "vm_nested": "false\n",
    }
    assert _mode(where) == 0o755
    assert all(_mode(p) == 0o644 for p in where.iterdir())
    again = _write(where, "absolute_level=2", "relative_level=1", "vm_nested=false")
    assert (again.returncode, again.stdout) == (0, "ok\n")


def test_a_changed_value_or_mode_is_fixed(tmp_path: Path) -> None:
    _write(tmp_path, "absolute_level=1", "vm_nested=false")
    (tmp_path / "vm_nested").chmod(0o600)
    assert _write(tmp_path, "absolute_level=1", "vm_nested=false").stdout == "changed\n"
    assert _mode(tmp_path / "vm_nested") == 0o644
    assert _write(tmp_path, "absolute_level=3", "vm_nested=false").stdout == "changed\n"
    assert (tmp_path / "absolute_level").read_text() == "3\n"
    assert not list(tmp_path.glob("*.anklume-tmp"))


def test_a_malformed_argument_fails_and_writes_nothing(tmp_path: Path) -> None:
    for bad in ("novalue", "=1", "../x=1"):
        proc = _write(tmp_path / "d", bad)
        assert proc.returncode == 2, bad
        assert "bad NAME=VALUE" in proc.stderr
    assert not list((tmp_path / "d").iterdir())


def test_the_role_passes_the_three_files_to_one_task() -> None:
    tasks = yaml.safe_load((ROLE / "tasks" / "context.yml").read_text(encoding="utf-8"))
    assert len(tasks) == 1
    argv = tasks[0]["ansible.builtin.command"]["argv"]
    assert [a.split("=")[0] for a in argv[4:]] == ["absolute_level", "relative_level", "vm_nested"]
    assert tasks[0]["changed_when"] == "incus_nesting__written.stdout == 'changed'"
