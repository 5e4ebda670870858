"""A small infra for the isolation-layer, DNS and verify tests, applied once per session.

Domains ``nla`` (10.220.0.0/24) and ``nlb`` (10.221.0.0/24, two machines),
both ``nat: false``, one policy ``nla-1 -> nlb-1 tcp/8080``. The table is
``inet anklume_e2e_nl`` with its boot files in a temporary ``$ANKLUME_ETC``,
so neither the host's tables nor other tests' tables are touched. Cleanup
removes the instances, projects, bridges, the table and this infra's
policy-routing rules (read back from its boot file).
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from anklume.network.layer import parse
from tests.e2e import teardown
from tests.e2e.network_fixture import NetInfra

TABLE = "anklume_e2e_nl"
DOMAINS = ("nla", "nlb", "nlc")

INFRA = """\
project_name: anklume-e2e-nl
global:
  addressing: {base_octet: 10, zone_base: 220, zone_step: 1}
  default_os_image: anklume/debian-12
domains:
  nla:
    trust_level: admin
    nat: false
    ephemeral: true
    machines:
      nla-1: {}
  nlb:
    trust_level: trusted
    nat: false
    ephemeral: true
    machines:
      nlb-1: {}
      nlb-2: {}
network_policies:
  - description: web
    from: nla-1
    to: nlb-1
    ports: [8080]
"""

NLC = """\
  nlc:
    trust_level: semi-trusted
    nat: false
    ephemeral: true
    machines:
      nlc-1: {}
"""
"""A third domain (10.222.0.0/24) that the removed-domain test adds, then takes out of infra.yml."""


@dataclass
class NlInfra(NetInfra):
    """The applied infra; every anklume command runs with this infra's own table and etc directory."""

    def env(self) -> dict[str, str]:
        """Environment of every anklume command of these tests."""
        env = super().env()
        env["ANKLUME_NFT_TABLE"] = TABLE
        env["COLUMNS"] = "200"  # one verify row per line
        return env

    def rules_files(self) -> list[Path]:
        """Boot files of this infra's second layer."""
        return sorted((self.etc / "iprules.d").glob("*.rules"))


def drop_rules(etc: Path) -> None:
    """Delete the policy-routing rules listed in this infra's boot files (never anyone else's)."""
    for path in sorted((etc / "iprules.d").glob("*.rules")):
        for rule in parse(path.read_text(encoding="utf-8")):
            if rule.action != "nop":  # the shared jump target; harmless alone
                subprocess.run(["ip", "-4", "rule", "del", *rule.args()], capture_output=True, check=False)


def cleanup(etc: Path | None = None) -> None:
    """Remove the test domains' instances, projects, bridges, table and routing rules."""
    teardown.remove(DOMAINS, bridges=[f"net-{d}" for d in DOMAINS], tables=[TABLE])
    if etc is not None:
        drop_rules(etc)


@pytest.fixture(scope="session", name="nl_infra")
def nl_infra_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NlInfra]:
    """The infra, applied (no provisioning), its table and second layer deployed, once per session."""
    cleanup()
    root = tmp_path_factory.mktemp("nl-infra")
    infra = NlInfra(root / "infra", root / "etc", root / "apply.lock")
    infra.directory.mkdir()
    infra.etc.mkdir()
    try:
        infra.write(INFRA)
        done = infra.anklume("domain", "apply", "--no-provision")
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
        infra.deploy()
        yield infra
    finally:
        cleanup(infra.etc)
