"""``network verify``: probes from outside every domain and from removed domains (pure parts)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from anklume.network.verify.extra import OUTSIDE
from anklume.network.verify.outside import orphans
from anklume.network.verify.plan import DEFAULT_PORT, Instance, plan
from tests.unit.network_infra import resolved

RUNNING = {("tna", "tna-1"), ("tnb", "tnb-1"), ("tnb", "tnb-2"), ("tnc", "tnc-1")}
PROBE = Instance("anklume-verify-1", f"{OUTSIDE} incusbr0", "anklume-verify-1", "default", "10.250.0.9", "10.250.0.1")
ORPHAN = Instance("old-1", "old, removed", "old-1", "old", "10.90.0.5", "10.90.0.254")


def test_outside_in_probes_every_domain_and_expects_a_block(tmp_path: Path) -> None:
    probes, _ = plan(resolved(tmp_path), RUNNING, outside=PROBE)
    mine = {(p.target_label, p.protocol): p.expected for p in probes if p.source == PROBE}
    assert mine == {(m, proto): False for m in ("tna-1", "tnb-1", "tnc-1") for proto in ("tcp", "udp")}


def test_removed_domain_instances_are_probed_both_ways_and_to_the_host(tmp_path: Path) -> None:
    probes, _ = plan(resolved(tmp_path), RUNNING, orphans=[ORPHAN])
    out = {(p.target_label, p.protocol, p.address) for p in probes if p.source == ORPHAN}
    assert ("host", "tcp", "10.90.0.254") in out
    assert {t for t, _, _ in out} == {"host", "tna-1", "tnb-1", "tnc-1"}
    into = {(p.source.machine, p.protocol) for p in probes if p.target == ORPHAN}
    assert into == {(m, proto) for m in ("tna-1", "tnb-1", "tnc-1") for proto in ("tcp", "udp")}
    assert not any(p.expected for p in probes if ORPHAN in (p.source, p.target))
    assert all(p.port == DEFAULT_PORT for p in probes if ORPHAN in (p.source, p.target))


def net(name: str, address: str, **config: str) -> dict[str, Any]:
    return {"name": name, "type": "bridge", "config": {"ipv4.address": address, **config}}


def inst(name: str, bridge: str, ip: str, status: str = "Running") -> dict[str, Any]:
    return {
        "name": name,
        "project": "old",
        "status": status,
        "expanded_devices": {"eth0": {"type": "nic", "network": bridge}},
        "state": {"network": {"eth0": {"addresses": [{"family": "inet", "address": ip}]}}},
    }


OWNED = {"user.anklume.managed": "true", "user.anklume.infra": "nettest", "user.anklume.domain": "old"}


def test_orphans_are_running_instances_on_owned_undeclared_bridges(tmp_path: Path) -> None:
    networks = [
        net("net-old", "10.90.0.254/24", **OWNED),
        net("net-tna", "10.60.0.254/24", **{**OWNED, "user.anklume.domain": "tna"}),  # declared
        net("net-lab", "10.91.0.254/24", **{**OWNED, "user.anklume.infra": "another"}),  # another infra's
        net("incusbr0", "10.250.0.1/24"),  # not anklume's
    ]
    instances = [
        inst("old-1", "net-old", "10.90.0.5"),
        inst("old-2", "net-old", "10.90.0.6", status="Stopped"),
        inst("tna-1", "net-tna", "10.60.0.1"),
        inst("lab-1", "net-lab", "10.91.0.1"),
        inst("x-1", "incusbr0", "10.250.0.7"),
    ]
    found = orphans(resolved(tmp_path), instances, networks)
    assert found == [Instance("old-1", "old, removed", "old-1", "old", "10.90.0.5", "10.90.0.254")]
