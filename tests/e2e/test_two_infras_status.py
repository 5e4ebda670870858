"""Two infra directories on one host: ``domain status`` and ``domain check`` of one leave the other's instances alone.

Infra ``anklume-e2e-ct1`` declares domain ``cta`` (10.240.31.0/24) and
infra ``anklume-e2e-ct2`` domain ``ctb`` (10.242.32.0/24); each has one
container, both named ``ct-web`` (instance names are per project). Both are
applied without provisioning, each with its own firewall table, then each
one's ``status`` must report its own instance only, in its own project, and
``check`` must find nothing to do. At the end exactly what the test created
is removed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from anklume.incus.run import query as incus_query
from tests.e2e import teardown

pytestmark = [pytest.mark.incus, pytest.mark.slow]

ANKLUME = str(Path(sys.executable).parent / "anklume")
INFRA = """\
project_name: anklume-e2e-{tag}
global:
  addressing: {{base_octet: 10, zone_base: {zone}, zone_step: 1}}
  default_os_image: anklume/debian-12
domains:
  {domain}:
    trust_level: admin
    subnet_id: {subnet}
    nat: false
    ephemeral: true
    machines:
      ct-web:
        ip: 10.{zone}.{subnet}.10
"""
SIDES = {"ct1": ("cta", 240, 31), "ct2": ("ctb", 242, 32)}
STATUS_WAIT_S = 90


@dataclass(frozen=True)
class Side:
    """One infra directory of the pair."""

    tag: str
    domain: str
    ip: str
    directory: Path
    root: Path

    def anklume(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        """Run ``anklume -C DIR ARGS`` with this side's lock file and firewall table."""
        env = dict(os.environ)
        env.update(
            ANKLUME_SKIP_HOST_SUBNET_CHECK="1",
            ANKLUME_LOCK_FILE=str(self.root / "apply.lock"),
            ANKLUME_NFT_TABLE=f"anklume_e2e_{self.tag}",
            ANKLUME_ETC=str(self.root / "etc"),
        )
        argv = [ANKLUME, "-C", str(self.directory), *args]
        return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout, check=False)


def cleanup() -> None:
    """Delete the two test domains' instances, projects, bridges and firewall tables (and only those)."""
    domains = [domain for domain, _, _ in SIDES.values()]
    teardown.remove(domains, bridges=[f"net-{d}" for d in domains], tables=[f"anklume_e2e_{t}" for t in SIDES])


@pytest.fixture(scope="module")
def two_infras(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Side]]:
    """Both infras synced and applied (``--no-provision``)."""
    cleanup()
    root = tmp_path_factory.mktemp("two-infras")
    sides = {}
    for tag, (domain, zone, subnet) in SIDES.items():
        side = Side(tag, domain, f"10.{zone}.{subnet}.10", root / tag / "infra", root / tag)
        side.directory.mkdir(parents=True)
        (side.root / "etc").mkdir()
        text = INFRA.format(tag=tag, domain=domain, zone=zone, subnet=subnet)
        (side.directory / "infra.yml").write_text(text, encoding="utf-8")
        sides[tag] = side
    try:
        for side in sides.values():
            for args in (("sync",), ("domain", "apply", "--no-provision")):
                done = side.anklume(*args)
                assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
        yield sides
    finally:
        cleanup()


def _settled_status(side: Side) -> subprocess.CompletedProcess[str]:
    """``domain status`` once the instance has its address (DHCP may lag the apply)."""
    deadline = time.monotonic() + STATUS_WAIT_S
    while True:
        done = side.anklume("domain", "status", timeout=120)
        if done.returncode != 3 or side.ip in done.stdout or time.monotonic() > deadline:
            return done
        time.sleep(2)


@pytest.mark.parametrize("tag", sorted(SIDES))
def test_status_of_one_infra_ignores_the_other(two_infras: dict[str, Side], tag: str) -> None:
    side = two_infras[tag]
    other = next(s for t, s in two_infras.items() if t != tag)
    done = _settled_status(side)
    assert "orphan" not in done.stdout, done.stdout
    assert other.domain not in done.stdout, done.stdout  # neither its project nor its domain
    assert side.ip in done.stdout, done.stdout
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("tag", sorted(SIDES))
def test_check_of_one_infra_finds_nothing_to_do(two_infras: dict[str, Side], tag: str) -> None:
    done = two_infras[tag].anklume("domain", "check")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    webs = {str(i.get("project")) for i in incus_query(["list", "--all-projects"]) if i.get("name") == "ct-web"}
    assert webs >= {"cta", "ctb"}  # the other infra's instance of the same name was there
