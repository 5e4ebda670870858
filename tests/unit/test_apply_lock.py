"""The apply lock: one holder at a time, released even when the holder is killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from anklume.apply.lock import apply_lock, default_lock_path
from anklume.errors import LockedError, UsageError

HOLD = """
import sys, time
from pathlib import Path
from anklume.apply.lock import apply_lock
with apply_lock(Path(sys.argv[1]), ["anklume", "domain", "apply"]):
    print("locked", flush=True)
    time.sleep(120)
"""


def _holder(path: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(path)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "locked"
    return proc


def test_second_holder_is_refused_with_the_first_ones_pid(tmp_path: Path) -> None:
    path = tmp_path / "apply.lock"
    proc = _holder(path)
    try:
        with pytest.raises(LockedError) as err, apply_lock(path):
            pass
        assert f"pid {proc.pid}" in err.value.holder
        assert "anklume domain apply" in str(err.value)
    finally:
        proc.kill()
        proc.wait()


def test_sigkilled_holder_leaves_nothing_that_blocks(tmp_path: Path) -> None:
    path = tmp_path / "apply.lock"
    proc = _holder(path)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    with apply_lock(path, ["next"]) as fd:
        assert os.pread(fd, 100, 0).decode().startswith(f"pid {os.getpid()}: next")


def test_lock_is_inherited_by_a_child_that_outlives_the_parent(tmp_path: Path) -> None:
    path = tmp_path / "apply.lock"
    with apply_lock(path) as fd:
        child = subprocess.Popen(["sleep", "30"], pass_fds=(fd,))
    try:
        with pytest.raises(LockedError), apply_lock(path):
            pass
    finally:
        child.kill()
        child.wait()
    deadline = time.monotonic() + 10
    while True:
        try:
            with apply_lock(path):
                break
        except LockedError:
            assert time.monotonic() < deadline
            time.sleep(0.05)


def test_lock_file_can_be_chosen_through_the_environment(tmp_path: Path) -> None:
    chosen = tmp_path / "x.lock"
    assert default_lock_path(tmp_path, {"ANKLUME_LOCK_FILE": str(chosen)}) == chosen
    assert default_lock_path(tmp_path, {}).name == "apply.lock"


def test_a_linked_lock_file_is_refused_and_its_target_untouched(tmp_path: Path) -> None:
    victim = tmp_path / "bashrc"
    victim.write_text("export PATH\n")
    infra = tmp_path / "infra"
    (infra / ".anklume").mkdir(parents=True)
    (infra / ".anklume" / "apply.lock").symlink_to(victim)
    with pytest.raises(UsageError, match="a link is refused"), apply_lock(infra / ".anklume" / "apply.lock"):
        pass
    assert victim.read_text() == "export PATH\n"


def test_a_linked_lock_directory_is_refused(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    infra = tmp_path / "infra"
    infra.mkdir()
    (infra / ".anklume").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(UsageError, match="a link is refused"), apply_lock(infra / ".anklume" / "apply.lock"):
        pass
    assert list(elsewhere.iterdir()) == []


def test_a_dangling_linked_lock_directory_is_refused_cleanly(tmp_path: Path) -> None:
    infra = tmp_path / "infra"
    infra.mkdir()
    (infra / ".anklume").symlink_to(tmp_path / "nowhere", target_is_directory=True)
    with pytest.raises(UsageError, match="a link is refused"), apply_lock(infra / ".anklume" / "apply.lock"):
        pass
    assert not (tmp_path / "nowhere").exists()
