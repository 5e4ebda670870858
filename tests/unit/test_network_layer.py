"""The second isolation layer: which rules, their file form, and the kernel's routing decisions.

The kernel tests load the rules into a throw-away network namespace
(``unshare --net``) with dummy interfaces named like the bridges, and ask
the kernel for its routing decision (``ip route get ... iif ...``): the host's
own rules are never touched.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import typing as t
from pathlib import Path

import pytest

from anklume.network.layer import ALLOW, DENY, END, PROTOCOL, Rule, from_json, parse, rules, text
from tests.unit.network_infra import resolved

IP = shutil.which("ip") or "/usr/sbin/ip"
UNSHARE = shutil.which("unshare")
needs_netns = pytest.mark.skipif(
    os.geteuid() != 0 or UNSHARE is None or not Path(IP).exists(),
    reason="needs root, unshare and ip to build a throw-away network namespace",
)


def lines(directory: Path, *, firewall_vm: bool = False) -> list[str]:
    return [" ".join(r.args()) for r in rules(resolved(directory, firewall_vm=firewall_vm))]


def test_nat_false_domains_are_closed_both_ways(tmp_path: Path) -> None:
    found = lines(tmp_path)
    assert f"pref {DENY} iif net-tna protocol {PROTOCOL} blackhole" in found
    assert f"pref {DENY} to 10.60.0.0/24 protocol {PROTOCOL} blackhole" in found
    assert f"pref {DENY} to 10.80.0.0/24 protocol {PROTOCOL} blackhole" in found
    # tnb has NAT: it may go out, but not into the other domains
    assert not any(x.startswith(f"pref {DENY} iif net-tnb protocol") for x in found)
    assert f"pref {DENY} to 10.60.0.0/24 iif net-tnb protocol {PROTOCOL} blackhole" in found
    assert f"pref {DENY} to 10.70.0.0/24 protocol {PROTOCOL} blackhole" not in found


def test_policies_open_their_ports_and_replies(tmp_path: Path) -> None:
    found = lines(tmp_path)
    goto = f"protocol {PROTOCOL} goto {END}"
    there = f"pref {ALLOW} from 10.60.0.1/32 to 10.70.0.1/32 iif net-tna ipproto tcp dport 8080 {goto}"
    back = f"pref {ALLOW} from 10.70.0.1/32 to 10.60.0.1/32 iif net-tnb ipproto tcp sport 8080 {goto}"
    assert there in found
    assert back in found
    assert f"pref {ALLOW} from 10.70.0.0/24 to 10.80.0.0/24 iif net-tnb {goto}" in found
    assert f"pref {ALLOW} to 10.80.0.0/24 iif lo {goto}" in found  # the host reaches every domain
    assert not any("8443" in x or "9000" in x for x in found)  # host policies are local delivery


def test_firewall_vm_mode_allows_no_routed_flow(tmp_path: Path) -> None:
    found = lines(tmp_path, firewall_vm=True)
    assert not any("dport" in x or "from" in x for x in found)
    assert f"pref {DENY} iif net-anklume protocol {PROTOCOL} blackhole" in found


class Json(t.NamedTuple):
    test_id: str
    item: dict[str, object]
    rule: Rule | None


JSON = [
    Json("nop", {"priority": END, "src": "all", "nop": None, "protocol": "173"}, Rule(END, (), "nop")),
    Json("foreign_rule", {"priority": 100, "src": "all", "table": "vpn"}, None),
    Json("other_protocol", {"priority": DENY, "src": "all", "action": "blackhole", "protocol": "4"}, None),
    Json(
        "subnet",
        {"priority": DENY, "src": "all", "dst": "10.1.0.0", "dstlen": 24, "action": "blackhole", "protocol": "173"},
        Rule(DENY, (("to", "10.1.0.0/24"),), "blackhole"),
    ),
]


@pytest.mark.parametrize("case", JSON, ids=[c.test_id for c in JSON])
def test_from_json(case: Json) -> None:
    assert from_json(case.item) == case.rule


def test_boot_file_round_trips(tmp_path: Path) -> None:
    found = rules(resolved(tmp_path))
    assert sorted(parse(text(found, "anklume"))) == sorted(found)


def netns(script: str) -> subprocess.CompletedProcess[str]:
    assert UNSHARE is not None
    return subprocess.run([UNSHARE, "--net", "sh", "-ec", script], capture_output=True, text=True, check=False)


SETUP = """
ip link set lo up
for n in tna:60 tnb:70 tnc:80 other:90; do
  ip link add net-${n%%:*} type bridge; ip addr add 10.${n##*:}.0.254/24 dev net-${n%%:*}; ip link set net-${n%%:*} up
done
ip link add up0 type bridge; ip addr add 192.0.2.2/24 dev up0; ip link set up0 up
ip route add default via 192.0.2.1 dev up0 onlink
sysctl -qw net.ipv4.ip_forward=1
ip -batch {file}
"""


class Decision(t.NamedTuple):
    test_id: str
    route_get: str
    routed: bool


DECISIONS = [
    Decision("policy_port", "10.70.0.1 from 10.60.0.1 iif net-tna ipproto tcp dport 8080", True),
    Decision("policy_reply", "10.60.0.1 from 10.70.0.1 iif net-tnb ipproto tcp sport 8080", True),
    Decision("other_port_of_the_pair", "10.70.0.1 from 10.60.0.1 iif net-tna ipproto tcp dport 47001", False),
    Decision("machine_the_policy_does_not_name", "10.70.0.20 from 10.60.0.1 iif net-tna ipproto tcp dport 8080", False),
    Decision("no_policy_between_domains", "10.80.0.1 from 10.60.0.1 iif net-tna ipproto tcp dport 22", False),
    Decision("nat_false_to_outside", "192.0.2.9 from 10.60.0.1 iif net-tna ipproto udp dport 53", False),
    Decision("outside_into_nat_false", "10.60.0.1 from 10.90.0.5 iif net-other ipproto tcp dport 22", False),
    Decision("nat_true_into_nat_false", "10.60.0.1 from 10.70.0.20 iif net-tnb ipproto tcp dport 22", False),
    Decision("all_ports_policy", "10.80.0.1 from 10.70.0.1 iif net-tnb ipproto udp dport 9", True),
    Decision("nat_true_to_outside", "192.0.2.9 from 10.70.0.1 iif net-tnb ipproto tcp dport 443", True),
    Decision("host_to_nat_false_domain", "10.60.0.1", True),
    Decision("not_anklume_traffic", "10.70.0.1 from 10.90.0.5 iif net-other ipproto tcp dport 22", True),
]


@needs_netns
@pytest.mark.parametrize("case", DECISIONS, ids=[c.test_id for c in DECISIONS])
def test_kernel_routing_decisions(tmp_path: Path, case: Decision) -> None:
    boot = tmp_path / "layer.rules"
    boot.write_text(text(rules(resolved(tmp_path)), "anklume"), encoding="utf-8")
    done = netns(SETUP.replace("{file}", str(boot)) + f"ip route get {case.route_get}\n")
    if case.routed:
        assert done.returncode == 0, done.stderr
    else:
        assert done.returncode != 0, done.stdout
        assert "Invalid argument" in done.stderr, done.stderr  # a blackhole route


@needs_netns
def test_loaded_rules_read_back_as_written(tmp_path: Path) -> None:
    found = rules(resolved(tmp_path))
    boot = tmp_path / "layer.rules"
    boot.write_text(text(found, "anklume"), encoding="utf-8")
    done = netns(SETUP.replace("{file}", str(boot)) + f"{IP} -j -4 rule show\n")
    assert done.returncode == 0, done.stderr
    back = {r for r in (from_json(i) for i in json.loads(done.stdout)) if r is not None}
    assert back == set(found)


APPLY = """
import json, sys
from pathlib import Path
from anklume.network import layer_live
from tests.unit.network_infra import resolved
res = resolved(Path(sys.argv[1]))
runs = [layer_live.apply(res, "t") for _ in range(2)]
print(json.dumps([[r.added, r.removed, r.written] for r in runs]))
"""


@needs_netns
def test_apply_converges_keeps_other_infras_rules_and_removes_stale_ones(tmp_path: Path) -> None:
    foreign = f"pref {DENY} iif net-zzz protocol {PROTOCOL} blackhole"  # another infra's rule
    stale = f"pref {ALLOW} from 10.60.0.1/32 to 10.80.0.1/32 iif net-tna protocol {PROTOCOL} goto {END}"
    script = (
        f"ip rule add {foreign}\nip rule add pref {END} protocol {PROTOCOL} nop\nip rule add {stale}\n"
        f"ANKLUME_ETC={tmp_path / 'etc'} {sys.executable} -c '{APPLY}' {tmp_path}\n{IP} -j -4 rule show\n"
    )
    done = netns(script)
    assert done.returncode == 0, done.stderr
    out = done.stdout.strip().splitlines()
    first, second = json.loads(out[0])
    assert first[1] == 1  # the stale rule of this infra
    assert second == [0, 0, False]  # a second apply changes nothing
    back = {r for r in (from_json(i) for i in json.loads(out[1])) if r is not None}
    wanted = set(rules(resolved(tmp_path)))
    assert wanted <= back
    assert back - wanted == {Rule(DENY, (("iif", "net-zzz"),), "blackhole")}
    assert parse((tmp_path / "etc/iprules.d/t.rules").read_text(encoding="utf-8")) == sorted(
        wanted, key=lambda r: (r.pref != END, r.pref, r.selector, r.action)
    )
