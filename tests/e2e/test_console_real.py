"""anklume console on real running instances: each pane is a shell inside its machine."""

from __future__ import annotations

import os
import subprocess
import time

import pytest

from tests.e2e.conftest import E2EInfra


def _tmux(socket: str, *args: str) -> str:
    return subprocess.run(["tmux", "-L", socket, *args], capture_output=True, text=True, check=True).stdout


@pytest.mark.incus
def test_console_panes_are_shells_in_the_running_machines(applied: E2EInfra) -> None:
    socket = f"anklume-e2e-{os.getpid()}"
    run = applied.anklume("console", "-L", socket, "--session", "e2e", "--no-attach", timeout=120)
    assert run.rc == 0, run.stdout + run.stderr
    try:
        listing = _tmux(socket, "list-panes", "-a", "-F", "#{pane_id} #{@anklume_machine} #{@anklume_label}")
        panes = [line.split() for line in listing.splitlines() if line.strip()]
        running = {n for n, i in applied.instances().items() if i.get("status") == "Running"}
        assert panes, "no pane for any running machine"
        assert {machine for _, machine, _ in panes} <= running
        pane, machine, label = panes[0]
        assert label.endswith(f"/{machine}")
        _tmux(socket, "send-keys", "-t", pane, "echo token-$(hostname)", "Enter")
        deadline = time.monotonic() + 30
        screen = ""
        while time.monotonic() < deadline:
            screen = _tmux(socket, "capture-pane", "-p", "-J", "-t", pane)
            if f"token-{machine}" in screen:
                break
            time.sleep(0.5)
        assert f"token-{machine}" in screen, screen
    finally:
        subprocess.run(["tmux", "-L", socket, "kill-server"], capture_output=True, check=False)
