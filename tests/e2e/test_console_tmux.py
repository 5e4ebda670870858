"""The console on a real tmux server (private socket), with stand-in pane commands.

Machines need not exist: the running state comes from a stub list and the
panes run ``cat`` (or ``sh``) instead of ``incus exec``. Everything else —
windows, panes, styles, labels, re-runs — is real tmux.
"""

from __future__ import annotations

import os
import secrets
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from anklume.cli.main import main
from anklume.console.colours import colours_for
from anklume.console.layout import Layout, MachinePane, layout_from, running_only
from anklume.console.session import sync
from anklume.console.tmux import Tmux
from anklume.engine.pipeline import resolve

INFRA = """\
project_name: demo
global:
  addressing: {zone_base: 100}
domains:
  admin:
    trust_level: admin
    machines:
      admin-ctl: {}
  pro:
    trust_level: trusted
    machines:
      pro-dev: {}
      pro-web: {}
  perso:
    trust_level: semi-trusted
    machines:
      perso-desk: {}
  dmz:
    trust_level: untrusted
    machines:
      dmz-box: {}
  lab:
    trust_level: disposable
    machines:
      lab-tmp: {}
"""


@pytest.fixture
def tmux() -> Iterator[Tmux]:
    """A tmux server of its own, killed at the end."""
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed (apt-get install tmux)")
    name = f"anklume-test-{secrets.token_hex(4)}"
    server = Tmux(name, config_file="/dev/null")
    yield server
    server.server.cmd("kill-server")
    Path(os.environ.get("TMUX_TMPDIR") or "/tmp", f"tmux-{os.getuid()}", name).unlink(missing_ok=True)


@pytest.fixture
def declared(tmp_path: Path) -> Layout:
    (tmp_path / "infra.yml").write_text(INFRA, encoding="utf-8")
    return layout_from(resolve(tmp_path, check_roles=False))


def cat(machine: MachinePane) -> list[str]:
    del machine
    return ["cat"]


def running(*names: str) -> set[tuple[str, str]]:
    return {(name.split("-")[0], name) for name in names}


def windows(tmux: Tmux) -> dict[str, list[str]]:
    """Map each window (domain) to the machines of its panes ('' for a placeholder)."""
    shown: dict[str, list[str]] = {}
    for pane in tmux.panes("anklume"):
        shown.setdefault(pane.domain, []).append(pane.machine)
    return shown


def show(tmux: Tmux, pane_id: str, fmt: str) -> str:
    return tmux.run("display-message", "-p", "-t", pane_id, fmt)[0]


def test_windows_are_domains_and_panes_are_running_machines(tmux: Tmux, declared: Layout) -> None:
    layout = running_only(declared, running("admin-ctl", "pro-dev", "perso-desk", "dmz-box"))
    report = sync(tmux, layout, command=cat)
    assert report.created
    listed = tmux.run("list-windows", "-t", "=anklume:", "-F", "#{window_name}")
    assert listed == ["admin", "pro", "perso", "dmz", "lab"]
    assert windows(tmux) == {
        "admin": ["admin-ctl"],
        "pro": ["pro-dev"],
        "perso": ["perso-desk"],
        "dmz": ["dmz-box"],
        "lab": [""],
    }


def test_panes_carry_trust_colours_and_labels_set_by_the_server(tmux: Tmux, declared: Layout) -> None:
    layout = running_only(declared, running("admin-ctl", "pro-dev", "pro-web", "perso-desk", "dmz-box", "lab-tmp"))
    sync(tmux, layout, command=cat)
    trust = {d.name: d.trust_level for d in layout.domains}
    panes = tmux.panes("anklume")
    assert len(panes) == 6
    for pane in panes:
        colours = colours_for(trust[pane.domain])
        bg, style, border, label, drawn = show(
            tmux,
            pane.pane_id,
            "#{pane_bg}|#{window-style}|#{pane-border-style}|#{@anklume_label}|#{E:pane-border-format}",
        ).split("|")
        assert bg == colours.background
        assert style == f"bg={colours.background}"
        assert border == f"fg={colours.border}"
        assert label == f"{pane.domain}/{pane.machine}"
        assert f"bg={colours.border}" in drawn
        assert f" {pane.domain}/{pane.machine} " in drawn
        assert show(tmux, pane.pane_id, "#{pane-border-status}") == "top"


def test_second_run_adds_new_machines_without_duplicating_the_session(tmux: Tmux, declared: Layout) -> None:
    sync(tmux, running_only(declared, running("pro-dev")), command=cat)
    before = {p.machine: p.pane_id for p in tmux.panes("anklume")}
    report = sync(tmux, running_only(declared, running("pro-dev", "pro-web", "lab-tmp")), command=cat)
    assert not report.created
    assert report.windows_added == []
    assert report.panes_added == ["pro/pro-web", "lab/lab-tmp"]
    assert tmux.run("list-sessions", "-F", "#{session_name}") == ["anklume"]
    after = windows(tmux)
    assert after["pro"] == ["pro-dev", "pro-web"]
    assert after["lab"] == ["lab-tmp"]  # the placeholder made way for the machine
    assert {p.machine: p.pane_id for p in tmux.panes("anklume")}["pro-dev"] == before["pro-dev"]
    third = sync(tmux, running_only(declared, running("pro-dev", "pro-web", "lab-tmp")), command=cat)
    assert third.panes_added == []
    assert len(tmux.panes("anklume")) == 6


def wait_for(check: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail("condition not met in time")
        time.sleep(0.05)


def test_a_program_inside_a_pane_cannot_repaint_its_label_or_background(tmux: Tmux, declared: Layout) -> None:
    sync(tmux, running_only(declared, running("dmz-box")), command=lambda m: ["sh"])
    pane = next(p for p in tmux.panes("anklume") if p.machine == "dmz-box")
    spoof = r"printf '\033]2;admin/admin-ctl\007\033]11;#0000ff\007'"
    tmux.run("send-keys", "-t", pane.pane_id, "-l", spoof)
    tmux.run("send-keys", "-t", pane.pane_id, "Enter")
    wait_for(lambda: show(tmux, pane.pane_id, "#{pane_title}") == "admin/admin-ctl")
    assert show(tmux, pane.pane_id, "#{@anklume_label}") == "dmz/dmz-box"
    assert show(tmux, pane.pane_id, "#{pane_bg}") == colours_for("untrusted").background
    assert "dmz/dmz-box" in show(tmux, pane.pane_id, "#{E:pane-border-format}")
    assert show(tmux, pane.pane_id, "#{E:status-right}").strip() == "dmz/dmz-box"


@pytest.mark.incus
def test_command_opens_the_session_from_real_incus_state(
    tmux: Tmux, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "infra.yml").write_text(INFRA, encoding="utf-8")
    socket = tmux.socket_name or ""
    assert main(["-C", str(tmp_path), "console", "-L", socket, "--no-attach"]) == 0
    assert f"tmux -L {socket} attach-session -t =anklume" in capsys.readouterr().out
    assert set(windows(tmux)) == {"admin", "pro", "perso", "dmz", "lab"}
    assert main(["-C", str(tmp_path), "console", "-L", socket, "--no-attach"]) == 0
    assert tmux.run("list-sessions", "-F", "#{session_name}") == ["anklume"]
