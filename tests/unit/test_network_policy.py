"""The policy oracle and the probe plan of ``network verify`` (pure parts)."""

from __future__ import annotations

import typing as t
from pathlib import Path

import pytest

from anklume.network.errors import ProbeRefused
from anklume.network.policy import allows, flows
from anklume.network.verify.plan import DEFAULT_PORT, allowed_addresses, free_port, guard, plan
from tests.unit.network_infra import INFRA, resolved


class Flowcase(t.NamedTuple):
    test_id: str
    source: tuple[str, str | None]
    target: tuple[str, str | None]
    protocol: str
    port: int
    allowed: bool


FLOWS = [
    Flowcase("named_machine_port", ("tna", "10.60.0.1"), ("tnb", "10.70.0.1"), "tcp", 8080, True),
    Flowcase("named_machine_other_port", ("tna", "10.60.0.1"), ("tnb", "10.70.0.1"), "tcp", 8081, False),
    Flowcase("not_named_target_machine", ("tna", "10.60.0.1"), ("tnb", "10.70.0.20"), "tcp", 8080, False),
    Flowcase("udp_policy_wrong_protocol", ("tnc", "10.80.0.1"), ("tna", "10.60.0.1"), "tcp", 5514, False),
    Flowcase("udp_policy", ("tnc", "10.80.0.1"), ("tna", "10.60.0.1"), "udp", 5514, True),
    Flowcase("all_ports_reverse", ("tnc", "10.80.0.1"), ("tnb", "10.70.0.20"), "udp", 1, True),
    Flowcase("no_policy", ("tnb", "10.70.0.1"), ("tna", "10.60.0.1"), "tcp", 22, False),
    Flowcase("inside_domain", ("tnb", "10.70.0.1"), ("tnb", "10.70.0.20"), "tcp", 1, True),
    Flowcase("host_reaches_domains", ("host", None), ("tna", "10.60.0.1"), "tcp", 1, True),
    Flowcase("dns_to_host", ("tnb", "10.70.0.1"), ("host", None), "udp", 53, True),
    Flowcase("other_service_on_host", ("tnb", "10.70.0.1"), ("host", None), "tcp", 8443, False),
    Flowcase("machine_to_host_policy", ("tna", "10.60.0.1"), ("host", None), "tcp", 8443, True),
    Flowcase("reverse_host_policy", ("tnc", "10.80.0.1"), ("host", None), "tcp", 9000, True),
]


@pytest.mark.parametrize("case", FLOWS, ids=[c.test_id for c in FLOWS])
def test_allows(case: Flowcase, tmp_path: Path) -> None:
    res = resolved(tmp_path)
    assert allows(res, case.source, case.target, case.protocol, case.port) is case.allowed


def test_bidirectional_policies_give_two_flows(tmp_path: Path) -> None:
    found, warnings = flows(resolved(tmp_path))
    assert [(f.source.name, f.target.name) for f in found] == [
        ("tna-1", "tnb-1"),
        ("tnb", "tnc"),
        ("tnc", "tnb"),
        ("tnc", "tna"),
        ("tna-1", "host"),
        ("host", "tnc"),
        ("tnc", "host"),
    ]
    assert warnings == []


class Refused(t.NamedTuple):
    test_id: str
    address: str


REFUSED = [
    Refused("public", "1.1.1.1"),
    Refused("private_lan", "192.168.1.1"),
    Refused("unknown_in_domain_subnet", "10.60.0.99"),
    Refused("loopback", "127.0.0.1"),
    Refused("not_an_address", "10.60.0.1; rm -rf /"),
    Refused("ipv6", "fe80::1"),
]


@pytest.mark.parametrize("case", REFUSED, ids=[c.test_id for c in REFUSED])
def test_guard_refuses_other_addresses(case: Refused, tmp_path: Path) -> None:
    allowed = allowed_addresses(resolved(tmp_path))
    with pytest.raises(ProbeRefused):
        guard(case.address, allowed)


def test_guard_accepts_instances_and_gateways(tmp_path: Path) -> None:
    allowed = allowed_addresses(resolved(tmp_path))
    assert allowed == {
        "10.60.0.1",
        "10.60.0.254",
        "10.70.0.1",
        "10.70.0.20",
        "10.70.0.254",
        "10.80.0.1",
        "10.80.0.254",
    }
    assert guard("10.70.0.20", allowed) == "10.70.0.20"


def test_disabled_domains_are_not_probe_targets(tmp_path: Path) -> None:
    res = resolved(tmp_path, INFRA.replace("  tnc:\n", "  tnc:\n    enabled: false\n"))
    assert "10.80.0.1" not in allowed_addresses(res)


RUNNING = {("tna", "tna-1"), ("tnb", "tnb-1"), ("tnb", "tnb-2"), ("tnc", "tnc-1")}


def test_plan_covers_pairs_policies_and_host(tmp_path: Path) -> None:
    probes, left = plan(resolved(tmp_path), RUNNING)
    assert left == 0
    seen = {(p.source.machine, p.target_label, p.protocol, p.port): p.expected for p in probes}
    port = DEFAULT_PORT
    for a in ("tna-1", "tnb-1", "tnc-1"):
        for b in ("tna-1", "tnb-1", "tnc-1"):
            if a != b:
                assert (a, b, "tcp", port) in seen
                assert (a, b, "udp", port) in seen
        assert seen[(a, "host", "tcp", port)] is False
        assert seen[(a, "host", "tcp", 53)] is True
    assert seen[("tna-1", "tnb-1", "tcp", 8080)] is True
    assert seen[("tna-1", "tnb-2", "tcp", 8080)] is False  # same domain, not named
    assert seen[("tnc-1", "tna-1", "udp", 5514)] is True
    assert seen[("tna-1", "host", "tcp", 8443)] is True
    assert seen[("tnb-1", "tnb-2", "tcp", port)] is True
    assert seen[("tna-1", "tnb-1", "tcp", port)] is False


def test_plan_is_bounded_and_skips_stopped_instances(tmp_path: Path) -> None:
    res = resolved(tmp_path)
    probes, left = plan(res, RUNNING, limit=5)
    assert len(probes) == 5
    assert left > 0
    probes, _ = plan(res, {("tna", "tna-1")})
    assert {p.source.machine for p in probes} == {"tna-1"}
    assert {p.target_label for p in probes} == {"host"}


def test_probe_port_avoids_policy_ports(tmp_path: Path) -> None:
    res = resolved(tmp_path, INFRA.replace("ports: [8080, 22]", f"ports: [8080, {DEFAULT_PORT}]"))
    assert free_port(res) == DEFAULT_PORT + 1


def test_host_access_policies_makes_the_host_need_a_policy(tmp_path: Path) -> None:
    closed = resolved(tmp_path, INFRA.replace("global:\n", "global:\n  host_access: policies\n"))
    assert closed.host_access == "policies"
    assert allows(closed, ("host", None), ("tnc", "10.80.0.1"), "tcp", 9000)
    assert not allows(closed, ("host", None), ("tna", "10.60.0.1"), "tcp", 22)
    assert allows(resolved(tmp_path), ("host", None), ("tna", "10.60.0.1"), "tcp", 22)
