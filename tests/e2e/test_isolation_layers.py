"""The second isolation layer and local-only DNS, on the real daemon with real packets.

Probes go only to instances and bridges these tests created (NAT off).
The DNS test watches dnsmasq's upstream traffic with a table of its own:
any query dnsmasq would send to a non-loopback address on port 53 is
redirected to a fake resolver on 127.0.0.153, and a backstop rule drops
whatever would still leave: no query reaches a real resolver.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from anklume.incus.run import run as incus_run
from anklume.network import layer_live
from tests.e2e.nl_infra import TABLE, NlInfra, drop_rules, nl_infra_fixture  # noqa: F401 -- the fixture, by import

pytestmark = pytest.mark.incus

ROW = re.compile(r"^(\S+) \((.+?)\)$")


def rows(stdout: str) -> list[tuple[str, ...]]:
    """(source, source domain, target, service, expected, observed, verdict) of a ``verify --all`` table.

    A cell too long for the terminal wraps onto the next line, whose other cells are empty.
    """
    cells: list[list[str]] = []
    for line in stdout.splitlines():
        parts = [c.strip() for c in line.strip().strip("│").split("│")]
        if len(parts) != 6:
            continue
        if cells and not any(parts[1:]):
            cells[-1][0] += " " + parts[0]
        else:
            cells.append(parts)
    found = []
    for row in cells:
        match = ROW.match(row[0])
        if match:
            found.append((*match.groups(), *row[1:]))
    return found


def test_second_layer_blocks_between_domains_and_from_outside_without_the_table(nl_infra: NlInfra) -> None:
    assert subprocess.run(["nft", "list", "table", "inet", TABLE], capture_output=True, check=False).returncode == 0
    subprocess.run(["nft", "delete", "table", "inet", TABLE], check=True)  # what a flush ruleset does to it
    try:
        done = nl_infra.anklume("network", "verify", "--all")
        found = rows(done.stdout)
        assert found, done.stdout + done.stderr
        leaks = [r for r in found if r[6] == "LEAK"]
        # domain -> host services are local delivery: only the table guards them, and it is gone
        assert leaks, "deleting the table must show in verify"
        assert all(r[2] == "host" for r in leaks), leaks
        assert ("nla-1", "nla", "nlb-1", "tcp/47001", "block", "blocked", "ok") in found
        assert ("nlb-1", "nlb", "nla-1", "udp/47001", "block", "blocked", "ok") in found
        assert ("nla-1", "nla", "nlb-1", "tcp/8080", "allow", "reached", "ok") in found  # the policy still passes
        assert ("nla-1", "nla", "nlb-2", "tcp/8080", "block", "blocked", "ok") in found
        outside = [r for r in found if r[1].startswith("outside")]
        assert {(r[2], r[3]) for r in outside} >= {("nla-1", "tcp/47001"), ("nlb-1", "udp/47001")}, done.stdout
        assert all(r[6] == "ok" for r in outside), outside
        status = nl_infra.anklume("network", "status")
        assert status.returncode == 3
        assert "missing" in status.stdout
        doctor = nl_infra.anklume("doctor")
        assert doctor.returncode == 1, doctor.stdout
        assert f"table inet {TABLE} absent while 2 domain bridge(s) exist" in " ".join(doctor.stdout.split())
    finally:
        nl_infra.deploy()
    assert nl_infra.anklume("network", "status").returncode == 0
    doctor = nl_infra.anklume("doctor")
    assert "every ip rule loaded" in doctor.stdout, doctor.stdout


def test_status_reports_missing_rules_and_the_boot_file_restores_them(nl_infra: NlInfra) -> None:
    files = nl_infra.rules_files()
    assert [f.name for f in files] == [f"{TABLE}.rules"]
    subprocess.run(
        ["ip", "-4", "rule", "del", "pref", "9320", "iif", "net-nla", "protocol", "173", "blackhole"], check=True
    )
    try:
        status = nl_infra.anklume("network", "status")
        assert status.returncode == 3, status.stdout
        assert "second layer (ip rule): 1 rule(s) missing" in status.stdout
        drop_rules(nl_infra.etc)  # as after a reboot: none of this infra's rules
        subprocess.run(layer_live.boot_argv(files[0]), check=True)  # exactly what boot runs
        assert nl_infra.anklume("network", "status").returncode == 0
    finally:
        nl_infra.deploy()


DNS_QUERY = r"""
import json, random, socket, struct, sys
def ask(name, server):
    head = struct.pack(">HHHHHH", random.randrange(65536), 0x0100, 1, 0, 0, 0)
    body = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0" + struct.pack(">HH", 1, 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(3)
    s.sendto(head + body, (server, 53))
    try:
        data = s.recv(1500)
    except OSError:
        return {"rcode": None, "ips": []}
    i, ips = 12 + len(body), []
    for _ in range(struct.unpack(">H", data[6:8])[0]):
        if data[i] & 0xC0 == 0xC0:
            i += 2
        else:
            while data[i]:
                i += data[i] + 1
            i += 1
        kind, _, _, size = struct.unpack(">HHIH", data[i:i + 10]); i += 10
        if kind == 1 and size == 4:
            ips.append(socket.inet_ntoa(data[i:i + 4]))
        i += size
    return {"rcode": data[3] & 15, "ips": ips}
