"""``anklume dev``: graphs of the project itself, missing tools, make wrappers."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from anklume.cli.main import main
from anklume.devtools import tools
from anklume.devtools.graph import analyse, shell_scripts
from anklume.devtools.project import source_root

REPO = Path(__file__).resolve().parents[2]
NEEDED = ("pyan3", "pydeps", "vulture", "little-timmy", "dot", "shellcheck")


def absent_tools() -> list[str]:
    missing = []
    for tool in NEEDED:
        try:
            tools.find(tool)
        except tools.ToolMissing:
            missing.append(tool)
    return missing


@pytest.mark.slow
def test_graph_runs_on_the_project_itself(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if missing := absent_tools():
        pytest.skip(
            f"not installed: {', '.join(missing)} (pip install -e '.[dev]'; apt-get install graphviz shellcheck)"
        )
    assert main(["-C", str(REPO), "dev", "graph", "--output", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for name in ("code", "deps", "dead", "shell", "vars"):
        assert f" {name} " in out
    assert "not run" not in out
    for svg in ("code.svg", "deps.svg"):
        text = (tmp_path / svg).read_text(encoding="utf-8")
        assert "<svg" in text
        assert "anklume" in text
    assert "anklume__console__layout__layout_from" in (tmp_path / "code.dot").read_text(encoding="utf-8")
    assert isinstance(json.loads((tmp_path / "unused-vars.json").read_text(encoding="utf-8")), list)
    assert (tmp_path / "dead-code.txt").is_file()
    assert (tmp_path / "shellcheck.txt").is_file()


def test_a_missing_tool_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    assert main(["-C", str(REPO), "dev", "graph", "--type", "code", "--type", "vars", "-o", str(tmp_path)]) == 1
    captured = capsys.readouterr()
    assert "not run" in captured.out
    assert "error: code: pyan3 not found; install it: pip install pyan3" in captured.err
    assert "error: vars: little-timmy not found; install it: pip install little-timmy" in captured.err
    assert "Traceback" not in captured.out + captured.err


def test_one_missing_tool_does_not_hide_the_other_results(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if shutil.which("shellcheck") is None:
        pytest.skip("shellcheck is not installed (apt-get install shellcheck)")
    real_find = tools.find

    def find(tool: str) -> str:
        if tool == "vulture":
            raise tools.ToolMissing(tool)
        return real_find(tool)

    monkeypatch.setattr("anklume.devtools.graph.find", find)
    outcomes = {o.name: o for o in analyse(REPO, tmp_path, ["dead"])}
    assert not outcomes["dead"].ok
    assert "vulture not found" in outcomes["dead"].message
    assert outcomes["shell"].ok


def test_shell_scripts_skip_virtualenvs(tmp_path: Path) -> None:
    for rel in ("scripts/a.sh", ".venv/lib/b.sh", "build/c.sh", ".ci/run", "roles/x/files/d.sh"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("#!/bin/bash\n", encoding="utf-8")
    found = [str(p.relative_to(tmp_path)) for p in shell_scripts(tmp_path)]
    assert found == [".ci/run", "roles/x/files/d.sh", "scripts/a.sh"]


def fake_tree(tmp_path: Path, rc: int) -> Path:
    (tmp_path / "src" / "anklume").mkdir(parents=True)
    (tmp_path / "src" / "anklume" / "__init__.py").write_text("", encoding="utf-8")
    (tmp_path / "Makefile").write_text(
        f"lint:\n\t@echo linting > lint.out; exit {rc}\ntest:\n\t@echo testing > test.out\n", encoding="utf-8"
    )
    return tmp_path


@pytest.mark.parametrize(("recipe_rc", "make_rc"), [(0, 0), (3, 2)], ids=["passes", "fails"])
def test_lint_wraps_make_and_returns_its_exit_code(tmp_path: Path, recipe_rc: int, make_rc: int) -> None:
    root = fake_tree(tmp_path, recipe_rc)
    assert main(["-C", str(root / "src"), "dev", "lint"]) == make_rc
    assert (root / "lint.out").read_text(encoding="utf-8") == "linting\n"


def test_test_wraps_make_test(tmp_path: Path) -> None:
    root = fake_tree(tmp_path, 0)
    assert main(["-C", str(root), "dev", "test"]) == 0
    assert (root / "test.out").is_file()


def test_source_root_falls_back_to_the_installed_tree(tmp_path: Path) -> None:
    assert source_root(tmp_path) == REPO
