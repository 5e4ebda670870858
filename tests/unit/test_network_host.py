"""Foreign drop chains, the boot hook, the kernel-listing normal form, the router ruleset, the CLI."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from anklume.cli.main import main
from anklume.network import deploy, fence, foreign, hook, nft, router
from anklume.network.nft import normalize
from anklume.network.nftsafe import table_for
from anklume.network.owner import TableOwned, owner
from tests.unit.network_infra import resolved

NFT = shutil.which("nft") or shutil.which("nft", path="/usr/sbin:/sbin")

DOCKER_LIKE: list[dict[str, Any]] = [
    {"table": {"family": "ip", "name": "filter"}},
    {
        "chain": {
            "family": "ip",
            "table": "filter",
            "name": "FORWARD",
            "type": "filter",
            "hook": "forward",
            "prio": 0,
            "policy": "drop",
        }
    },
    {"chain": {"family": "ip", "table": "filter", "name": "DOCKER-USER"}},
    {
        "chain": {
            "family": "inet",
            "table": "incus",
            "name": "fwd.incusbr0",
            "hook": "forward",
            "prio": 0,
            "policy": "accept",
        }
    },
    {
        "chain": {
            "family": "inet",
            "table": "anklume",
            "name": "forward",
            "hook": "forward",
            "prio": -5,
            "policy": "drop",
        }
    },
    {"chain": {"family": "inet", "table": "fw", "name": "in", "hook": "input", "prio": 10, "policy": "drop"}},
]


def test_foreign_drop_chains_are_found_and_own_table_ignored() -> None:
    found = foreign.find(DOCKER_LIKE, "anklume")
    assert [(c.family, c.table, c.chain, c.hook) for c in found] == [
        ("inet", "fw", "in", "input"),
        ("ip", "filter", "FORWARD", "forward"),
    ]
    text = foreign.explain(found[1], ["net-pro"])
    assert "cannot override" in text
    assert "iptables -I DOCKER-USER -i net-pro" not in text  # the hint names B generically
    assert "net-pro" in text
    assert "DHCP" in foreign.explain(found[0], ["net-pro"])


def test_boot_unit_loads_only_the_rules_file() -> None:
    text = hook.unit_text("anklume_x", "/usr/sbin/nft", Path("/etc/anklume/nftables.d/anklume_x.nft"))
    assert "ExecStart=/usr/sbin/nft -f /etc/anklume/nftables.d/anklume_x.nft" in text
    assert "flush" not in text
    assert "ExecStop" not in text
    assert "Before=network-pre.target incus.socket incus.service incus-startup.service" in text


def test_hook_without_systemd_writes_no_unit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANKLUME_SYSTEMD_DIR", str(tmp_path / "units"))
    done = hook.install("anklume_x", "/usr/sbin/nft", tmp_path / "rules.nft", run_dir=tmp_path / "absent")
    assert done.unit is None
    assert not (tmp_path / "units").exists()
    assert "anklume network restore" in done.note


def test_normalize_sorts_set_elements() -> None:
    a = '\t\telements = { "net-b",\n\t\t\t     "net-a" }\n'
    b = '\t\telements = { "net-a",\n\t\t\t     "net-b" }\n'
    assert normalize(a) == normalize(b) == '\t\telements = { "net-a", "net-b" }\n'


def test_router_enforces_policies_by_address_and_logs_drops(tmp_path: Path) -> None:
    text = router.render(resolved(tmp_path, firewall_vm=True))
    assert "policy drop;" in text
    assert "ip saddr 10.60.1.1 ip daddr 10.70.0.1 tcp dport { 22, 8080 } accept" in text  # tna after anklume
    assert "ip saddr 10.80.0.0/24 ip daddr 10.70.0.0/24 accept" in text
    assert 'log prefix "anklume-drop "' in text
    assert "ip saddr 10.70.0.0/24 ip daddr != @domains masquerade" in text  # tnb has nat: true
    assert "ip saddr 10.60.1.0/24 ip daddr != @domains" not in text  # tna has nat: false
    assert "8443" not in text  # to: host is the host table's business


@pytest.mark.skipif(NFT is None or os.geteuid() != 0, reason="nft -c needs nftables and root")
def test_router_ruleset_passes_nft_check(tmp_path: Path) -> None:
    assert NFT is not None
    text = router.render(resolved(tmp_path, firewall_vm=True))
    proc = subprocess.run([NFT, "-c", "-f", "-"], input=text, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr


def test_cli_rules_prints_the_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    resolved(tmp_path)
    monkeypatch.delenv("ANKLUME_NFT_TABLE", raising=False)
    monkeypatch.setattr(fence, "live_networks", lambda: [])
    assert main(["-C", str(tmp_path), "network", "rules"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# anklume host firewall")
    assert f"table inet {table_for('nettest')} {{" in out
    assert main(["-C", str(tmp_path), "network", "rules", "--router"]) == 0
    assert "masquerade" in capsys.readouterr().out


def test_cli_rules_honours_the_table_override(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    resolved(tmp_path)
    monkeypatch.setattr(fence, "live_networks", lambda: [])
    monkeypatch.setenv("ANKLUME_NFT_TABLE", "Bad-Name")
    assert main(["-C", str(tmp_path), "network", "rules"]) == 2
    monkeypatch.setenv("ANKLUME_NFT_TABLE", "anklume_t")
    assert main(["-C", str(tmp_path), "network", "rules"]) == 0
    assert "table inet anklume_t {" in capsys.readouterr().out
    assert json.dumps(DOCKER_LIKE)  # fixture stays JSON-serialisable like nft -j output


def test_deploy_refuses_a_table_holding_another_infra(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    infra = resolved(tmp_path)
    monkeypatch.setattr(fence, "live_networks", lambda: [])
    monkeypatch.setattr(nft, "check", lambda text: None)
    monkeypatch.setattr(nft, "load", lambda text: pytest.fail("must not load over another infra's table"))
    monkeypatch.setattr(nft, "list_table", lambda table: 'table inet anklume {\n\tcomment "anklume infra lab"\n}\n')
    with pytest.raises(TableOwned) as raised:
        deploy.deploy(infra, run_dir=tmp_path / "run")
    assert "infra 'lab', not of 'nettest'" in str(raised.value)
    assert "ANKLUME_NFT_TABLE" in str(raised.value)
    assert owner(deploy.intended(infra).text) == "nettest"


def test_deploy_keeps_its_own_table_whatever_the_project_name(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # the model refuses such a name; the renderer must be safe regardless
    infra = dataclasses.replace(resolved(tmp_path), project_name='my "lab"')
    own = f'table inet {deploy.table(infra)} {{\n\tcomment "anklume infra my lab"\n}}\n'
    monkeypatch.setenv("ANKLUME_ETC", str(tmp_path / "etc"))
    monkeypatch.setattr(fence, "live_networks", lambda: [])
    monkeypatch.setattr(nft, "check", lambda text: None)
    monkeypatch.setattr(nft, "list_table", lambda table: own if table == deploy.table(infra) else None)
    monkeypatch.setattr(nft, "canonical", lambda text, table: own)
    monkeypatch.setattr(nft, "load", lambda text: pytest.fail("an unchanged table is not reloaded"))
    assert deploy.deploy(infra, run_dir=tmp_path / "run").loaded is False
