"""Day-2 operations without Incus: name resolution, retention, records, argument parsing."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from anklume.cli.main import main
from anklume.errors import UsageError
from anklume.ops import preapply, snapshots, targets, terminal
from anklume.ops.complete import domain_names, instance_names
from tests.unit.conftest import MINIMAL, WriteInfra


@pytest.fixture
def infra_dir(write_infra: WriteInfra, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ANKLUME_INCUS", "/nonexistent/incus")  # nothing here may reach Incus
    monkeypatch.setenv("ANKLUME_SKIP_HOST_SUBNET_CHECK", "1")
    return write_infra(MINIMAL)


def test_names_resolve_to_project_and_domain(infra_dir: Path) -> None:
    resolved = targets.load(infra_dir)
    found = targets.find(resolved, "pro-b")
    assert (found.domain, found.project, found.instance, found.trust) == ("pro", "pro", "pro-b", "trusted")


def test_unknown_names_suggest_the_closest(infra_dir: Path) -> None:
    resolved = targets.load(infra_dir)
    with pytest.raises(UsageError, match=r"unknown instance 'pro-c' \(did you mean 'pro-b' or 'pro-a'"):
        targets.find(resolved, "pro-c")
    with pytest.raises(UsageError, match=r"unknown domain 'prp' \(did you mean 'pro'\?\)"):
        targets.check_domain(resolved, "prp")
    with pytest.raises(UsageError, match="invalid instance name"):
        targets.find(resolved, "../etc")


def test_select_wants_exactly_one_way(infra_dir: Path) -> None:
    resolved = targets.load(infra_dir)
    assert [t.name for t in targets.select(resolved, [], "pro", every=False)] == ["pro-a", "pro-b"]
    assert [t.name for t in targets.select(resolved, [], None, every=True)] == ["perso-a", "pro-a", "pro-b"]
    for names, domain, every in ((["pro-a"], "pro", False), ([], None, False), (["pro-a"], None, True)):
        with pytest.raises(UsageError, match="exactly one"):
            targets.select(resolved, names, domain, every=every)


def test_completion_reads_the_infra(infra_dir: Path) -> None:
    dummy = typer.Typer()
    dummy.command()(lambda: None)
    ctx = typer.Context(typer.main.get_command(dummy))
    ctx.params["directory"] = str(infra_dir)
    assert instance_names(ctx, "pro-") == ["pro-a", "pro-b"]
    assert domain_names(ctx, "p") == ["perso", "pro"]
    ctx.params["directory"] = str(infra_dir / "missing")
    assert instance_names(ctx, "") == []


def test_retention_selects_only_anklumes_own_of_one_kind() -> None:
    names = [
        "ak-20260101T000000Z",
        "ak-20260102T000000Z",
        "ak-20260102T000000Z-1",
        "ak-pre-20260101T000000Z",
        "before-upgrade",
        "ak-custom",
    ]
    assert snapshots.to_delete(names, 1, "anklume") == ["ak-20260101T000000Z", "ak-20260102T000000Z"]
    assert snapshots.to_delete(names, 0, "pre-apply") == ["ak-pre-20260101T000000Z"]
    assert snapshots.to_delete(names, 0, "anklume") == names[:3]
    with pytest.raises(UsageError):
        snapshots.to_delete(names, -1, "anklume")


def test_snapshot_names_are_checked() -> None:
    assert snapshots.check_snapshot_name("before-upgrade") == "before-upgrade"
    for bad in ("-x", "a/b", "a b", ""):
        with pytest.raises(UsageError):
            snapshots.check_snapshot_name(bad)


def test_pre_apply_records_pick_updates_and_filter_by_domain(tmp_path: Path) -> None:
    acts = [
        {"action": "update", "name": "a", "project": "pro", "domain": "pro"},
        {"action": "recreate", "name": "b", "project": "pro", "domain": "pro"},
        {"action": "create", "name": "c", "project": "lab", "domain": "lab"},
    ]
    assert [t.name for t in preapply.chosen(acts)] == ["a"]
    folder = preapply.records_dir(tmp_path)
    folder.mkdir(parents=True)
    for stamp, insts in (("20260101T000000Z", ["pro", "lab"]), ("20260102T000000Z", ["lab"])):
        data = {
            "snapshot": f"ak-pre-{stamp}",
            "time": stamp,
            "domains": [],
            "instances": [{"name": f"{d}-x", "project": d, "domain": d} for d in insts],
        }
        (folder / f"{stamp}.json").write_text(json.dumps(data), encoding="utf-8")
    newest = preapply.latest(tmp_path)
    assert newest is not None and newest.snapshot == "ak-pre-20260102T000000Z"
    pro = preapply.latest(tmp_path, "pro")
    assert pro is not None and pro.snapshot == "ak-pre-20260101T000000Z"
    assert [(t.project, t.instance, n) for t, n in pro.pairs()] == [("pro", "pro-x", "ak-pre-20260101T000000Z")]
    assert preapply.latest(tmp_path, "nope") is None


def test_title_escapes_only_on_a_terminal() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    plain, tty = io.StringIO(), Tty()
    assert not terminal.announce("pro", "pro-a", "trusted", plain)
    assert plain.getvalue() == ""
    assert terminal.announce("pro", "pro-a", "trusted", tty)
    assert tty.getvalue().startswith("\x1b]0;[green] pro/pro-a (trusted)\x07\x1b[1;38;5;40m")


@pytest.mark.parametrize(
    "argv",
    [
        ["snapshot", "create", "pro-a", "--all"],
        ["snapshot", "create"],
        ["snapshot", "create", "pro-a", "--name", "-bad"],
        ["snapshot", "restore", "x", "--domain", "nope"],
        ["instance", "exec", "nope", "--", "true"],
        ["disp", "--list", "--domain", "pro"],
        ["disp"],
        ["disp", "--domain", "nope", "--", "true"],
        ["disp", "--domain", "pro", "--image", "--vm", "--", "true"],
        ["destroy", "Bad_Name"],
        ["snapshot", "rollback", "--domain", "nope"],
    ],
)
def test_usage_errors_exit_2_before_incus(infra_dir: Path, argv: list[str]) -> None:
    assert main(["-C", str(infra_dir), *argv]) == 2


def test_every_command_has_help_with_examples(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (
        ["instance", "list"],
        ["instance", "exec"],
        ["instance", "remove"],
        ["domain", "exec"],
        ["snapshot", "create"],
        ["snapshot", "rollback"],
        ["disp"],
        ["destroy"],
    ):
        assert main([*argv, "--help"]) == 0
        assert "Example" in capsys.readouterr().out, argv


def test_domain_apply_takes_no_snapshot(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["domain", "apply", "--help"]) == 0
    assert "--no-snapshot" in capsys.readouterr().out


def test_no_snapshot_reaches_the_playbook_as_an_extra_variable() -> None:
    from anklume.apply.runner import PlaybookRequest, extra_vars

    assert extra_vars(PlaybookRequest())["anklume_pre_apply_snapshot"] is True
    assert extra_vars(PlaybookRequest(snapshot=False))["anklume_pre_apply_snapshot"] is False


def test_rollback_refuses_a_record_naming_what_the_infra_does_not_declare(infra_dir: Path) -> None:
    folder = preapply.records_dir(infra_dir)
    folder.mkdir(parents=True)
    data = {
        "snapshot": "ak-pre-20260101T000000Z",
        "time": "t",
        "domains": [],
        "instances": [{"name": "victim", "project": "other-infra", "domain": "pro"}],
    }
    (folder / "20260101T000000Z.json").write_text(json.dumps(data), encoding="utf-8")
    assert main(["-C", str(infra_dir), "snapshot", "rollback", "--yes"]) == 2
    data["instances"] = [{"name": "pro-a", "project": "pro", "domain": "pro", "snapshot": "mine"}]
    (folder / "20260101T000000Z.json").write_text(json.dumps(data), encoding="utf-8")
    assert main(["-C", str(infra_dir), "snapshot", "rollback", "--yes"]) == 2
    (folder / "20260101T000000Z.json").write_text("[1, 2]", encoding="utf-8")  # not a record: skipped
    assert main(["-C", str(infra_dir), "snapshot", "rollback", "--yes"]) == 2


def test_the_shell_completes_machine_and_domain_names(infra_dir: Path) -> None:
    anklume = str(Path(sys.executable).parent / "anklume")

    def complete(words: str) -> list[str]:
        env = {**os.environ, "_ANKLUME_COMPLETE": "complete_bash", "COMP_WORDS": words}
        env["COMP_CWORD"] = str(len(words.split()) - (0 if words.endswith(" ") else 1))
        done = subprocess.run([anklume], env=env, capture_output=True, text=True, timeout=60, check=False)
        return done.stdout.split()

    assert complete(f"anklume -C {infra_dir} instance shell pro-") == ["pro-a", "pro-b"]
    assert complete(f"anklume -C {infra_dir} disp --domain p") == ["perso", "pro"]
    assert complete(f"anklume -C {infra_dir} snapshot create ") == ["perso-a", "pro-a", "pro-b"]
