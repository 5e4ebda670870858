"""Bounded work on any input: bombs, cycles, FIFOs, devices and huge files end in one clear error."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from anklume.cli.main import main
from anklume.engine.managed import merge, render_block
from tests.unit.conftest import MINIMAL, WriteInfra

ANKLUME = Path(sys.executable).parent / "anklume"
HEAD = "project_name: x\nglobal: {addressing: {}}\n"


def _bomb(levels: int = 9) -> str:
    """A billion-laughs document: 9 levels of 9 aliases, about 400 million values once expanded."""
    lines = ["l0: &l0 [a, a, a, a, a, a, a, a, a]"]
    for level in range(1, levels):
        lines.append(f"l{level}: &l{level} [{', '.join([f'*l{level - 1}'] * 9)}]")
    return "\n".join(lines) + "\n"


def _sync(root: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    rc = main(["-C", str(root), "sync"])
    return rc, capsys.readouterr().err


def test_an_alias_bomb_is_refused_quickly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = HEAD + _bomb() + "domains: {a: {machines: {a-1: {config: {user.x: *l8}}}}}\n"
    assert len(text) < 1024
    (tmp_path / "infra.yml").write_text(text)
    start = time.monotonic()
    rc, err = _sync(tmp_path, capsys)
    assert time.monotonic() - start < 2
    assert rc == 2
    assert re.search(r"^infra\.yml:\d+: expands to more than \d+ values", err, re.MULTILINE)


def test_a_merge_key_bomb_is_refused_quickly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lines = ["m0: &m0 {a: 1, b: 2}"]
    lines += [f"m{i}: &m{i} {{<<: [*m{i - 1}, *m{i - 1}, *m{i - 1}, *m{i - 1}]}}" for i in range(1, 14)]
    (tmp_path / "infra.yml").write_text(HEAD + "\n".join(lines) + "\ndomains: {}\n")
    start = time.monotonic()
    rc, err = _sync(tmp_path, capsys)
    assert time.monotonic() - start < 2
    assert rc == 2
    assert "expands to more than" in err


@pytest.mark.parametrize(
    "domains",
    ["&a {pro: *a}", "&a [*a]", "&a {<<: *a}", "{pro: &a {machines: {pro-a: {config: *a}}}}"],
)
def test_a_recursive_anchor_is_one_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], domains: str
) -> None:
    (tmp_path / "infra.yml").write_text(HEAD + f"domains: {domains}\n")
    rc, err = _sync(tmp_path, capsys)
    assert rc == 2
    assert "infra.yml:3: an anchor refers to itself" in err
    assert "Traceback" not in err


def test_deep_nesting_is_one_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "infra.yml").write_text(HEAD + "domains: " + "[" * 900 + "]" * 900 + "\n")
    rc, err = _sync(tmp_path, capsys)
    assert rc == 2
    assert "nested deeper than" in err


def _run(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ANKLUME), "-C", str(root), "sync"], capture_output=True, text=True, timeout=30, check=False
    )


def test_a_fifo_in_the_domains_directory_never_hangs(tmp_path: Path) -> None:
    (tmp_path / "infra" / "domains").mkdir(parents=True)
    (tmp_path / "infra" / "base.yml").write_text(HEAD)
    os.mkfifo(tmp_path / "infra" / "domains" / "pro.yml")
    proc = _run(tmp_path)  # the timeout fails the test if it hangs
    assert proc.returncode == 2
    assert "infra/domains/pro.yml: is not a regular file" in proc.stderr


@pytest.mark.parametrize("where", ["infra.yml", "infra/domains/pro.yml"])
def test_a_link_to_dev_zero_is_refused_without_reading_it(tmp_path: Path, where: str) -> None:
    if where != "infra.yml":
        (tmp_path / "infra" / "domains").mkdir(parents=True)
        (tmp_path / "infra" / "base.yml").write_text(HEAD)
    (tmp_path / where).symlink_to("/dev/zero")
    proc = _run(tmp_path)
    assert proc.returncode == 2
    assert f"{where}: is a symbolic link" in proc.stderr


def test_an_oversized_source_file_is_refused_before_it_is_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with (tmp_path / "infra.yml").open("wb") as stream:
        stream.write(HEAD.encode())
        stream.truncate(9 * 1024 * 1024)  # sparse: cheap to create, too big to read
    rc, err = _sync(tmp_path, capsys)
    assert rc == 2
    assert "infra.yml: is larger than 8 MiB" in err


def test_an_oversized_generated_file_is_refused(write_infra: WriteInfra, capsys: pytest.CaptureFixture[str]) -> None:
    root = write_infra(MINIMAL)
    (root / "host_vars").mkdir()
    with (root / "host_vars" / "pro-a.yml").open("wb") as stream:
        stream.truncate(9 * 1024 * 1024)
    rc, err = _sync(root, capsys)
    assert rc == 2
    assert "host_vars/pro-a.yml: is larger than 8 MiB" in err


def test_a_hostile_orphan_block_is_read_bounded(write_infra: WriteInfra, capsys: pytest.CaptureFixture[str]) -> None:
    root = write_infra(MINIMAL)
    assert main(["-C", str(root), "sync"]) == 0
    orphan = root / "host_vars" / "gone.yml"
    orphan.write_text(merge(None, render_block("a: &a {<<: *a}\ninstance_ephemeral: true\n")))
    assert main(["-C", str(root), "sync", "--clean-orphans"]) == 0
    assert orphan.exists()  # unreadable block: protected, kept
    assert "gone.yml is protected" in capsys.readouterr().err
