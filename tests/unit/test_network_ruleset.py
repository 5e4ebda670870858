"""The host table renderer: every policy form, ordering, cohabitation, nesting, nft syntax."""

from __future__ import annotations

import os
import shutil
import subprocess
import typing as t
from pathlib import Path

import pytest

from anklume.network.ruleset import render
from tests.unit.network_infra import INFRA, resolved

NFT = shutil.which("nft") or shutil.which("nft", path="/usr/sbin:/sbin")


def forward(text: str) -> list[str]:
    """The rules of the forward chain, in order."""
    body = text.split("chain forward {", 1)[1].split("\t}", 1)[0]
    return [ln.strip() for ln in body.splitlines()[2:] if ln.strip()]


def input_rules(text: str) -> list[str]:
    """The rules of the input chain, in order."""
    body = text.split("chain input {", 1)[1].split("\t}", 1)[0]
    return [ln.strip() for ln in body.splitlines()[2:] if ln.strip()]


class Case(t.NamedTuple):
    test_id: str
    chain: str
    rule: str


CASES = [
    Case(
        "machine_to_machine_is_single_ips",
        "forward",
        'iifname "net-tna" ip saddr 10.60.0.1 oifname "net-tnb" ip daddr 10.70.0.1 tcp dport { 22, 8080 } accept',
    ),
    Case(
        "all_ports_domain_to_domain",
        "forward",
        'iifname "net-tnb" ip saddr 10.70.0.0/24 oifname "net-tnc" ip daddr 10.80.0.0/24 accept',
    ),
    Case(
        "bidirectional_adds_the_reverse",
        "forward",
        'iifname "net-tnc" ip saddr 10.80.0.0/24 oifname "net-tnb" ip daddr 10.70.0.0/24 accept',
    ),
    Case(
        "udp_single_port",
        "forward",
        'iifname "net-tnc" ip saddr 10.80.0.0/24 oifname "net-tna" ip daddr 10.60.0.0/24 udp dport 5514 accept',
    ),
    Case("machine_to_host", "input", 'iifname "net-tna" ip saddr 10.60.0.1 tcp dport 8443 accept'),
    Case("reverse_of_host_policy", "input", 'iifname "net-tnc" ip saddr 10.80.0.0/24 tcp dport 9000 accept'),
    Case("dhcp", "input", "udp dport 67 accept"),
    Case(
        "dns_on_own_gateway_only",
        "input",
        'iifname "net-tna" ip daddr 10.60.0.254 meta l4proto { tcp, udp } th dport 53 accept',
    ),
    Case("icmp_to_gateway", "input", 'iifname "net-tnb" ip daddr 10.70.0.254 meta l4proto icmp accept'),
    Case("nat_false_has_no_way_out", "forward", 'iifname "net-tna" drop'),
]


@pytest.mark.parametrize("case", CASES, ids=[c.test_id for c in CASES])
def test_policy_forms_render_as_rules(case: Case, tmp_path: Path) -> None:
    text = render(resolved(tmp_path)).text
    rules = forward(text) if case.chain == "forward" else input_rules(text)
    assert any(r.startswith(case.rule) for r in rules), "\n".join(rules)


def test_rules_are_ordered_accepts_before_drops(tmp_path: Path) -> None:
    rules = forward(render(resolved(tmp_path)).text)
    first = [r.split(" comment")[0] for r in rules[:4]]
    assert first == [
        "iifname != @bridges oifname != @bridges accept",
        "ct state invalid drop",
        "ct state related accept",
        "meta nfproto ipv6 drop",
    ]
    between = rules.index(next(r for r in rules if r.startswith("iifname @bridges oifname @bridges drop")))
    assert all("accept" in r for r in rules[4:between])
    assert rules[between + 1].startswith("oifname @bridges drop")
    assert all(r.startswith('iifname "net-') and " drop " in r for r in rules[between + 2 :])
    assert input_rules(render(resolved(tmp_path)).text)[-1].startswith("drop ")


def test_nat_true_domain_gets_no_outbound_drop(tmp_path: Path) -> None:
    rules = forward(render(resolved(tmp_path)).text)
    assert not any(r.startswith('iifname "net-tnb" drop') for r in rules)


def test_host_as_source_opens_nothing_in_forward(tmp_path: Path) -> None:
    text = render(resolved(tmp_path)).text
    assert "9000" not in "\n".join(forward(text))


def test_only_anklume_bridges_are_named(tmp_path: Path) -> None:
    text = render(resolved(tmp_path)).text
    assert 'elements = { "net-tna", "net-tnb", "net-tnc" }' in text
    for foreign in ("incusbr0", "docker0", "virbr0", "oifname != @bridges drop"):
        assert foreign not in text


def test_the_file_replaces_only_its_own_table(tmp_path: Path) -> None:
    lines = render(resolved(tmp_path)).text.splitlines()
    commands = [ln for ln in lines if not ln.startswith(("#", "\t", "}")) and ln]
    assert commands == ["table inet anklume {}", "delete table inet anklume", "table inet anklume {"]
    assert not [ln for ln in lines if ln.startswith("#") and ln != ln.strip()]
    assert "flush" not in "\n".join(lines)


