"""Users' infras that name the service roles sync: the roles exist, a missing artefact is a provisioning matter.

Earlier implementations' example files named roles (ollama_server,
open_webui, stt_server, lobechat, opencode_server, openclaw_server,
code_sandbox, dev_test_runner, dev_agent_runner) that stopped ``anklume
sync`` with "role … not found". The examples ``ai-workstation`` and
``dev-workstation`` name every one of them: they sync with no artefact
configured (an Ollama archive, a Whisper model, a LobeChat build are asked
for by the role when it provisions, never by sync).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from anklume.cli.main import main
from tests.conftest import REPO
from tests.unit.test_service_roles import SERVICE_ROLES

EXAMPLES = ("ai-workstation", "dev-workstation")


@pytest.fixture(autouse=True)
def _host(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANKLUME_ETC", str(tmp_path_factory.mktemp("etc")))
    monkeypatch.setenv("ANKLUME_SKIP_HOST_SUBNET_CHECK", "1")


def synced(name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    root = Path(shutil.copytree(REPO / "examples" / name, tmp_path / name))
    assert main(["-C", str(root), "sync"]) == 0, capsys.readouterr().err
    return root


def roles_of(root: Path) -> dict[str, list[str]]:
    return {
        path.stem: yaml.safe_load(path.read_text(encoding="utf-8")).get("instance_roles") or []
        for path in (root / "host_vars").glob("*.yml")
    }


def test_the_examples_name_every_service_role_and_sync(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    named: set[str] = set()
    for name in EXAMPLES:
        named |= {r for roles in roles_of(synced(name, tmp_path, capsys)).values() for r in roles}
    assert set(SERVICE_ROLES) <= named


def test_every_domain_of_the_ai_workstation_uses_the_package_proxy_and_no_nat(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = synced("ai-workstation", tmp_path, capsys)
    for path in (root / "group_vars").glob("*.yml"):
        if path.name == "all.yml":
            continue
        domain = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert set(domain["anklume_package_proxy"]) == {"apt", "pip", "npm"}, path.name
        assert domain["incus_network"].get("dns") == "local", f"{path.name}: nat false means local DNS only"
    policies = yaml.safe_load((root / "group_vars" / "all.yml").read_text(encoding="utf-8"))["network_policies"]
    assert [p["from"] for p in policies if p["to"] == "ai-tools"] == ["pro"]


def test_a_domain_that_does_not_opt_in_gets_no_proxy(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = synced("dev-workstation", tmp_path, capsys)
    perso = yaml.safe_load((root / "group_vars" / "perso.yml").read_text(encoding="utf-8"))
    assert "anklume_package_proxy" not in perso
    runner = yaml.safe_load((root / "host_vars" / "dev-runner.yml").read_text(encoding="utf-8"))
    assert runner["instance_config"]["security.nesting"] == "true"


def test_a_role_missing_from_the_search_path_is_still_a_sync_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = Path(shutil.copytree(REPO / "examples" / "dev-workstation", tmp_path / "dev"))
    text = (root / "infra.yml").read_text(encoding="utf-8").replace("dev_agent_runner]", "dev_agent_runnr]")
    (root / "infra.yml").write_text(text, encoding="utf-8")
    assert main(["-C", str(root), "sync"]) == 2
    assert "role 'dev_agent_runnr' of machine 'dev-agent' not found" in capsys.readouterr().err
