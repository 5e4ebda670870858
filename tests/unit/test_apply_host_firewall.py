"""The host firewall runs inside Ansible (action anklume_host_firewall); the live state is read in one call."""

from __future__ import annotations

import importlib.util
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest
from ansible.errors import AnsibleLookupError
from ansible.plugins.action import ActionBase

from anklume.apply.live import READS, read_all
from anklume.network.deploy_host import HostDeployed
from anklume.network.errors import NftFailed

REPO = Path(__file__).resolve().parents[2]


def _load(kind: str, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"t_{name}", REPO / kind / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def action(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    module = _load("action_plugins", "anklume_host_firewall")
    monkeypatch.setattr(ActionBase, "run", lambda self, tmp=None, task_vars=None: {})
    monkeypatch.setattr(module, "resolve", lambda directory, check_roles: f"resolved {directory.name}")

    @contextmanager
    def no_lock(directory: Path) -> Iterator[None]:
        yield

    monkeypatch.setattr(module, "infra_lock", no_lock)
    return module


def _run(module: ModuleType, **args: Any) -> dict[str, Any]:
    plugin = object.__new__(module.ActionModule)
    plugin._task = SimpleNamespace(args=args)
    result: dict[str, Any] = plugin.run(task_vars={})
    return result


def test_deploy_reports_like_the_command_and_sees_the_table_and_etc(
    action: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "infra.yml").write_text("project_name: lab\n")
    monkeypatch.setenv("ANKLUME_NFT_TABLE", "before")
    monkeypatch.delenv("ANKLUME_ETC", raising=False)
    seen: dict[str, Any] = {}

    def deploy_host(resolved: str) -> HostDeployed:
        seen.update(resolved=resolved, table=os.environ["ANKLUME_NFT_TABLE"], etc=os.environ["ANKLUME_ETC"])
        return HostDeployed(True, ["bridge net-x of removed domain x stays fenced until pruned"], ["table loaded"])

    monkeypatch.setattr(action, "deploy_host", deploy_host)
    result = _run(action, infra_dir=str(tmp_path), table="anklume_t", etc_dir=str(tmp_path / "etc"))
    assert seen == {"resolved": f"resolved {tmp_path.name}", "table": "anklume_t", "etc": str(tmp_path / "etc")}
    assert result["changed"] is True
    assert result["stdout_lines"] == ["table loaded", "changed=true"]
    assert result["stderr_lines"] == ["bridge net-x of removed domain x stays fenced until pruned"]
    assert "failed" not in result
    assert os.environ["ANKLUME_NFT_TABLE"] == "before"  # restored
    assert "ANKLUME_ETC" not in os.environ


def test_a_failed_deploy_fails_the_task_with_the_command_and_error(
    action: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "infra.yml").write_text("project_name: lab\n")

    def deploy_host(resolved: str) -> HostDeployed:
        raise NftFailed(["nft", "-c", "-f", "-"], 1, "Error: syntax error")

    monkeypatch.setattr(action, "deploy_host", deploy_host)
    result = _run(action, infra_dir=str(tmp_path), table="", etc_dir="/etc/anklume")
    assert result["failed"] is True
    assert str(tmp_path) in result["msg"]
    assert "syntax error" in result["msg"]


def test_a_directory_without_infra_yml_fails_before_any_deploy(action: ModuleType, tmp_path: Path) -> None:
    result = _run(action, infra_dir=str(tmp_path / "nowhere"))
    assert result["failed"] is True
    assert "no infra.yml" in result["msg"]


def test_every_kind_is_read_and_the_reads_run_side_by_side() -> None:
    together = threading.Barrier(len(READS), timeout=10)  # breaks (and fails the test) unless all five overlap

    def read(argv: list[str]) -> list[str]:
        together.wait()
        return argv

    live = read_all(read)
    assert sorted(live) == ["images", "instances", "networks", "profiles", "projects"]
    assert live["instances"] == ["query", "/1.0/instances?recursion=1&all-projects=true"]
    assert live["profiles"] == ["profile", "list", "--all-projects", "--format", "json"]


def test_the_reads_match_the_roles_own_read_tasks() -> None:
    for kind, argv in READS.items():
        task = (REPO / "roles" / f"incus_{kind}" / "tasks" / "read.yml").read_text(encoding="utf-8")
        terms = ", ".join(f"'{a}'" for a in argv)
        assert f"lookup('anklume_incus_json', {terms})" in task, kind


def test_the_live_lookup_fails_with_the_command_when_a_read_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    lookup = _load("lookup_plugins", "anklume_incus_live")

    def fake(argv: list[str], timeout: float) -> Any:
        return SimpleNamespace(stdout="not json" if argv[0] == "image" else "[]")

    monkeypatch.setattr(lookup, "incus_run", fake)
    with pytest.raises(AnsibleLookupError, match="incus image list --project default --format json printed no JSON"):
        lookup.LookupModule().run([])
    monkeypatch.setattr(lookup, "incus_run", lambda argv, timeout: SimpleNamespace(stdout="[]"))
    assert lookup.LookupModule().run([]) == [{kind: [] for kind in READS}]
    with pytest.raises(AnsibleLookupError, match="takes no terms"):
        lookup.LookupModule().run(["project"])
