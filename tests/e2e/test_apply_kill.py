"""An apply killed mid-run (SIGKILL) leaves nothing that blocks the next one, which converges."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from anklume.apply.lock import apply_lock
from anklume.errors import LockedError
from tests.e2e.conftest import E2EInfra

pytestmark = [pytest.mark.incus, pytest.mark.slow]

LATE = """\
      ak2-late1: {}
      ak2-late2: {}
"""


def _wait_for(proc: subprocess.Popen[str], marker: str, timeout: float) -> str:
    """Read the apply's stdout until ``marker`` appears; return what was read."""
    assert proc.stdout is not None
    seen = ""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen += line
        if marker in line:
            return seen
    pytest.fail(f"'{marker}' never appeared in the apply output:\n{seen}")


def _wait_for_lock(path: Path, timeout: float) -> None:
    """Wait until the killed run's last worker (finishing its task in flight) frees the lock."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with apply_lock(path, ["probe"]):
                return
        except LockedError:
            assert time.monotonic() < deadline, "the lock of the killed apply was never released"
            time.sleep(0.5)


def _wait_until_created(applied: E2EInfra, name: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while name not in applied.instances():
        assert time.monotonic() < deadline, f"{name} was never created"
        time.sleep(0.2)


def test_sigkill_mid_apply_then_next_apply_converges(applied: E2EInfra) -> None:
    text = (applied.directory / "infra.yml").read_text(encoding="utf-8")
    anchor = "      ak2-app:\n"
    applied.write(text.replace(anchor, LATE + anchor))
    proc = subprocess.Popen(
        applied.argv("domain", "apply", "ak2"),
        env=applied.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        _wait_for(proc, "==> Infra", timeout=120)
        refused = applied.anklume("domain", "apply", "ak2")
        assert refused.rc == 1
        assert "another anklume apply is running" in refused.stderr
        _wait_for(proc, "Create, rebuild, converge and start instances", timeout=300)
        _wait_until_created(applied, "ak2-late1", timeout=120)  # killed while the batch creates the rest
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    _wait_for_lock(applied.lock_file, timeout=300)
    converged = applied.apply("ak2")
    live = applied.instances()
    for name in ("ak2-late1", "ak2-late2", "ak2-app"):
        assert live[name]["status"] == "Running", converged.stdout
    assert applied.apply("ak2").changes == 0
