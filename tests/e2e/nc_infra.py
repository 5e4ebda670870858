"""Infras of the host-firewall hardening tests, applied on the real daemon.

Infra ``anklume-e2e-nc``: domains ``nca`` (10.210.0.0/24, admin) and ``ncb``
(10.211.0.0/24, trusted), both ``nat: false``, a policy nca -> ncb on tcp
8080. Infra ``anklume-e2e-nc2``: domain ``ncz`` (10.215.0.0/24). Neither sets
``ANKLUME_NFT_TABLE``: each gets the table derived from its project_name;
both share one temporary ``ANKLUME_ETC``, as two infra directories share
``/etc/anklume`` on one host. ``nco-out`` is a container on ``incusbr0``
(default project, NAT off) that routes the domain subnets through the host.
Every packet goes to a container or bridge these tests created.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from anklume.incus.run import run as incus_run
from anklume.network import layer_live
from anklume.network.layer import END, Rule
from anklume.network.nftsafe import table_for
from anklume.network.verify.scripts import PROBER
from tests.e2e import teardown

ANKLUME = str(Path(sys.executable).parent / "anklume")
NFT = "nft"
OUTSIDE = "nco-out"
DOMAINS = ("nca", "ncb", "ncz")
PROJECT, PROJECT2 = "anklume-e2e-nc", "anklume-e2e-nc2"
TABLE, TABLE2 = table_for(PROJECT), table_for(PROJECT2)
NCA_1, NCB_1, NCZ_1 = "10.210.0.1", "10.211.0.1", "10.215.0.1"
SUBNETS = ("10.210.0.0/24", "10.211.0.0/24", "10.215.0.0/24")
BLOCKED = ("timeout", "error")
"""A probe the first layer (nftables: drop) leaves unanswered, or the second (ip rule: prohibit) refuses."""

POLICY = "  - description: nca to ncb web\n    from: nca\n    to: ncb\n    ports: [8080]\n"
NCB = "  ncb:\n    trust_level: trusted\n    nat: false\n    ephemeral: true\n    machines:\n      ncb-1: {}\n"
INFRA = f"""\
project_name: {PROJECT}
global:
  addressing: {{base_octet: 10, zone_base: 210, zone_step: 1}}
  default_os_image: anklume/debian-12
domains:
  nca:
    trust_level: admin
    nat: false
    ephemeral: true
    machines:
      nca-1: {{}}
{NCB}network_policies:
{POLICY}"""
INFRA2 = f"""\
project_name: {PROJECT2}
global:
  addressing: {{base_octet: 10, zone_base: 215, zone_step: 1}}
  default_os_image: anklume/debian-12
domains:
  ncz:
    trust_level: admin
    nat: false
    ephemeral: true
    machines:
      ncz-1: {{}}
