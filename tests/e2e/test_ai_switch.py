"""``anklume ai switch`` on the real daemon and the real host table, proven with packets.

Infra ``anklume-e2e-sv``: ``ai-tools`` (10.151.0.0/24), ``svpro``
(10.151.1.0/24) and ``svper`` (10.152.0.0/24), all ``nat: false`` and
ephemeral, one container each, exclusive AI access held first by
``svpro``. Every packet goes to these containers. No GPU exists on this
host, so ``gpu: true`` instances cannot start here: the stop/start of GPU
workloads runs its real Incus commands on a plain container instead, and
the choice of which instances to stop is proven by the unit tests.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from anklume.ai import live
from anklume.ai.switch import GpuInstance
from anklume.incus.run import query
from anklume.network.nftsafe import table_for
from tests.e2e import teardown
from tests.e2e.nc_infra import BLOCKED, Infra, listen, probe

pytestmark = pytest.mark.incus

PROJECT = "anklume-e2e-sv"
DOMAINS = ("ai-tools", "svpro", "svper")
AI_1, PORT = "10.151.0.1", 8080
INFRA = f"""\
project_name: {PROJECT}
global:
  addressing: {{zone_base: 150, zone_step: 1}}
  default_os_image: anklume/debian-12
  ai_access_policy: exclusive
  ai_access_default: svpro
domains:
  ai-tools:
    trust_level: trusted
    nat: false
    ephemeral: true
    machines:
      svai-1: {{ip: {AI_1}}}
  svpro:
    trust_level: trusted
    nat: false
    ephemeral: true
    machines:
      svpro-1: {{}}
  svper:
    trust_level: semi-trusted
    nat: false
    ephemeral: true
    machines:
      svper-1: {{}}
"""


def cleanup() -> None:
    teardown.remove(DOMAINS, bridges=[f"net-{d}" for d in DOMAINS], tables=[table_for(PROJECT)])


@pytest.fixture(scope="module")
def sv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Infra]:
    """The infra applied once (no provisioning); everything removed at the end, on failure too."""
    owner = {p.get("name"): p for p in query(["project", "list"]) or []}.get("ai-tools")
    if owner is not None and PROJECT not in json.dumps(owner.get("config") or {}):
        pytest.skip("this host has an Incus project 'ai-tools' these tests did not create: left alone")
    cleanup()
    root = tmp_path_factory.mktemp("sv")
    infra = Infra(root / "infra", root / "etc", root / "apply.lock")
    infra.directory.mkdir()
    infra.etc.mkdir()
    try:
        infra.write(INFRA)
        infra.apply()
        yield infra
    finally:
        cleanup()


def _reach(source_project: str, source: str) -> str:
    return probe(source_project, source, AI_1, PORT)


def test_switch_moves_the_access_with_real_packets(sv: Infra) -> None:
    server = listen("ai-tools", "svai-1", PORT, seconds=60)
    try:
        assert _reach("svpro", "svpro-1") == "open"
        assert _reach("svper", "svper-1") in BLOCKED
        done = sv.anklume("ai", "switch", "svper")
        assert done.returncode == 0, done.stdout + done.stderr
        assert "AI access: svpro -> svper" in done.stdout
        assert _reach("svper", "svper-1") == "open"
        assert _reach("svpro", "svpro-1") in BLOCKED
    finally:
        server.kill()
        server.wait()
    status = sv.anklume("ai", "status")
    assert status.returncode == 0, status.stdout + status.stderr
    assert "svper" in status.stdout.split("holder", 1)[1].splitlines()[0]
    assert sv.anklume("network", "status").returncode == 0  # the live table is the intended one
    assert sv.anklume("sync", "--check").returncode == 0  # the generated files follow the record
    again = sv.anklume("ai", "switch", "svper")
    assert again.returncode == 0 and "already holds" in again.stdout


def test_status_exits_3_when_the_table_does_not_enforce_the_holder(sv: Infra) -> None:
    record = sv.directory / ".anklume" / "ai-access.json"
    saved = record.read_bytes() if record.exists() else None
    record.parent.mkdir(mode=0o700, exist_ok=True)
    record.write_text(json.dumps({"holder": "svpro" if b"svper" in (saved or b"") else "svper"}))
    try:
        assert sv.anklume("ai", "status").returncode == 3
    finally:
        if saved is None:
            record.unlink()
        else:
            record.write_bytes(saved)
    assert sv.anklume("ai", "status").returncode == 0


def test_the_workload_steps_stop_and_start_a_real_instance(sv: Infra) -> None:
    steps = live.steps()
    inst = GpuInstance("svai-1", "ai-tools", "ai-tools")
    assert steps.running(inst)
    steps.stop(inst)
    assert not steps.running(inst)
    steps.start(inst)
    assert steps.running(inst)


def test_unknown_domain_changes_nothing(sv: Infra, tmp_path: Path) -> None:
    before = (sv.directory / "group_vars" / "all.yml").read_bytes()
    done = sv.anklume("ai", "switch", "nope")
    assert done.returncode == 2
    assert "'nope' is not a domain of infra.yml" in done.stderr
    assert (sv.directory / "group_vars" / "all.yml").read_bytes() == before
