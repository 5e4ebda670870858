"""firewall_mode vm: the firewall's NICs on the domains' bridges and the domains' router."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import NamedTuple

import pytest
import yaml

from anklume.engine.enrich import enrich
from anklume.engine.enrich_firewall import routers
from anklume.engine.host import HostFacts
from anklume.engine.load import load
from anklume.engine.render import render
from anklume.engine.resolved import Resolved
from anklume.engine.validate import validate
from anklume.errors import InfraError

VM = """\
project_name: fw
global: {addressing: {zone_base: 30}, firewall_mode: vm}
domains:
  anklume:
    trust_level: admin
    machines: {ctl: {}}
  pro:
    trust_level: trusted
    machines: {pro-a: {}}
  laboratory1:
    trust_level: untrusted
    machines: {lab-a: {}}
  off:
    trust_level: disposable
    enabled: false
"""


def run(tmp_path: Path, text: str, host: HostFacts | None = None) -> Resolved:
    (tmp_path / "infra.yml").write_text(textwrap.dedent(text), encoding="utf-8")
    doc = load(tmp_path)
    return enrich(validate(doc), host or HostFacts(), doc.source)


def network_of(res: Resolved, domain: str) -> dict[str, object]:
    """The ``incus_network`` variable of a domain's rendered group_vars."""
    body = yaml.safe_load(render(res)[Path(f"group_vars/{domain}.yml")])
    return dict(body["incus_network"])


def test_the_added_firewall_gets_one_nic_per_other_enabled_domain(tmp_path: Path) -> None:
    res = run(tmp_path, VM)
    fw = res.domains["anklume"].machines["anklume-firewall"]
    assert fw.devices == {
        "fw-pro": {"type": "nic", "network": "net-pro", "name": "fw-pro", "ipv4.address": "10.40.0.253"},
        "fw-laboratory1": {
            "type": "nic",
            "network": "net-laboratory1",
            "name": "fw-laboratory1",
            "ipv4.address": "10.70.0.253",
        },
    }
    assert all(len(dev["name"]) <= 15 for dev in fw.devices.values())
    assert fw.ip == "10.30.0.253"  # its own eth0 stays on the anklume bridge


def test_routed_domains_get_a_router_and_the_anklume_domain_does_not(tmp_path: Path) -> None:
    res = run(tmp_path, VM)
    assert routers(res) == {"pro": "10.40.0.253", "laboratory1": "10.70.0.253"}
    assert network_of(res, "pro") == {
        "name": "net-pro",
        "subnet": "10.40.0.0/24",
        "gateway": "10.40.0.254",
        "router": "10.40.0.253",
    }
    assert "router" not in network_of(res, "anklume")
    assert Path("group_vars/off.yml") not in render(res)


def test_host_mode_adds_no_nic_and_no_router(tmp_path: Path) -> None:
    res = run(tmp_path, VM.replace(", firewall_mode: vm", ""))
    assert "anklume-firewall" not in res.machines()
    assert routers(res) == {}
    assert all("router" not in network_of(res, d) for d in ("anklume", "pro", "laboratory1"))
    assert all(not (m.devices or {}) for m in res.machines().values())


def test_a_declared_lxc_firewall_gets_the_nics_and_its_own_devices_win(tmp_path: Path) -> None:
    declared = VM.replace(
        "machines: {ctl: {}}",
        "machines:\n      anklume-firewall:\n        type: lxc\n"
        "        devices: {fw-pro: {type: nic, network: net-pro, name: fw-pro, ipv4.address: 10.40.0.252}}",
    )
    res = run(tmp_path, declared)
    fw = res.domains["anklume"].machines["anklume-firewall"]
    assert fw.type == "lxc"
    assert fw.ip == "10.30.0.1"
    assert fw.devices is not None
    assert fw.devices["fw-pro"]["ipv4.address"] == "10.40.0.252"
    assert fw.devices["fw-laboratory1"]["ipv4.address"] == "10.70.0.253"
    # the router follows the firewall's NIC: one source of truth
    assert routers(res) == {"pro": "10.40.0.252", "laboratory1": "10.70.0.253"}


def test_nesting_prefix_names_the_bridge_not_the_interface(tmp_path: Path) -> None:
    res = run(tmp_path, VM, HostFacts(absolute_level=1))
    fw = res.domains["anklume"].machines["anklume-firewall"]
    assert fw.devices is not None
    assert fw.devices["fw-pro"]["network"] == "001-net-pro"
    assert fw.devices["fw-pro"]["name"] == "fw-pro"
    assert fw.devices["fw-laboratory1"]["network"] == res.domains["laboratory1"].network_name
    assert len(res.domains["laboratory1"].network_name) <= 15
    assert network_of(res, "pro")["router"] == "10.40.0.253"


def test_a_disabled_firewall_domain_routes_nothing(tmp_path: Path) -> None:
    res = run(tmp_path, VM.replace("    trust_level: admin\n", "    trust_level: admin\n    enabled: false\n"))
    assert routers(res) == {}
    assert "router" not in network_of(res, "pro")
    assert res.domains["anklume"].machines["anklume-firewall"].devices is None


class Taken(NamedTuple):
    test_id: str
    mode: str
    fails: bool


@pytest.mark.parametrize(
    "case",
    [Taken("vm_mode_refuses", "vm", True), Taken("host_mode_allows", "host", False)],
    ids=lambda c: c.test_id,
)
def test_a_machine_on_the_router_address(tmp_path: Path, case: Taken) -> None:
    text = VM.replace("firewall_mode: vm", f"firewall_mode: {case.mode}").replace(
        "machines: {pro-a: {}}", "machines: {pro-a: {ip: 10.40.0.253}}"
    )
    if not case.fails:
        assert run(tmp_path, text).machines()["pro-a"].ip == "10.40.0.253"
        return
    with pytest.raises(InfraError) as err:
        run(tmp_path, text)
    assert "10.40.0.253 is the firewall's address in this domain" in str(err.value)
    assert "domains.pro.machines.pro-a.ip" in str(err.value)
