"""``anklume ai switch`` / ``ai status``: the record, how resolution honours it, the order of a switch.

The side effects (Incus, nft) are the injectable :class:`Steps`; the
end-to-end test ``tests/e2e/test_ai_switch.py`` runs them for real.
"""

from __future__ import annotations

import json
import os
import stat
import typing as t
from pathlib import Path

import pytest
import yaml

from anklume.ai import holder
from anklume.ai.status import status
from anklume.ai.switch import GpuInstance, Steps, switch
from anklume.cli.main import main
from anklume.engine.pipeline import resolve
from anklume.engine.resolved import Resolved
from anklume.errors import UsageError
from tests.unit.conftest import WriteInfra

INFRA = """\
project_name: ai-lab
global:
  addressing: {zone_base: 150, zone_step: 1}
  default_os_image: anklume/debian-12
  ai_access_policy: exclusive
  ai_access_default: pro
  gpu_policy: shared
domains:
  ai-tools:
    trust_level: trusted
    machines:
      llm: {gpu: true}
      webui: {}
  pro:
    trust_level: trusted
    machines:
      pro-gpu: {gpu: true}
  perso:
    machines:
      perso-desk: {}
  old:
    enabled: false
"""


@pytest.fixture(autouse=True)
def _etc(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANKLUME_ETC", str(tmp_path_factory.mktemp("etc")))
    monkeypatch.setenv("ANKLUME_SKIP_HOST_SUBNET_CHECK", "1")


def ai_sources(resolved: Resolved) -> list[str]:
    return [p.source for p in resolved.policies if p.target == "ai-tools"]


def test_without_a_record_the_default_holds_the_access(write_infra: WriteInfra) -> None:
    assert ai_sources(resolve(write_infra(INFRA), check_roles=False)) == ["pro"]


def test_a_record_moves_the_policy_in_sync_and_in_the_generated_files(write_infra: WriteInfra) -> None:
    root = write_infra(INFRA)
    holder.write(root, "perso", "pro")
    assert ai_sources(resolve(root, check_roles=False)) == ["perso"]
    assert main(["-C", str(root), "sync"]) == 0
    policies = yaml.safe_load((root / "group_vars" / "all.yml").read_text())["network_policies"]
    assert [p["from"] for p in policies if p["to"] == "ai-tools"] == ["perso"]


def test_the_record_is_private_and_never_written_through_a_link(write_infra: WriteInfra, tmp_path: Path) -> None:
    root = write_infra(INFRA)
    holder.write(root, "perso", "pro")
    record = root / holder.RECORD
    assert stat.S_IMODE(record.stat().st_mode) == 0o600
    assert stat.S_IMODE(record.parent.stat().st_mode) == 0o700
    assert json.loads(record.read_text())["previous"] == "pro"
    record.unlink()
    outside = tmp_path / "outside.json"
    outside.write_text('{"holder": "perso"}')
    os.symlink(outside, record)
    assert holder.read(root) is None  # a link is refused, with a warning
    assert ai_sources(resolve(root, check_roles=False)) == ["pro"]


class Stale(t.NamedTuple):
    test_id: str
    holder: str
    infra: str
    warns: bool


EXPLICIT = INFRA + "network_policies: [{from: pro, to: ai-tools}]\n"
STALE = [
    Stale("removed-domain", "gone", INFRA, True),
    Stale("disabled-domain", "old", INFRA, True),
    Stale("policy-open", "perso", INFRA.replace("policy: exclusive", "policy: open"), False),
    Stale("explicit-policy", "perso", EXPLICIT, True),
]


@pytest.mark.parametrize("case", STALE, ids=[c.test_id for c in STALE])
def test_a_record_that_no_longer_fits_infra_yml_is_ignored(
    case: Stale, write_infra: WriteInfra, caplog: pytest.LogCaptureFixture
) -> None:
    root = write_infra(case.infra)
    (root / ".anklume").mkdir()
    (root / holder.RECORD).write_text(json.dumps({"holder": case.holder}))
    sources = ai_sources(resolve(root, check_roles=False))
    assert "perso" not in sources and case.holder not in sources
    assert ("ignoring the AI access recorded" in caplog.text) == case.warns


class Refused(t.NamedTuple):
    test_id: str
    target: str
    infra: str
    message: str


REFUSED = [
    Refused("ai-tools-itself", "ai-tools", INFRA, "cannot hold its own access"),
    Refused("unknown", "nope", INFRA, "'nope' is not a domain of infra.yml"),
    Refused("disabled", "old", INFRA, "domain 'old' is disabled"),
    Refused("bad-name", "../etc", INFRA, "invalid domain name"),
    Refused(
        "open-policy", "perso", INFRA.replace("policy: exclusive", "policy: open"), "needs global.ai_access_policy"
    ),
]


@pytest.mark.parametrize("case", REFUSED, ids=[c.test_id for c in REFUSED])
def test_switch_refuses_what_infra_yml_does_not_allow_with_exit_2(
    case: Refused, write_infra: WriteInfra, capsys: pytest.CaptureFixture[str]
) -> None:
    root = write_infra(case.infra)
    assert main(["-C", str(root), "ai", "switch", case.target]) == 2
    assert case.message in capsys.readouterr().err
    assert not (root / holder.RECORD).exists()


def recording_steps(log: list[str], running: set[str]) -> Steps:
    def deploy(resolved: Resolved) -> tuple[str, bool]:
        log.append(f"deploy:{','.join(ai_sources(resolved))}")
        return "anklume_test", True

    return Steps(
        resolve=lambda d: resolve(d, check_roles=False),
        running=lambda g: g.name in running,
        stop=lambda g: log.append(f"stop:{g.name}"),
        start=lambda g: log.append(f"start:{g.name}"),
        sync=lambda d: log.append(f"sync:{getattr(holder.read(d), 'holder', None)}"),
        deploy=deploy,
    )


def test_switch_stops_gpu_workloads_first_then_replaces_the_table_then_restarts_ai_tools(
    write_infra: WriteInfra,
) -> None:
    root = write_infra(INFRA)
    log: list[str] = []
    done = switch(root, "perso", recording_steps(log, {"llm", "pro-gpu"}))
    assert log == ["stop:llm", "stop:pro-gpu", "sync:perso", "deploy:perso", "start:llm"]
    assert (done.previous, done.holder, done.table) == ("pro", "perso", "anklume_test")
    assert done.restarted == [GpuInstance("llm", "ai-tools", "ai-tools")]
    assert holder.read(root) is not None


def test_switch_leaves_stopped_instances_alone_and_a_second_switch_only_checks_the_table(
    write_infra: WriteInfra,
) -> None:
    root = write_infra(INFRA)
    log: list[str] = []
    switch(root, "perso", recording_steps(log, set()))
    assert log == ["sync:perso", "deploy:perso"]
    log.clear()
    again = switch(root, "perso", recording_steps(log, {"llm"}))
    assert again.unchanged and log == ["deploy:perso"]


def test_switch_back_to_the_default_records_it(write_infra: WriteInfra) -> None:
    root = write_infra(INFRA)
    switch(root, "perso", recording_steps([], set()))
    log: list[str] = []
    done = switch(root, "pro", recording_steps(log, {"pro-gpu", "llm"}))
    assert done.previous == "perso"
    assert log == ["stop:llm", "sync:pro", "deploy:pro", "start:llm"]  # perso has no GPU instance


def test_status_names_the_holder_and_its_origin(write_infra: WriteInfra) -> None:
    root = write_infra(INFRA)
    before = status(root, resolve(root, check_roles=False))
    assert (before.holder, before.record, before.enforced) == ("pro", None, ["pro"])
    holder.write(root, "perso", "pro")
    after = status(root, resolve(root, check_roles=False))
    assert (after.holder, after.enforced, after.default) == ("perso", ["perso"], "pro")
    assert after.record is not None and after.record.previous == "pro"
    assert after.candidates == ["perso", "pro"]


def test_check_target_rejects_before_touching_anything(write_infra: WriteInfra) -> None:
    root = write_infra(INFRA)
    with pytest.raises(UsageError, match="domains that can hold it: perso, pro"):
        switch(root, "nope", recording_steps([], set()))


def test_a_switch_whose_deploy_fails_leaves_the_record_as_it_was(write_infra: WriteInfra) -> None:
    root = write_infra(INFRA)
    steps = recording_steps([], set())

    def broken(resolved: Resolved) -> tuple[str, bool]:
        msg = "nft refused the table"
        raise UsageError(msg)

    with pytest.raises(UsageError, match="nft refused"):
        switch(root, "perso", Steps(steps.resolve, steps.running, steps.stop, steps.start, steps.sync, broken))
    assert holder.read(root) is None
    switch(root, "perso", steps)
    with pytest.raises(UsageError):
        switch(root, "pro", Steps(steps.resolve, steps.running, steps.stop, steps.start, steps.sync, broken))
    record = holder.read(root)
    assert record is not None and record.holder == "perso"