def test_nesting_prefixed_bridges(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    etc = tmp_path / "etc"
    etc.mkdir()
    (etc / "absolute_level").write_text("1\n", encoding="utf-8")
    monkeypatch.setenv("ANKLUME_ETC", str(etc))
    text = render(resolved(tmp_path)).text
    assert 'elements = { "001-net-tna", "001-net-tnb", "001-net-tnc" }' in text
    assert 'iifname "001-net-tna" ip saddr 10.60.0.1 oifname "001-net-tnb"' in text
    assert '"net-tna"' not in text


def test_firewall_vm_mode_leaves_routing_to_the_firewall(tmp_path: Path) -> None:
    text = render(resolved(tmp_path, firewall_vm=True)).text
    rules = forward(text)
    assert not any("dport 8080" in r for r in rules)
    assert any(r.startswith("iifname @bridges oifname @bridges drop") for r in rules)
    assert any("dport 8443" in r for r in input_rules(text))


def test_descriptions_cannot_break_out_of_comments(tmp_path: Path) -> None:
    text = INFRA.replace("machine to machine", 'evil" ; flush ruleset ; "')
    out = render(resolved(tmp_path, text)).text
    assert 'comment "evil ; flush ruleset ;"' in out
    assert '"evil"' not in out


def test_custom_table_name_is_validated(tmp_path: Path) -> None:
    res = resolved(tmp_path)
    assert "table inet anklume_t {" in render(res, table="anklume_t").text
    with pytest.raises(ValueError, match="invalid nftables table name"):
        render(res, table="x; flush ruleset")


@pytest.mark.skipif(NFT is None, reason="nft is not installed (apt-get install nftables)")
@pytest.mark.skipif(os.geteuid() != 0, reason="nft -c needs root (CAP_NET_ADMIN)")
@pytest.mark.parametrize("firewall_vm", [False, True], ids=["host_mode", "vm_mode"])
def test_rendered_ruleset_passes_nft_check(tmp_path: Path, firewall_vm: bool) -> None:
    assert NFT is not None
    text = render(resolved(tmp_path, firewall_vm=firewall_vm)).text
    proc = subprocess.run([NFT, "-c", "-f", "-"], input=text, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.skipif(NFT is None, reason="nft is not installed (apt-get install nftables)")
@pytest.mark.skipif(os.geteuid() != 0, reason="nft -c needs root (CAP_NET_ADMIN)")
def test_nft_check_rejects_a_broken_ruleset() -> None:
    assert NFT is not None
    proc = subprocess.run(
        [NFT, "-c", "-f", "-"],
        input="table inet x { chain y { nonsense } }\n",
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode != 0


def test_nothing_enters_a_domain_from_outside_but_replies(tmp_path: Path) -> None:
    rules = [r.split(" comment")[0] for r in forward(render(resolved(tmp_path)).text)]
    drop = rules.index("oifname @bridges drop")
    policies = [i for i, r in enumerate(rules) if "dport" in r or "sport" in r]
    assert policies and max(policies) < drop
    # what may still reach a bridge from outside before that drop: replies only
    before = [r for r in rules[:drop] if "iifname != @bridges" in r and "oifname != @bridges" not in r]
    assert before == ["ct direction reply iifname != @bridges accept"]


def test_established_packets_are_checked_against_the_policies_again(tmp_path: Path) -> None:
    text = render(resolved(tmp_path)).text
    rules = [r.split(" comment")[0] for r in forward(text) + input_rules(text)]
    assert not [r for r in rules if "established" in r]  # no blanket accept of established traffic
    assert [r for r in rules if r.startswith("ct state")] == ["ct state invalid drop", "ct state related accept"] * 2
    assert (
        'ct direction reply iifname "net-tnb" ip saddr 10.70.0.1 oifname "net-tna" ip daddr 10.60.0.1 '
        "tcp sport { 22, 8080 } accept"
    ) in rules
    assert "ct direction reply accept" in input_rules(text)[3]  # replies to the host's own connections


def test_host_access_policies_closes_host_to_domains(tmp_path: Path) -> None:
    open_text = render(resolved(tmp_path)).text
    assert "chain output" not in open_text  # default: the host reaches every domain
    text = render(resolved(tmp_path, INFRA.replace("global:\n", "global:\n  host_access: policies\n"))).text
    body = text.split("chain output {", 1)[1].split("\t}", 1)[0]
    rules = [ln.strip().split(" comment")[0] for ln in body.splitlines()[2:] if ln.strip()]
    assert rules[0] == "oifname != @bridges accept"
    assert 'oifname "net-tnc" ip daddr 10.80.0.0/24 tcp dport 9000 accept' in rules  # the policy from: host
    assert rules[-1] == "drop"
    if NFT is not None and os.geteuid() == 0:
        proc = subprocess.run([NFT, "-c", "-f", "-"], input=text, capture_output=True, text=True, check=False)
        assert proc.returncode == 0, proc.stderr