print(json.dumps({n: ask(n, sys.argv[1]) for n in sys.argv[2:]}))
"""

FAKE = ("127.0.0.153", 5353)
WATCH = "anklume_e2e_nl_dns"


def dnsmasq_uid(bridge: str) -> int:
    """The user dnsmasq of ``bridge`` runs as (its upstream queries carry it)."""
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            status = Path(f"/proc/{pid}/status").read_text(encoding="utf-8")
        except OSError:
            continue
        if cmd and cmd[0].endswith(b"dnsmasq") and f"--interface={bridge}".encode() in cmd:
            return int(next(ln for ln in status.splitlines() if ln.startswith("Uid:")).split()[1])
    pytest.fail(f"no dnsmasq serves {bridge}")


@pytest.fixture
def upstream_watch() -> Iterator[tuple[socket.socket, int]]:
    """Redirect dnsmasq's upstream DNS to a fake resolver on loopback (and drop anything else it sends to port 53)."""
    uid = dnsmasq_uid("net-nla")
    fake = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    fake.bind(FAKE)
    fake.settimeout(0.2)
    match = f"meta skuid {uid} meta nfproto ipv4 ip daddr != 127.0.0.0/8 meta l4proto {{ tcp, udp }} th dport 53"
    table = (
        f"table inet {WATCH} {{\n"
        " chain nat_out {\n  type nat hook output priority -100; policy accept;\n"
        f"  {match} dnat ip to {FAKE[0]}:{FAKE[1]}\n }}\n"
        " chain out {\n  type filter hook output priority 0; policy accept;\n"
        f"  {match} drop\n }}\n"
        "}\n"
    )
    subprocess.run(["nft", "-f", "-"], input=table, text=True, check=True)
    try:
        yield fake, uid
    finally:
        subprocess.run(["nft", "delete", "table", "inet", WATCH], check=False)
        fake.close()


def received(fake: socket.socket) -> bytes:
    """Every datagram the fake resolver got so far."""
    got = b""
    while True:
        try:
            got += fake.recv(1500)
        except OSError:
            return got


def nameserver() -> str:
    """The host's first resolver (dnsmasq's upstream); the watch redirects it to loopback."""
    for line in Path("/etc/resolv.conf").read_text(encoding="utf-8").splitlines():
        if line.startswith("nameserver") and not line.split()[1].startswith("127."):
            return line.split()[1]
    pytest.skip("no non-loopback nameserver in /etc/resolv.conf: dnsmasq would forward nowhere")