"""


@dataclass
class Infra:
    """One applied infra directory and how to run anklume on it."""

    directory: Path
    etc: Path
    lock: Path

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k != "ANKLUME_NFT_TABLE"}
        env.update(ANKLUME_SKIP_HOST_SUBNET_CHECK="1", ANKLUME_ETC=str(self.etc), ANKLUME_LOCK_FILE=str(self.lock))
        return env

    def anklume(self, *args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
        argv = [ANKLUME, "-C", str(self.directory), *args]
        return subprocess.run(argv, env=self.env(), capture_output=True, text=True, timeout=timeout, check=False)

    def write(self, text: str) -> None:
        (self.directory / "infra.yml").write_text(text, encoding="utf-8")
        done = self.anklume("sync", "--clean-orphans")
        assert done.returncode == 0, done.stdout + done.stderr

    def deploy(self) -> subprocess.CompletedProcess[str]:
        done = self.anklume("network", "deploy")
        assert done.returncode == 0, done.stdout + done.stderr
        return done

    def apply(self) -> subprocess.CompletedProcess[str]:
        done = self.anklume("domain", "apply", "--no-provision")
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        return done


def nft_table(name: str) -> str | None:
    proc = subprocess.run([NFT, "list", "table", "inet", name], capture_output=True, text=True, check=False)
    return proc.stdout if proc.returncode == 0 else None


def probe(project: str, instance: str, ip: str, port: int, proto: str = "tcp") -> str:
    """One probe from an instance: open / refused / timeout (sent for udp)."""
    batch = json.dumps([["t", proto, ip, port]])
    proc = incus_run(["exec", instance, "-T", "--", "python3", "-c", PROBER, batch, "1.5"], project=project)
    return str(json.loads(proc.stdout.strip().splitlines()[-1])["t"])


def listen(project: str, instance: str, port: int, seconds: int = 30) -> subprocess.Popen[bytes]:
    """Start ``nc -lk`` on ``port`` in an instance; wait until it listens."""
    argv = [
        "incus",
        "exec",
        instance,
        "--project",
        project,
        "--",
        "timeout",
        str(seconds),
        "nc",
        "-lk",
        "-p",
        str(port),
    ]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(50):
        if incus_run(["exec", instance, "--", "ss", "-Hltn", f"sport = :{port}"], project=project).stdout.strip():
            return proc
        time.sleep(0.1)
    proc.kill()
    pytest.fail(f"no listener on {instance}:{port}")


def _ours(rule: Rule) -> bool:
    values = {value for _, value in rule.selector}
    return bool(values & {*SUBNETS, *(f"net-{d}" for d in DOMAINS), NCA_1, NCB_1, NCZ_1})


def _ip_rules(verb: str, found: list[Rule]) -> None:
    for rule in found:
        subprocess.run([layer_live.binary(), "-4", "rule", verb, *rule.args()], capture_output=True, check=False)


@contextmanager
def first_layer_only() -> Iterator[None]:
    """Lift the second layer's ip rules of these tests' subnets and bridges, so probes see the nftables
    tables alone (a drop: ``timeout``); put the rules back afterwards."""
    mine = sorted((r for r in layer_live.live() if _ours(r)), key=lambda r: (r.pref != END, r.pref))
    _ip_rules("del", mine)
    try:
        yield
    finally:
        _ip_rules("add", mine)


def cleanup() -> None:
    """Remove exactly what these tests create: instances, projects, bridges, tables, the outside container."""
    teardown.remove(DOMAINS, bridges=[f"net-{d}" for d in DOMAINS], tables=(TABLE, TABLE2))
    if OUTSIDE in teardown.names(["list", "--project", "default"]):
        incus_run(["delete", "--force", OUTSIDE], project="default", check=False)
    _ip_rules("del", [r for r in layer_live.live() if _ours(r)])  # the second layer's rules of these infras


def _outside() -> None:
    """``nco-out`` on incusbr0 (NAT off), routing the test subnets through incusbr0's gateway."""
    incus_run(["init", "anklume/debian-12", OUTSIDE, "--no-profiles", "--storage", "default"], project="default")
    incus_run(["config", "device", "add", OUTSIDE, "eth0", "nic", "network=incusbr0"], project="default")
    incus_run(["start", OUTSIDE], project="default")
    gateway = incus_run(["network", "get", "incusbr0", "ipv4.address"]).stdout.strip().split("/")[0]
    for _ in range(150):
        up = incus_run(["exec", OUTSIDE, "--", "ip", "-4", "-o", "addr", "show", "eth0"], check=False).stdout
        if " inet " in up:
            break
        time.sleep(0.2)
    for subnet in ("10.210.0.0/24", "10.211.0.0/24", "10.215.0.0/24"):
        incus_run(["exec", OUTSIDE, "--", "ip", "route", "replace", subnet, "via", gateway], project="default")


@pytest.fixture(scope="session", name="nc_etc")
def nc_etc_fixture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ``ANKLUME_ETC`` both infras share."""
    return tmp_path_factory.mktemp("nc-etc")


@pytest.fixture(scope="session", name="nc")
def nc_fixture(tmp_path_factory: pytest.TempPathFactory, nc_etc: Path) -> Iterator[Infra]:
    """Infra ``anklume-e2e-nc`` applied (no provisioning) and the outside container running."""
    cleanup()
    root = tmp_path_factory.mktemp("nc")
    infra = Infra(root / "infra", nc_etc, root / "apply.lock")
    infra.directory.mkdir()
    try:
        infra.write(INFRA)
        infra.apply()
        _outside()
        yield infra
    finally:
        cleanup()


@pytest.fixture(scope="session", name="nc2")
def nc2_fixture(tmp_path_factory: pytest.TempPathFactory, nc: Infra, nc_etc: Path) -> Infra:
    """Infra ``anklume-e2e-nc2`` applied next to ``nc`` with no configuration (its own derived table)."""
    root = tmp_path_factory.mktemp("nc2")
    infra = Infra(root / "infra", nc_etc, root / "apply.lock")
    infra.directory.mkdir()
    infra.write(INFRA2)
    infra.apply()
    return infra
