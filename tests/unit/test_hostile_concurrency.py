"""One command per infra at a time, and an edit made while sync runs is never lost."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from anklume.apply import freshness, lock, runner, service
from anklume.apply.lock import ENV_INFRA_LOCK, infra_lock
from anklume.cli.main import main
from anklume.engine import pipeline
from anklume.errors import InfraLockedError, LockedError
from tests.unit.conftest import MINIMAL, WriteInfra

HOLD = """
import sys, time
from pathlib import Path
from anklume.apply.lock import infra_lock
with infra_lock(Path(sys.argv[1])):
    print("locked", flush=True)
    time.sleep(120)
"""

TRY = """
import sys
from pathlib import Path
from anklume.apply.lock import infra_lock
with infra_lock(Path(sys.argv[1])):
    print("inside")
"""


@pytest.fixture
def held(write_infra: WriteInfra) -> Iterator[Path]:
    """An infra directory whose lock another process holds."""
    root = write_infra(MINIMAL)
    env = {k: v for k, v in os.environ.items() if k != ENV_INFRA_LOCK}
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(root)], stdout=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "locked"
    try:
        yield root
    finally:
        proc.kill()
        proc.wait()


def test_sync_refuses_while_another_command_holds_the_infra(held: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-C", str(held), "sync"]) == 1
    assert "another anklume command (sync, network deploy or domain apply) is working on" in capsys.readouterr().err
    assert not (held / "group_vars").exists()


def test_network_deploy_refuses_while_another_command_holds_the_infra(
    held: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from anklume.network import deploy

    monkeypatch.setattr(deploy, "deploy", lambda *a, **k: pytest.fail("deployed without the infra lock"))
    assert main(["-C", str(held), "network", "deploy"]) == 1
    assert "is working on" in capsys.readouterr().err


def test_apply_takes_the_apply_then_the_infra_lock_before_the_freshness_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[str] = []

    def recording(name: str) -> Any:
        @contextlib.contextmanager
        def hold(*args: Any, **kwargs: Any) -> Iterator[int]:
            events.append(f"take {name}")
            try:
                yield 0
            finally:
                events.append(f"release {name}")

        return hold

    def fresh(directory: Path) -> None:
        events.append("freshness check")
        raise freshness.StaleFilesError(directory, [Path("group_vars/all.yml")])

    monkeypatch.setattr(lock, "infra_lock", recording("infra lock"))
    monkeypatch.setattr(lock, "apply_lock", recording("apply lock"))
    monkeypatch.setattr(freshness, "ensure_fresh", fresh)
    with pytest.raises(freshness.StaleFilesError):
        service.apply_infra(tmp_path, runner.PlaybookRequest())
    assert events == [
        "take apply lock",
        "take infra lock",
        "freshness check",
        "release infra lock",
        "release apply lock",
    ]


def _try(root: Path, env: dict[str, str], via_shell: bool = False) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-c", TRY, str(root)]
    if via_shell:  # a grandchild, as Ansible runs 'anklume network deploy'
        argv = ["sh", "-c", 'exec "$0" "$@"', *argv]
    return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=30, check=False)


def test_descendants_of_the_holder_share_the_lock_others_are_refused(write_infra: WriteInfra) -> None:
    root = write_infra(MINIMAL)
    with infra_lock(root):
        marker = os.environ[ENV_INFRA_LOCK]
        assert marker.startswith(f"{os.getpid()}:")
        for via_shell in (False, True):
            proc = _try(root, dict(os.environ), via_shell)
            assert proc.returncode == 0, proc.stderr
            assert proc.stdout.strip() == "inside"
        stranger = {k: v for k, v in os.environ.items() if k != ENV_INFRA_LOCK}
        assert "InfraLockedError" in _try(root, stranger).stderr
        sibling = subprocess.Popen(["sleep", "30"])
        try:
            forged = {**stranger, ENV_INFRA_LOCK: f"{sibling.pid}:{marker.split(':', 1)[1]}"}
            assert "InfraLockedError" in _try(root, forged).stderr  # the pid is not an ancestor
        finally:
            sibling.kill()
            sibling.wait()
        with pytest.raises(InfraLockedError), infra_lock(root):  # the holder itself: a second open is refused
            pass
    assert ENV_INFRA_LOCK not in os.environ
    with infra_lock(root):  # released
        pass


def _edit_while_rendering(monkeypatch: pytest.MonkeyPatch, edit: Any) -> None:
    real = pipeline.render

    def render(resolved: Any) -> Any:
        files = real(resolved)
        edit()
        return files

    monkeypatch.setattr(pipeline, "render", render)


def test_an_edit_made_while_sync_runs_is_never_lost(
    write_infra: WriteInfra, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = write_infra(MINIMAL)
    source = root / "infra.yml"

    def append() -> None:
        with source.open("a") as stream:  # an editor appending, not replacing the file
            stream.write("      pro-c: {}\n")

    _edit_while_rendering(monkeypatch, append)
    assert main(["-C", str(root), "sync"]) == 1
    assert "infra.yml changed while anklume read it; nothing was written" in capsys.readouterr().err
    assert not (root / "group_vars").exists()
    monkeypatch.undo()
    assert main(["-C", str(root), "sync"]) == 0
    assert (root / "host_vars" / "pro-c.yml").is_file()


def test_a_domain_file_added_while_sync_runs_is_noticed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "infra" / "domains").mkdir(parents=True)
    (tmp_path / "infra" / "base.yml").write_text("project_name: x\nglobal: {addressing: {}}\n")
    (tmp_path / "infra" / "domains" / "a.yml").write_text("a: {trust_level: trusted}\n")
    added = tmp_path / "infra" / "domains" / "b.yml"
    _edit_while_rendering(monkeypatch, lambda: added.write_text("b: {trust_level: trusted}\n"))
    assert main(["-C", str(tmp_path), "sync"]) == 1
    assert "infra/domains changed while anklume read it" in capsys.readouterr().err
    monkeypatch.undo()
    assert main(["-C", str(tmp_path), "sync"]) == 0
    assert (tmp_path / "group_vars" / "b.yml").is_file()


def test_a_second_apply_is_still_told_an_apply_is_running(
    write_infra: WriteInfra, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    root = write_infra(MINIMAL)
    lock_file = tmp_path_factory.mktemp("run") / "apply.lock"
    monkeypatch.setenv("ANKLUME_LOCK_FILE", str(lock_file))
    monkeypatch.setattr(freshness, "ensure_fresh", lambda d: pytest.fail("checked freshness without the locks"))
    with (
        lock.apply_lock(lock_file, ["anklume", "domain", "apply"]),
        infra_lock(root),
        pytest.raises(LockedError, match="another anklume apply is running"),
    ):
        service.apply_infra(root, runner.PlaybookRequest())


PLAY = """
- name: Probe
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Probe | Take the infra lock as network deploy does
      ansible.builtin.command:
        argv: ["{python}", "{script}", "{root}"]
      environment:
        ANKLUME_PROBE: "1"
      changed_when: false
"""


def test_a_command_run_by_ansible_under_the_lock_shares_it(
    write_infra: WriteInfra, tmp_path_factory: pytest.TempPathFactory
) -> None:
    playbook_bin = Path(sys.executable).parent / "ansible-playbook"
    if not playbook_bin.is_file():
        pytest.skip(f"ansible-playbook is not installed next to {sys.executable}")
    root = write_infra(MINIMAL)
    work = tmp_path_factory.mktemp("play")
    (work / "probe.py").write_text(TRY)
    (work / "probe.yml").write_text(PLAY.format(python=sys.executable, script=work / "probe.py", root=root))
    argv = [str(playbook_bin), "-i", "localhost,", "-e", f"ansible_python_interpreter={sys.executable}"]
    argv.append(str(work / "probe.yml"))
    with infra_lock(root):  # as domain apply holds it while its playbook runs 'anklume network deploy'
        shared = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False, env=dict(os.environ))
        env = {k: v for k, v in os.environ.items() if k != ENV_INFRA_LOCK}
        alone = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False, env=env)
    assert shared.returncode == 0, shared.stdout + shared.stderr
    assert "ok=1" in shared.stdout
    assert alone.returncode != 0
    assert "InfraLockedError" in alone.stdout + alone.stderr
