"""Outside-in default deny, removed domains fenced, revoked policies cut open connections.

Real packets between containers these tests created: ``nco-out`` on
incusbr0 (NAT off) routes to the domain subnets through the host, as a
Docker container, a LAN machine or another infra's domain could.
"""

from __future__ import annotations

import socket
import subprocess
import time

import pytest

from anklume.incus.run import run as incus_run
from anklume.network.verify.hostlisten import HostListeners
from tests.e2e.nc_infra import (  # noqa: F401 -- fixtures, by import
    BLOCKED,
    INFRA,
    NCA_1,
    NCB,
    NCB_1,
    OUTSIDE,
    POLICY,
    TABLE,
    Infra,
    first_layer_only,
    listen,
    nc_etc_fixture,
    nc_fixture,
    nft_table,
    probe,
)

pytestmark = pytest.mark.incus


def test_nothing_enters_a_domain_from_outside(nc: Infra) -> None:
    assert nft_table(TABLE) is not None  # the apply deployed the derived table, no ANKLUME_NFT_TABLE
    server = listen("nca", "nca-1", 8080)
    try:
        # the outside container can send (its own gateway answers) ...
        gateway = incus_run(["network", "get", "incusbr0", "ipv4.address"]).stdout.strip().split("/")[0]
        host = HostListeners([(gateway, "tcp", 47011)])
        try:
            assert probe("default", OUTSIDE, gateway, 47011) == "open"
        finally:
            host.stop()
        # ... but nothing it opens towards a domain passes, nat: false and admin included
        assert probe("default", OUTSIDE, NCA_1, 8080) in BLOCKED
        with first_layer_only():  # the nftables table alone drops it
            assert probe("default", OUTSIDE, NCA_1, 8080) == "timeout"
            assert probe("default", OUTSIDE, NCB_1, 8080) == "timeout"
        # the host itself still reaches the domain (documented: host -> domains is open)
        with socket.create_connection((NCA_1, 8080), timeout=3):
            pass
    finally:
        server.kill()
        server.wait()


CLIENT = r"""
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3)
s.sendall(b"one\n"); print("first", s.recv(64) == b"one\n", flush=True)
sys.stdin.readline()
s.settimeout(4)
try:
    s.sendall(b"two\n"); print("second", s.recv(64) == b"two\n", flush=True)
except OSError as exc:
    print("second", type(exc).__name__, flush=True)
"""
ECHO = r"""
import socket
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("0.0.0.0", 8080)); srv.listen(); srv.settimeout(60)
c, _ = srv.accept(); c.settimeout(60)
while True:
    data = c.recv(64)
    if not data:
        break
    c.sendall(data)
"""


def _established_then(nc: Infra, change: str) -> str:
    """Open nca-1 -> ncb-1:8080 (allowed), apply ``change`` while it is open, report the second exchange."""
    server = subprocess.Popen(["incus", "exec", "ncb-1", "--project", "ncb", "--", "python3", "-c", ECHO])
    client = None
    try:
        for _ in range(50):
            if incus_run(["exec", "ncb-1", "--", "ss", "-Hltn", "sport = :8080"], project="ncb").stdout.strip():
                break
            time.sleep(0.1)
        argv = ["incus", "exec", "nca-1", "--project", "nca", "--", "python3", "-c", CLIENT, NCB_1, "8080"]
        client = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert client.stdout is not None and client.stdin is not None
        assert client.stdout.readline().strip() == "first True"
        if change == "revoke":
            nc.write(INFRA.replace(POLICY, ""))
            assert "loaded" in nc.deploy().stderr
        else:  # reload the same table: the connection must survive it
            subprocess.run(["nft", "delete", "table", "inet", TABLE], check=True)
            nc.deploy()
        with first_layer_only():  # what the nftables table alone does with the open connection
            client.stdin.write("go\n")
            client.stdin.flush()
            return client.stdout.readline().strip()
    finally:
        for proc in (client, server):
            if proc is not None:
                proc.kill()
                proc.wait()
        nc.write(INFRA)
        nc.deploy()


def test_an_allowed_connection_survives_a_reload(nc: Infra) -> None:
    assert _established_then(nc, "reload") == "second True"


def test_revoking_a_policy_cuts_its_open_connections(nc: Infra) -> None:
    assert _established_then(nc, "revoke") == "second TimeoutError"


def test_a_removed_domain_stays_fenced_while_its_instances_run(nc: Infra) -> None:
    gateway_b = "10.211.0.254"
    servers = [listen("nca", "nca-1", 8081), listen("default", OUTSIDE, 8081)]
    host = HostListeners([(gateway_b, "tcp", 47012)])
    try:
        assert probe("ncb", "ncb-1", gateway_b, 47012) == "timeout"  # before: no policy to the host
        nc.write(INFRA.replace(NCB, "").replace("network_policies:\n" + POLICY, ""))
        deployed = nc.deploy()
        assert "bridge net-ncb of removed domain ncb stays fenced until pruned" in deployed.stderr
        assert '"net-ncb"' in (nft_table(TABLE) or "")
        assert nc.anklume("network", "status").returncode == 0
        # ncb-1 still runs: it reaches no other domain, no host port, nothing outside
        outside_ip = incus_run(["list", OUTSIDE, "-c", "4", "--format", "csv"], project="default").stdout.split()[0]
        with first_layer_only():  # the nftables table alone
            assert probe("ncb", "ncb-1", NCA_1, 8081) == "timeout"
            assert probe("ncb", "ncb-1", gateway_b, 47012) == "timeout"
            assert probe("ncb", "ncb-1", outside_ip, 8081) == "timeout"
            assert probe("default", OUTSIDE, NCB_1, 8081) == "timeout"
        # and apply says so
        applied = nc.apply()
        assert "instance ncb/ncb-1 of a domain no longer in infra.yml is running" in applied.stderr
    finally:
        host.stop()
        for server in servers:
            server.kill()
            server.wait()
        nc.write(INFRA)
        nc.deploy()
    assert nc.anklume("network", "status").returncode == 0


def test_host_access_policies_closes_the_host_to_domains(nc: Infra) -> None:
    policy = "  - description: host to nca web\n    from: host\n    to: nca-1\n    ports: [8080]\n"
    closed = INFRA.replace("global:\n", "global:\n  host_access: policies\n") + policy
    servers = [listen("nca", "nca-1", 8080), listen("nca", "nca-1", 8083)]
    try:
        with socket.create_connection((NCA_1, 8083), timeout=3):  # open by default
            pass
        nc.write(closed)
        nc.deploy()
        with socket.create_connection((NCA_1, 8080), timeout=3):  # the policy from: host
            pass
        with pytest.raises(OSError), socket.create_connection((NCA_1, 8083), timeout=3):
            pass
        assert probe("nca", "nca-1", "10.210.0.254", 53) == "open"  # DNS answers still get back
    finally:
        for server in servers:
            server.kill()
            server.wait()
        nc.write(INFRA)
        nc.deploy()
