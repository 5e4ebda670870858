"""One table per infra, the migration from the shared table, fenced bridges, boot units and restore."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from anklume.cli.main import main
from anklume.errors import IncusCommandFailed
from anklume.network import deploy, fence, hook, nft, restore
from anklume.network.errors import NftFailed
from anklume.network.nftsafe import table_for
from anklume.network.ruleset import Fenced, render
from tests.unit.network_infra import INFRA, resolved

OWNED = {"user.anklume.managed": "true", "user.anklume.infra": "nettest"}


def net(name: str, domain: str, **extra: str) -> dict[str, Any]:
    return {"name": name, "type": "bridge", "config": {**OWNED, "user.anklume.domain": domain, **extra}}


@pytest.fixture(name="host")
def host_fixture(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, Any]:
    """A fake host: live tables by name, loaded texts, Incus networks; no systemd."""
    state: dict[str, Any] = {"tables": {}, "loaded": [], "networks": []}
    monkeypatch.delenv("ANKLUME_NFT_TABLE", raising=False)
    monkeypatch.setenv("ANKLUME_ETC", str(tmp_path / "etc"))
    monkeypatch.setattr(nft, "check", lambda text: None)
    monkeypatch.setattr(nft, "binary", lambda: "/usr/sbin/nft")
    monkeypatch.setattr(nft, "list_table", state["tables"].get)
    monkeypatch.setattr(nft, "canonical", lambda text, table: "canonical")
    monkeypatch.setattr(nft, "load", state["loaded"].append)
    monkeypatch.setattr(fence, "live_networks", lambda: state["networks"])
    return state


def test_two_infras_get_two_tables_without_configuration(tmp_path: Path, host: dict[str, Any]) -> None:
    one = resolved(tmp_path)
    (tmp_path / "b").mkdir()
    two = resolved(tmp_path / "b", INFRA.replace("project_name: nettest", "project_name: nettest-2"))
    assert deploy.table(one) == table_for("nettest") != deploy.table(two) == table_for("nettest-2")
    first = deploy.deploy(one, run_dir=tmp_path / "none")
    host["tables"][first.table] = 'table inet x {\n\tcomment "anklume infra nettest"\n}\n'
    second = deploy.deploy(two, run_dir=tmp_path / "none")
    assert second.loaded and first.rules_file != second.rules_file
    assert sorted(p.name for p in deploy.rules_dir().iterdir()) == sorted([f"{first.table}.nft", f"{second.table}.nft"])


def test_the_override_still_names_the_table(tmp_path: Path, host: dict[str, Any], monkeypatch: Any) -> None:
    monkeypatch.setenv("ANKLUME_NFT_TABLE", "anklume_t")
    assert deploy.table(resolved(tmp_path)) == "anklume_t"
    assert deploy.deploy(resolved(tmp_path), run_dir=tmp_path / "none").rules_file.name == "anklume_t.nft"


@pytest.mark.parametrize("comment", ['\tcomment "anklume infra nettest"\n', ""], ids=["owned", "no_owner"])
def test_the_shared_table_is_replaced_in_the_same_transaction(
    tmp_path: Path, host: dict[str, Any], comment: str
) -> None:
    host["tables"]["anklume"] = f"table inet anklume {{\n{comment}}}\n"
    etc = tmp_path / "etc"
    etc.mkdir()
    (etc / "nftables.nft").write_text("old\n", encoding="utf-8")
    done = deploy.deploy(resolved(tmp_path), run_dir=tmp_path / "none")
    assert done.replaced == ["anklume"] and done.loaded
    (text,) = host["loaded"]
    lines = text.splitlines()
    assert lines.index("delete table inet anklume") < lines.index(f"delete table inet {done.table}")
    assert not (etc / "nftables.nft").exists()
    assert "delete table inet anklume\n" not in done.rules_file.read_text(encoding="utf-8")


def test_the_shared_table_of_another_infra_stays(tmp_path: Path, host: dict[str, Any]) -> None:
    host["tables"]["anklume"] = 'table inet anklume {\n\tcomment "anklume infra lab"\n}\n'
    done = deploy.deploy(resolved(tmp_path), run_dir=tmp_path / "none")
    assert done.replaced == []
    assert "delete table inet anklume\n" not in host["loaded"][0]


def test_status_says_missing_and_points_at_the_migration(
    tmp_path: Path, host: dict[str, Any], capsys: pytest.CaptureFixture[str], monkeypatch: Any
) -> None:
    resolved(tmp_path)
    monkeypatch.setattr(nft, "ruleset_json", lambda: [])
    assert main(["-C", str(tmp_path), "network", "status"]) == 3
    assert "missing (run 'anklume network deploy')" in capsys.readouterr().out
    host["tables"]["anklume"] = 'table inet anklume {\n\tcomment "anklume infra nettest"\n}\n'
    assert main(["-C", str(tmp_path), "network", "status"]) == 3
    assert "deploy migrates it" in capsys.readouterr().out


def test_owned_undeclared_bridges_are_fenced(tmp_path: Path, host: dict[str, Any]) -> None:
    host["networks"] = [
        net("net-tna", "tna"),
        net("net-old", "old"),
        net("net-legacy", "legacy", **{"user.anklume.infra": ""}),
        net("net-theirs", "theirs", **{"user.anklume.infra": "lab"}),
        {"name": "incusbr0", "type": "bridge", "config": {}},
    ]
    done = deploy.deploy(resolved(tmp_path), run_dir=tmp_path / "none")
    assert done.fenced == [Fenced("net-legacy", "legacy"), Fenced("net-old", "old")]
    text = host["loaded"][0]
    assert '"net-old"' in text and "net-theirs" not in text and "incusbr0" not in text
    assert 'iifname "net-old" drop comment "removed domain old stays fenced until pruned"' in text
    assert 'iifname "net-old" oifname "net-old" accept' in text
    assert 'iifname "net-old" ip daddr' not in text  # no DNS nor ICMP to the host


def test_incus_unreachable_fences_nothing_and_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def down() -> list[Any]:
        raise IncusCommandFailed(["incus", "network", "list"], 1, "no daemon")

    monkeypatch.setattr(fence, "live_networks", down)
    fenced, warnings = fence.fenced(resolved(tmp_path))
    assert fenced == [] and "not fenced" in warnings[0]


def test_running_instances_of_removed_domains_are_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fence, "live_networks", lambda: [net("net-old", "old")])
    instances = [
        {"name": "w", "project": "old", "status": "Running", "config": {**OWNED, "user.anklume.domain": "old"}},
        {"name": "s", "project": "old", "status": "Stopped", "config": {**OWNED, "user.anklume.domain": "old"}},
        {"name": "t", "project": "tna", "status": "Running", "config": {**OWNED, "user.anklume.domain": "tna"}},
    ]
    monkeypatch.setattr(fence, "query", lambda argv: instances)
    (warning,) = fence.orphan_warnings(resolved(tmp_path))
    assert warning.startswith("instance old/w of a domain no longer in infra.yml is running; its bridge net-old")


def test_each_table_has_its_own_boot_unit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []

    def systemctl(argv: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        calls.append(argv)
        return subprocess.CompletedProcess(argv, 0, "disabled\n" if "is-enabled" in argv else "", "")

    monkeypatch.setattr(subprocess, "run", systemctl)
    monkeypatch.setenv("ANKLUME_SYSTEMD_DIR", str(tmp_path / "units"))
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    legacy = tmp_path / "units" / hook.LEGACY_UNIT
    legacy.parent.mkdir()
    legacy.write_text(hook.unit_text("anklume", "/usr/sbin/nft", tmp_path / "nftables.nft"), encoding="utf-8")
    for table in ("anklume_a", "anklume_b"):
        hook.install(table, "/usr/sbin/nft", tmp_path / f"{table}.nft", run_dir=run_dir)
    units = sorted(p.name for p in (tmp_path / "units").iterdir())
    assert units == ["anklume-nftables-anklume_a.service", "anklume-nftables-anklume_b.service", hook.LEGACY_UNIT]
    assert ["systemctl", "enable", "anklume-nftables-anklume_b.service"] in calls
    assert hook.retire_legacy([tmp_path / "nftables.nft"], run_dir=run_dir)
    assert not legacy.exists()
    assert ["systemctl", "disable", hook.LEGACY_UNIT] in calls


def test_restore_loads_every_file_and_fails_loudly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ANKLUME_ETC", str(tmp_path))
    loaded: list[list[str]] = []

    def run(args: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        loaded.append(args)
        if "bad" in args[-1]:
            raise NftFailed(["nft", *args], 1, "syntax error")
        return subprocess.CompletedProcess(args, 0, "", "")

    monkeypatch.setattr(nft, "run", run)
    assert main(["network", "restore"]) == 1  # nothing to restore: loud
    assert "no rules file" in capsys.readouterr().err
    rules = tmp_path / "nftables.d"
    rules.mkdir()
    for name in ("anklume_a", "anklume_bad", "Not-A-Table"):
        (rules / f"{name}.nft").write_text("x\n", encoding="utf-8")
    assert main(["network", "restore"]) == 1
    err = capsys.readouterr().err
    assert "table inet anklume_bad NOT restored" in err and "Not-A-Table" in err
    assert [a[-1] for a in loaded] == [str(rules / "anklume_a.nft"), str(rules / "anklume_bad.nft")]
    (rules / "anklume_bad.nft").unlink()
    (rules / "Not-A-Table.nft").unlink()
    assert main(["network", "restore"]) == 0
    assert restore.restore(rules)[0].table == "anklume_a"


def test_fenced_bridges_render_closed_even_without_a_gateway(tmp_path: Path) -> None:
    text = render(resolved(tmp_path), table="anklume_x", fenced=[Fenced("net-tna", "tna"), Fenced("net-z", "z")]).text
    assert "removed domain tna" not in text  # a declared bridge is never fenced
    assert 'iifname "net-z" drop comment "removed domain z stays fenced until pruned"' in text
    assert 'elements = { "net-tna", "net-tnb", "net-tnc", "net-z" }' in text
