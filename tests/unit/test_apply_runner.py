"""The ansible-playbook command and environment built for an apply."""

from __future__ import annotations

import json
import typing as t
from pathlib import Path

import pytest

from anklume.apply.framework import Framework
from anklume.apply.runner import PlaybookRequest, extra_vars, playbook_argv, playbook_env

FW = Framework(Path("/fw"))
BIN = Path("/venv/bin/ansible-playbook")


class ArgvCase(t.NamedTuple):
    test_id: str
    request: PlaybookRequest
    present: list[list[str]]
    absent: list[str]


CASES = [
    ArgvCase("defaults", PlaybookRequest(), [], ["--limit", "--tags", "--skip-tags", "-v"]),
    ArgvCase("limit", PlaybookRequest(limit="pro-web"), [["--limit", "pro-web:localhost"]], ["--tags"]),
    ArgvCase("tags", PlaybookRequest(tags=("base", "web")), [["--tags", "base,web"]], ["--limit"]),
    ArgvCase("no_provision", PlaybookRequest(provision=False), [["--skip-tags", "provision"]], []),
    ArgvCase("verbose", PlaybookRequest(verbose=3), [["-vv"]], []),
]


@pytest.mark.parametrize("case", CASES, ids=[c.test_id for c in CASES])
def test_argv_is_a_list_ending_with_the_playbook(case: ArgvCase) -> None:
    argv = playbook_argv(BIN, FW, Path("/stage"), case.request)
    assert argv[:3] == [str(BIN), "-i", "/stage"]
    assert argv[-1] == "/fw/site.yml"
    for pair in case.present:
        start = argv.index(pair[0])
        assert argv[start : start + len(pair)] == pair
    for flag in case.absent:
        assert flag not in argv


def test_extra_vars_carry_every_switch_as_json() -> None:
    req = PlaybookRequest(
        domains=("t1", "t2"),
        disabled=("old",),
        prune=True,
        recreate=True,
        adopt=True,
        force_provision=True,
        snapshot=False,
    )
    argv = playbook_argv(BIN, FW, Path("/stage"), req)
    data = json.loads(argv[argv.index("--extra-vars") + 1])
    assert data == {
        "anklume_domains": ["t1", "t2"],
        "anklume_disabled_domains": ["old"],
        "anklume_prune": True,
        "anklume_recreate": True,
        "anklume_adopt": True,
        "anklume_force_provision": True,
        "anklume_pre_apply_snapshot": False,
        "anklume_plan_only": False,
    }
    assert extra_vars(PlaybookRequest(plan_file=Path("/p.json"), plan_only=True))["anklume_plan_only"] is True
    assert extra_vars(PlaybookRequest(plan_file=Path("/p.json")))["anklume_plan_only"] is False


def test_env_points_ansible_at_the_callbacks_and_roles(tmp_path: Path) -> None:
    env = playbook_env(
        {"PATH": "/usr/bin", "ANSIBLE_CALLBACKS_ENABLED": "timer"},
        FW,
        tmp_path,
        BIN,
        Path("/run/s.json"),
        quiet=True,
    )
    assert env["ANSIBLE_CALLBACK_PLUGINS"] == "/fw/callback_plugins"
    assert env["ANSIBLE_CALLBACKS_ENABLED"] == "timer,anklume_summary"
    assert env["ANSIBLE_STDOUT_CALLBACK"] == "anklume_progress"
    assert env["ANKLUME_PROGRESS"] == "quiet"
    assert env["ANKLUME_SUMMARY_FILE"] == "/run/s.json"
    roles = env["ANSIBLE_ROLES_PATH"].split(":")
    assert roles[:3] == [str(tmp_path / d) for d in ("roles_custom", "roles", "roles_vendor")]


def test_verbose_run_keeps_ansibles_own_output() -> None:
    env = playbook_env({}, FW, Path("/i"), BIN, Path("/s.json"), verbose=2)
    assert "ANSIBLE_STDOUT_CALLBACK" not in env
    assert env["ANSIBLE_CALLBACKS_ENABLED"] == "anklume_summary"
