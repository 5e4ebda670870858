"""A three-domain infra applied on the real daemon for the network tests.

Domains ``tna`` (10.60.0.0/24), ``tnb`` (10.70.0.0/24, two machines) and
``tnc`` (10.80.0.0/24), all ``nat: false``; a machine-level policy, a
bidirectional all-ports policy, a udp policy and a ``to: host`` policy. The
table is deployed under the name ``anklume_e2e`` (``$ANKLUME_NFT_TABLE``)
with its boot file in a temporary ``$ANKLUME_ETC``, so the host's real
``inet anklume`` table is never replaced by the tests.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e import teardown

ANKLUME = str(Path(sys.executable).parent / "anklume")
TABLE = "anklume_e2e"
DOMAINS = ("tna", "tnb", "tnc")

INFRA = """\
project_name: anklume-nettest
global:
  addressing: {base_octet: 10, zone_base: 60, zone_step: 10}
  default_os_image: anklume/debian-12
domains:
  tna:
    trust_level: admin
    nat: false
    ephemeral: true
    machines:
      tna-1: {}
  tnb:
    trust_level: trusted
    nat: false
    ephemeral: true
    machines:
      tnb-1: {}
      tnb-2: {}
  tnc:
    trust_level: semi-trusted
    nat: false
    ephemeral: true
    machines:
      tnc-1: {}
network_policies:
  - description: machine-level
    from: tna-1
    to: tnb-1
    ports: [8080]
  - description: bidirectional all ports
    from: tnb
    to: tnc
    ports: all
    bidirectional: true
  - description: syslog over udp
    from: tnc
    to: tna
    ports: [5514]
    protocol: udp
  - description: a service on the host
    from: tna
    to: host
    ports: [8443]
"""


@dataclass
class NetInfra:
    """The applied network test infra and helpers to run anklume on it."""

    directory: Path
    etc: Path
    lock: Path

    def env(self) -> dict[str, str]:
        """Environment of every anklume command of these tests."""
        env = dict(os.environ)
        env.update(
            ANKLUME_SKIP_HOST_SUBNET_CHECK="1",
            ANKLUME_NFT_TABLE=TABLE,
            ANKLUME_ETC=str(self.etc),
            ANKLUME_LOCK_FILE=str(self.lock),
        )
        return env

    def anklume(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        """Run ``anklume -C DIR ARGS``."""
        argv = [ANKLUME, "-C", str(self.directory), *args]
        return subprocess.run(argv, env=self.env(), capture_output=True, text=True, timeout=timeout, check=False)

    def write(self, text: str) -> None:
        """Replace infra.yml and sync."""
        (self.directory / "infra.yml").write_text(text, encoding="utf-8")
        done = self.anklume("sync", "--clean-orphans")
        assert done.returncode == 0, done.stdout + done.stderr

    def deploy(self) -> None:
        """``anklume network deploy``, failing the test when it fails."""
        done = self.anklume("network", "deploy")
        assert done.returncode == 0, done.stdout + done.stderr


def cleanup() -> None:
    """Remove the test domains' instances, projects and bridges, and the test table."""
    teardown.remove(DOMAINS, bridges=[f"net-{d}" for d in DOMAINS], tables=[TABLE])


@pytest.fixture(scope="session", name="net_infra")
def net_infra_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NetInfra]:
    """The network test infra, applied (no provisioning) and its table deployed, once per session."""
    cleanup()
    root = tmp_path_factory.mktemp("net-infra")
    infra = NetInfra(root / "infra", root / "etc", root / "apply.lock")
    infra.directory.mkdir()
    infra.etc.mkdir()
    try:
        infra.write(INFRA)
        done = infra.anklume("domain", "apply", "--no-provision")
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
        infra.deploy()
        yield infra
    finally:
        cleanup()
