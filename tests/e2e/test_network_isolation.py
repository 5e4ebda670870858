"""Network isolation on the real daemon: real packets between real containers.

Every probe targets an instance or a bridge these tests created (NAT off).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from anklume.incus.run import query as incus_query
from anklume.incus.run import run as incus_run
from anklume.network import hook, router
from anklume.network.verify.hostlisten import HostListeners
from anklume.network.verify.scripts import PROBER
from tests.e2e.network_fixture import INFRA, TABLE, NetInfra, net_infra_fixture  # noqa: F401 -- the fixture, by import

pytestmark = pytest.mark.incus

NFT = shutil.which("nft") or "/usr/sbin/nft"
REPO = Path(__file__).resolve().parents[2]


def live_table() -> str | None:
    proc = subprocess.run([NFT, "list", "table", "inet", TABLE], capture_output=True, text=True, check=False)
    return proc.stdout if proc.returncode == 0 else None


def probe(project: str, instance: str, proto: str, ip: str, port: int) -> str:
    """Send one probe from an instance; return open/refused/timeout/sent."""
    batch = json.dumps([["t", proto, ip, port]])
    proc = incus_run(["exec", instance, "-T", "--", "python3", "-c", PROBER, batch, "1.5"], project=project)
    return str(json.loads(proc.stdout.strip().splitlines()[-1])["t"])


def tcp_reachable(src: tuple[str, str], dst: tuple[str, str], ip: str, port: int) -> bool:
    """Start ``nc -l`` in ``dst``, connect from ``src``; True when the connection was accepted."""
    listener = subprocess.Popen(
        ["incus", "exec", dst[1], "--project", dst[0], "--", "timeout", "5", "nc", "-l", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(20):  # poll until the listener is up
            ss = incus_run(["exec", dst[1], "--", "ss", "-Hltn", f"sport = :{port}"], project=dst[0])
            if ss.stdout.strip():
                break
            time.sleep(0.1)
        return probe(src[0], src[1], "tcp", ip, port) == "open"
    finally:
        listener.kill()
        listener.wait()


def test_verify_reports_zero_leaks_and_zero_blocked(net_infra: NetInfra) -> None:
    done = net_infra.anklume("network", "verify", "--all")
    assert done.returncode == 0, done.stdout + done.stderr
    assert " 0 leaks, 0 blocked allowed flows, 0 skipped" in done.stdout
    rows = [" ".join(line.split()) for line in done.stdout.splitlines()]
    # the machine the policy does not name stays unreachable, on the policy's port
    assert any(r.startswith("tna-1 (tna) │ tnb-2 │ tcp/8080 │ block │ blocked │ ok") for r in rows)
    assert any(r.startswith("tna-1 (tna) │ tnb-1 │ tcp/8080 │ allow │ reached │ ok") for r in rows)
    assert any(r.startswith("tnc-1 (tnc) │ tna-1 │ udp/5514 │ allow │ reached │ ok") for r in rows)
    assert any(r.startswith("tnc-1 (tnc) │ tnb-1 │ udp/47001 │ allow │ reached │ ok") for r in rows)
    # a listener on the host is unreachable without a policy, reachable with one
    assert any(r.startswith("tnb-1 (tnb) │ host │ tcp/47001 │ block │ blocked │ ok") for r in rows)
    assert any(r.startswith("tna-1 (tna) │ host │ tcp/8443 │ allow │ reached │ ok") for r in rows)


def test_verify_fails_on_leaks_when_the_table_is_missing(net_infra: NetInfra) -> None:
    subprocess.run([NFT, "delete", "table", "inet", TABLE], check=True)
    try:
        done = net_infra.anklume("network", "verify")
        assert done.returncode == 1, done.stdout + done.stderr
        assert "LEAK" in done.stdout
        status = net_infra.anklume("network", "status")
        assert status.returncode == 3
        assert "missing" in status.stdout
    finally:
        net_infra.deploy()


def test_removing_a_policy_and_redeploying_closes_the_flow(net_infra: NetInfra) -> None:
    tna, tnb = ("tna", "tna-1"), ("tnb", "tnb-1")
    assert tcp_reachable(tna, tnb, "10.70.0.1", 8080)
    without = INFRA.replace("  - description: machine-level\n    from: tna-1\n    to: tnb-1\n    ports: [8080]\n", "")
    assert without != INFRA
    net_infra.write(without)
    try:
        status = net_infra.anklume("network", "status")
        assert status.returncode == 3, status.stdout
        assert '-\t\tiifname "net-tna" ip saddr 10.60.0.1' in status.stdout
        net_infra.deploy()
        assert not tcp_reachable(tna, tnb, "10.70.0.1", 8080)
    finally:
        net_infra.write(INFRA)
        net_infra.deploy()
    assert tcp_reachable(tna, tnb, "10.70.0.1", 8080)


def test_table_survives_a_flush_of_another_table(net_infra: NetInfra) -> None:
    other = "anklume_tother"
    subprocess.run(
        [NFT, "-f", "-"],
        input=f"table inet {other} {{\n chain c {{\n type filter hook forward priority 20; policy accept;\n }}\n}}\n",
        text=True,
        check=True,
    )
    try:
        before = live_table()
        subprocess.run([NFT, "flush", "table", "inet", other], check=True)
        assert live_table() == before
        assert net_infra.anklume("network", "status").returncode == 0
    finally:
        subprocess.run([NFT, "delete", "table", "inet", other], check=False)


def test_deploy_refuses_to_replace_another_infras_table(net_infra: NetInfra) -> None:
    subprocess.run(
        [NFT, "-f", "-"],
        input=f"table inet {TABLE} {{}}\ndelete table inet {TABLE}\n"
        f'table inet {TABLE} {{\n comment "anklume infra another-lab"\n}}\n',
        text=True,
        check=True,
    )
    try:
        refused = net_infra.anklume("network", "deploy")
        assert refused.returncode == 1, refused.stdout + refused.stderr
        assert "infra 'another-lab'" in refused.stderr
        assert "ANKLUME_NFT_TABLE" in refused.stderr
        assert live_table() == f'table inet {TABLE} {{\n\tcomment "anklume infra another-lab"\n}}\n'
    finally:
        subprocess.run([NFT, "delete", "table", "inet", TABLE], check=True)
        net_infra.deploy()
    assert net_infra.anklume("network", "status").returncode == 0


def test_deploy_and_the_boot_hook_recreate_the_table(net_infra: NetInfra) -> None:
    subprocess.run([NFT, "delete", "table", "inet", TABLE], check=True)
    net_infra.deploy()
    assert net_infra.anklume("network", "status").returncode == 0
    rules = net_infra.etc / "nftables.d" / f"{TABLE}.nft"
    unit = hook.unit_text(TABLE, NFT, rules)
    exec_start = next(line for line in unit.splitlines() if line.startswith("ExecStart="))
    argv = exec_start.removeprefix("ExecStart=").split()
    assert argv == hook.boot_argv(NFT, rules)
    subprocess.run([NFT, "delete", "table", "inet", TABLE], check=True)  # as after a reboot
    assert live_table() is None
    subprocess.run(argv, check=True)  # exactly what the boot unit runs
    status = net_infra.anklume("network", "status")
    assert status.returncode == 0, status.stdout


def test_foreign_drop_table_is_reported_and_left_untouched(net_infra: NetInfra) -> None:
    foreign = "anklume_tforeign"
    # policy drop, but a first rule accepts everything: detectable, harmless to the host
    chain = "type filter hook forward priority 0; policy drop;\n accept"
    text = f"table ip {foreign} {{\n chain FORWARD {{\n {chain}\n }}\n}}\n"
    subprocess.run([NFT, "-f", "-"], input=text, text=True, check=True)
    try:
        before = subprocess.run(
            [NFT, "list", "table", "ip", foreign], capture_output=True, text=True, check=True
        ).stdout
        status = net_infra.anklume("network", "status")
        assert status.returncode == 0, status.stdout + status.stderr
        assert f"table ip {foreign}, chain FORWARD (hook forward" in status.stderr
        assert "cannot override a drop in another table" in status.stderr
        net_infra.deploy()
        after = subprocess.run([NFT, "list", "table", "ip", foreign], capture_output=True, text=True, check=True).stdout
        assert after == before
    finally:
        subprocess.run([NFT, "delete", "table", "ip", foreign], check=False)


@pytest.fixture
def outside_bridge() -> Iterator[tuple[str, str]]:
    """A bridge and a container anklume does not own (default project, NAT off)."""
    bridge, name = "tnx0", "tnx-outside"
    incus_run(["network", "create", bridge, "ipv4.address=10.63.0.1/24", "ipv4.nat=false", "ipv6.address=none"])
    try:
        incus_run(["init", "anklume/debian-12", name, "--no-profiles", "--storage", "default"])
        incus_run(["config", "device", "add", name, "eth0", "nic", f"network={bridge}", "ipv4.address=10.63.0.10"])
        incus_run(["start", name])
        for _ in range(100):
            state = incus_query(["list", name])
            nets = (state[0].get("state") or {}).get("network") or {}
            if any(a.get("address") == "10.63.0.10" for a in nets.get("eth0", {}).get("addresses", [])):
                break
            time.sleep(0.2)
        yield bridge, name
    finally:
        incus_run(["delete", "--force", name], check=False)
        incus_run(["network", "delete", bridge], check=False)


def test_traffic_on_a_bridge_anklume_does_not_own_is_unaffected(
    net_infra: NetInfra, outside_bridge: tuple[str, str]
) -> None:
    assert live_table() is not None
    _, name = outside_bridge
    listeners = HostListeners([("10.63.0.1", "tcp", 47001), ("10.70.0.254", "tcp", 47001)])
    try:
        assert probe("default", name, "tcp", "10.63.0.1", 47001) == "open"
        assert probe("tnb", "tnb-1", "tcp", "10.70.0.254", 47001) == "timeout"  # same port, domain: blocked
    finally:
        listeners.stop()


def test_router_ruleset_loads_in_a_container(net_infra: NetInfra) -> None:
    """firewall_mode vm: VMs cannot run here, so the router ruleset is loaded in a container's kernel namespace."""
    from anklume.engine.pipeline import resolve

    vm_infra = INFRA.replace("global:\n", "global:\n  firewall_mode: vm\n").replace(
        "domains:\n",
        "domains:\n  anklume:\n    trust_level: admin\n    nat: false\n    machines:\n"
        "      anklume-firewall: {type: lxc, roles: [base_system, firewall_router]}\n",
        1,
    )
    directory = net_infra.directory.parent / "vm-mode"
    directory.mkdir(exist_ok=True)
    (directory / "infra.yml").write_text(vm_infra, encoding="utf-8")
    resolved = resolve(directory, check_roles=False)
    assert resolved.domains["anklume"].machines["anklume-firewall"].type == "lxc"
    text = router.render(resolved)
    incus_run(["exec", "tna-1", "-T", "--", "nft", "-f", "-"], project="tna", input=text)
    listed = incus_run(["exec", "tna-1", "--", "nft", "list", "table", "inet", "anklume"], project="tna").stdout
    assert "policy drop;" in listed
    assert 'log prefix "anklume-drop "' in listed
    incus_run(["exec", "tna-1", "--", "nft", "delete", "table", "inet", "anklume"], project="tna")


def test_incus_nftables_role_is_idempotent(net_infra: NetInfra, tmp_path: Path) -> None:
    play = tmp_path / "play.yml"
    play.write_text(
        "- name: Deploy\n  hosts: localhost\n  connection: local\n  gather_facts: false\n"
        "  roles:\n    - role: incus_nftables\n",
        encoding="utf-8",
    )
    env = net_infra.env() | {"ANKLUME_INFRA_DIR": str(net_infra.directory), "ANSIBLE_ROLES_PATH": str(REPO / "roles")}
    argv = [
        str(Path(NFT_PY).parent / "ansible-playbook"),
        "-i",
        "localhost,",
        "-e",
        f"ansible_python_interpreter={NFT_PY}",
        str(play),
    ]
    subprocess.run([NFT, "delete", "table", "inet", TABLE], check=True)
    first = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert first.returncode == 0, first.stdout[-3000:]
    assert "changed=1" in first.stdout
    second = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert second.returncode == 0, second.stdout[-3000:]
    assert "changed=0" in second.stdout
    assert net_infra.anklume("network", "status").returncode == 0


NFT_PY = __import__("sys").executable
