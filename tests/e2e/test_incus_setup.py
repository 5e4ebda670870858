"""scripts/incus-setup.sh on the real host: idempotence, refusal without root, helpers."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO

SCRIPT = REPO / "scripts" / "incus-setup.sh"


def _run(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(argv), capture_output=True, text=True, timeout=900, check=False, env=env or dict(os.environ)
    )


def _state() -> dict[str, str]:
    """What the script may change: apt sources, pools, networks, default profile."""
    incus = shutil.which("incus") or "incus"
    sources = Path("/etc/apt/sources.list.d")
    state = {path.name: path.read_text(encoding="utf-8") for path in sorted(sources.glob("*")) if path.is_file()}
    for key, argv in {
        "pools": ["storage", "list", "--format", "csv", "--columns", "nd"],
        "networks": ["network", "list", "--format", "csv", "--columns", "n4"],
        "profile": ["profile", "show", "default"],
    }.items():
        state[key] = _run(incus, *argv).stdout
    return state


@pytest.mark.incus
def test_setup_twice_changes_nothing_the_second_time() -> None:
    if os.geteuid() != 0:
        pytest.skip("incus-setup.sh needs root")
    first = _run("bash", str(SCRIPT))
    assert first.returncode == 0, first.stderr
    before = _state()
    second = _run("bash", str(SCRIPT))
    assert second.returncode == 0, second.stderr
    assert _state() == before
    lines = second.stdout.splitlines()
    assert lines[-1].startswith("incus-setup: ready")
    for line in lines[:-1]:
        assert "already" in line, f"second run did something: {line}"
    assert any("storage pool" in line for line in lines)
    assert any("daemon already running" in line for line in lines)


def test_setup_refuses_non_root_with_exit_2() -> None:
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("setpriv (util-linux) is needed to drop root for this test")
        argv = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", "bash", str(SCRIPT)]
    else:
        argv = ["bash", str(SCRIPT)]
    proc = _run(*argv)
    assert proc.returncode == 2
    assert "must run as root" in proc.stderr
    assert proc.stdout == ""


def test_setup_rejects_arguments() -> None:
    proc = _run("bash", str(SCRIPT), "--force")
    assert proc.returncode == 2
    assert "usage" in proc.stderr


def _bash(snippet: str) -> str:
    proc = _run("bash", "-c", f'source "{SCRIPT}"; {snippet}')
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_overlap_check_sees_loopback() -> None:
    if shutil.which("ip") is None:
        pytest.skip("iproute2 is not installed")
    assert "127.0.0.1/8" in _bash("overlapping_routes 127.0.0.9/24").split()


def test_ip_to_int() -> None:
    assert _bash("ip_to_int 10.250.0.1").strip() == str((10 << 24) | (250 << 16) | 1)


def test_inotify_limit_is_raised_when_too_low() -> None:
    if os.geteuid() != 0:
        pytest.skip("changing fs.inotify.max_user_instances needs root")
    key = Path("/proc/sys/fs/inotify/max_user_instances")
    before = int(key.read_text(encoding="utf-8"))
    try:
        key.write_text("128\n", encoding="utf-8")
        out = _bash("ensure_inotify_limit")
        assert "raised fs.inotify.max_user_instances from 128 to" in out
        assert int(key.read_text(encoding="utf-8")) >= 1024
        assert "already" in _bash("ensure_inotify_limit")
    finally:
        if int(key.read_text(encoding="utf-8")) < before:
            key.write_text(f"{before}\n", encoding="utf-8")
