"""Golden templates without Incus: the commands each step sends, and what a copy keeps."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from anklume.cli.main import main
from anklume.golden import commands, live, ops
from anklume.golden.keys import ORIGIN, TEMPLATE
from anklume.golden.live import Template
from tests.unit.conftest import WriteInfra

INFRA = """\
project_name: lab
global:
  addressing: {zone_base: 100}
domains:
  pro:
    trust_level: trusted
    machines:
      tpl-web: {roles: [base_system]}
      pro-web2: {ephemeral: true}
  perso:
    trust_level: trusted
    machines:
      perso-a: {}
"""
TPL = Template("pro", "tpl-web", 2, "2026-12-02T13:00:00Z", "Stopped", "default")


class Recorder:
    """Stands in for the incus process boundary: records argv, answers reads from a table."""

    def __init__(self, answers: dict[str, Any] | None = None) -> None:
        self.calls: list[tuple[list[str], str | None, str | None]] = []
        self.answers = answers or {}

    def run(self, argv: Sequence[str], *, project: str | None = None, check: bool = True, **kw: Any) -> Any:
        self.calls.append((list(argv), project, kw.get("input")))
        rc = 1 if argv[0] == "info" else 0
        out = "Instance published with fingerprint: " + "ab" * 32 if argv[0] == "publish" else ""
        return subprocess.CompletedProcess(list(argv), rc, out, "")

    def query(self, argv: Sequence[str], *, project: str | None = None, **kw: Any) -> Any:
        self.calls.append((list(argv), project, None))
        for prefix, answer in self.answers.items():
            if argv[-1].startswith(prefix):
                return answer
        return {}

    def argvs(self, verb: str) -> list[list[str]]:
        return [argv for argv, _, _ in self.calls if argv[0] == verb]


@pytest.fixture
def rec(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    recorder = Recorder()
    for module in (ops, live):
        monkeypatch.setattr(module, "query", recorder.query)
    monkeypatch.setattr(ops, "run", recorder.run)
    return recorder


def test_create_stops_marks_then_snapshots_the_next_generation(rec: Recorder) -> None:
    rec.answers["/1.0/instances/tpl-web"] = {"status": "Running", "snapshots": [{"name": "golden-1"}]}
    template, stopped = ops.create("pro", "tpl-web")
    assert stopped and template.snapshot == "golden-2"
    verbs = [argv[0] for argv, _, _ in rec.calls if argv[0] != "query"]
    assert verbs == ["stop", "config", "snapshot"]  # the mark is set before the snapshot, so the snapshot carries it
    assert f"{TEMPLATE}=golden-2" in rec.argvs("config")[0]
    assert rec.argvs("snapshot")[0] == ["snapshot", "create", "tpl-web", "golden-2"]


class CopyCase(NamedTuple):
    test_id: str
    driver: str
    pool_config: dict[str, str]
    kind: str


@pytest.mark.parametrize(
    "case",
    [
        CopyCase("dir_is_a_plain_copy", "dir", {}, "plain copy"),
        CopyCase("btrfs_copies_on_write", "btrfs", {}, "copy-on-write"),
        CopyCase("zfs_copies_on_write", "zfs", {}, "copy-on-write"),
        CopyCase("thick_lvm_is_a_plain_copy", "lvm", {"lvm.use_thinpool": "false"}, "plain copy"),
    ],
    ids=lambda c: c.test_id,
)
def test_derive_copies_the_snapshot_and_says_how(rec: Recorder, case: CopyCase) -> None:
    rec.answers["/1.0/storage-pools/default"] = {"driver": case.driver, "config": case.pool_config}
    rec.answers["/1.0/instances/pro-web2"] = {
        "config": {TEMPLATE: "golden-2", "user.anklume.provisioned": "x", "limits.cpu": "1"},
        "devices": {
            "root": {"type": "disk", "path": "/", "pool": "default"},
            "eth0": {"type": "nic", "network": "net-pro", "ipv4.address": "10.110.0.1"},
            "pd-data": {"type": "disk", "source": "/srv/data", "path": "/data"},
        },
        "profiles": ["default"],
    }
    declared = ops.Declared("pro", "lab", ephemeral=False)
    driver, kind = ops.derive(TPL, "pro-web2", "pro", profiles=["default"], declared=declared)
    assert (driver, kind) == (case.driver, case.kind)
    copy = rec.argvs("copy")[0]
    assert copy[:5] == ["copy", "tpl-web/golden-2", "pro-web2", "--target-project", "pro"]
    edited = json.loads(next(body for argv, _, body in rec.calls if argv[:2] == ["config", "edit"] and body))
    assert set(edited["devices"]) == {"root"}  # not the template's NIC nor its data disks
    assert edited["config"][ORIGIN] == "pro/tpl-web/golden-2"
    assert TEMPLATE not in edited["config"] and "user.anklume.provisioned" not in edited["config"]
    assert edited["config"]["user.anklume.infra"] == "lab"
    assert edited["config"]["security.protection.delete"] == "true"
    assert rec.argvs("start") == [["start", "pro-web2"]]


def test_publish_sends_the_provenance_as_properties(rec: Recorder) -> None:
    props = {"anklume.golden.source": "pro/tpl-web", "description": "anklume golden image of pro/tpl-web (golden-2)"}
    fingerprint = ops.publish(TPL, "golden/tpl-web", props, "zstd")
    argv = rec.argvs("publish")[0]
    assert fingerprint == "ab" * 32
    assert argv[:5] == ["publish", "tpl-web/golden-2", "--alias", "golden/tpl-web", "--reuse"]
    assert argv[5:7] == ["--compression", "zstd"]
    assert "anklume.golden.source=pro/tpl-web" in argv
    assert "description=anklume golden image of pro/tpl-web (golden-2)" in argv  # one argument, no shell


def test_infra_commit_is_the_checked_out_commit_or_none(tmp_path: Path) -> None:
    from anklume.golden.provenance import infra_commit

    assert infra_commit(tmp_path) == "none"
    git = ["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@localhost"]
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "infra.yml").write_text("x: 1\n", encoding="utf-8")
    subprocess.run([*git, "add", "infra.yml"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "x"], check=True)
    head = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
    assert infra_commit(tmp_path) == head


class BadCall(NamedTuple):
    test_id: str
    argv: list[str]
    message: str


@pytest.mark.parametrize(
    "case",
    [
        BadCall("new_name_not_a_name", ["derive", "tpl-web", "Bad_Name", "--domain", "pro"], "invalid instance name"),
        BadCall("unknown_domain", ["derive", "tpl-web", "x", "--domain", "prp"], "unknown domain 'prp'"),
        BadCall("declared_elsewhere", ["derive", "tpl-web", "perso-a", "--domain", "pro"], "declared in domain"),
        BadCall("not_a_template", ["publish", "perso-a"], "not a template yet"),
        BadCall("bad_compression", ["publish", "tpl-web", "--compression", "rar"], "unknown compression"),
        BadCall("remote_alias", ["publish", "tpl-web", "--alias", "images:x"], "invalid image alias"),
    ],
    ids=lambda c: c.test_id,
)
def test_bad_calls_exit_2_with_the_reason(
    case: BadCall,
    write_infra: WriteInfra,
    rec: Recorder,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("ANKLUME_SKIP_HOST_SUBNET_CHECK", "1")
    monkeypatch.setattr(ops, "project_exists", lambda project: True)
    tpl = {"name": "tpl-web", "project": "pro", "snapshots": [{"name": "golden-2", "config": {TEMPLATE: "golden-2"}}]}
    rec.answers["/1.0/instances"] = [tpl]
    monkeypatch.setattr(live, "read_instances", lambda: [tpl])
    directory = write_infra(INFRA)
    assert main(["-C", str(directory), "golden", *case.argv]) == 2
    assert case.message in capsys.readouterr().err
    assert not rec.argvs("copy") and not rec.argvs("publish")


def test_a_declared_copy_takes_its_declaration(write_infra: WriteInfra, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANKLUME_SKIP_HOST_SUBNET_CHECK", "1")
    seen: dict[str, Any] = {}

    def fake_derive(template: Template, new: str, project: str, **kw: Any) -> tuple[str, str]:
        seen.update(kw, new=new, project=project, template=template)
        return "btrfs", "copy-on-write"

    monkeypatch.setattr(ops, "derive", fake_derive)
    monkeypatch.setattr(ops, "project_exists", lambda project: True)
    monkeypatch.setattr(live, "read_instances", lambda: [
        {"name": "tpl-web", "project": "pro", "snapshots": [{"name": "golden-2", "config": {TEMPLATE: "golden-2"}}],
         "expanded_devices": {"root": {"type": "disk", "path": "/", "pool": "default"}}}
    ])  # fmt: skip
    lines = commands.run_derive(write_infra(INFRA), "tpl-web", "pro-web2", "pro", start=True)
    assert seen["declared"] == ops.Declared("pro", "lab", ephemeral=True)
    assert "copy-on-write of pro/tpl-web/golden-2 (btrfs pool 'default')" in lines[0]