def test_nat_false_domain_resolves_local_names_only(
    nl_infra: NlInfra, upstream_watch: tuple[socket.socket, int]
) -> None:
    fake, uid = upstream_watch
    # control: a datagram the dnsmasq user sends to the resolver lands in the fake, not on the network
    control = (
        "import os, socket, sys; os.setgid(65534); os.setuid(int(sys.argv[1]));"
        "socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'nl-control', (sys.argv[2], 53))"
    )
    subprocess.run([sys.executable, "-c", control, str(uid), nameserver()], check=True)
    assert b"nl-control" in received(fake), "the upstream watch does not catch dnsmasq's queries"
    token = f"nl-exfil-{secrets.token_hex(4)}"
    names = [f"{token}.example.com", "nla-1.incus"]
    out = incus_run(["exec", "nla-1", "-T", "--", "python3", "-c", DNS_QUERY, "10.220.0.254", *names], project="nla")
    answers = json.loads(out.stdout.strip().splitlines()[-1])
    assert answers["nla-1.incus"]["ips"] == ["10.220.0.1"], answers  # local names still resolve
    assert answers[f"{token}.example.com"]["ips"] == [], answers
    assert token.encode() not in received(fake), "dnsmasq forwarded a query of a nat: false domain upstream"
    bridge = incus_run(["network", "get", "net-nla", "raw.dnsmasq"]).stdout.strip()
    assert bridge == "no-resolv"


ROUTING = Path(__file__).resolve().parents[2] / "roles/firewall_router/tasks/routing.yml"


def routing_file(dest: str) -> str:
    """The content a task of firewall_router's routing.yml copies to ``dest`` (its one variable filled in)."""
    tasks = yaml.safe_load(ROUTING.read_text(encoding="utf-8"))
    task = next(t for t in tasks if (t.get("ansible.builtin.copy") or {}).get("dest") == dest)
    return str(task["ansible.builtin.copy"]["content"]).replace(
        "{{ firewall_router_rules_file }}", "/etc/anklume/router.nft"
    )


def test_firewall_forwarding_turns_on_only_after_the_router_table_loaded(nl_infra: NlInfra) -> None:
    """The boot path of firewall_router, run by systemd in a container (VMs cannot run here)."""

    def sh(script: str, *, check: bool = True) -> str:
        return incus_run(["exec", "nla-1", "--", "sh", "-c", script], project="nla", check=check).stdout.strip()

    sysctl = routing_file("/etc/sysctl.d/60-anklume-router.conf")
    assert "net.ipv4.ip_forward = 0" in sysctl
    unit = routing_file("/etc/systemd/system/anklume-nftables.service")
    incus_run(["exec", "nla-1", "--", "tee", "/etc/systemd/system/anklume-nftables.service"], project="nla", input=unit)
    try:
        sh("mkdir -p /etc/anklume && echo 'table inet anklume { bogus }' > /etc/anklume/router.nft")
        sh("sysctl -qw net.ipv4.ip_forward=0 && systemctl daemon-reload")
        sh("systemctl start anklume-nftables.service", check=False)  # as at boot: the rules do not load
        assert sh("systemctl is-failed anklume-nftables.service", check=False) == "failed"
        assert sh("sysctl -n net.ipv4.ip_forward") == "0"
        good = (
            "table inet anklume {\n chain forward {\n  type filter hook forward priority filter; policy drop;\n }\n}\n"
        )
        incus_run(["exec", "nla-1", "--", "tee", "/etc/anklume/router.nft"], project="nla", input=good)
        sh("systemctl restart anklume-nftables.service")
        assert sh("sysctl -n net.ipv4.ip_forward") == "1"
        assert "policy drop;" in sh("nft list chain inet anklume forward")
    finally:
        sh("systemctl stop anklume-nftables.service; rm -f /etc/systemd/system/anklume-nftables.service", check=False)
        sh("systemctl daemon-reload; nft delete table inet anklume; sysctl -qw net.ipv4.ip_forward=0", check=False)
