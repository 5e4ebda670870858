"""Reading the plan file of ``site.yml`` (plan-only mode) for ``anklume domain check``."""

from __future__ import annotations

import json
import typing as t
from pathlib import Path

import pytest

from anklume.apply.plan import change_lines, parse_plan, read_plan
from anklume.errors import PlanError
from anklume.plan.action import Action, Command, to_dicts


class PlanCase(t.NamedTuple):
    test_id: str
    actions: list[Action]
    expected: list[tuple[str, str, str, tuple[str, ...]]]


CASES = [
    PlanCase("empty", [], []),
    PlanCase(
        "config_change",
        [Action("update", "instance", "web", "pro", changes={"limits.cpu": ("1", "2")})],
        [("update", "instance", "web", ("limits.cpu: 1 → 2",))],
    ),
    PlanCase(
        "removed_and_added_keys",
        [Action("update", "profile", "small", "pro", changes={"a": ("x", None), "b": (None, "y")})],
        [("update", "profile", "small", ("a: - x", "b: + y"))],
    ),
    PlanCase(
        "every_verb",
        [
            Action("create", "project", "t1"),
            Action("needs-recreate", "instance", "db", "pro", reason="image changed"),
            Action("orphan", "instance", "old", "pro"),
            Action("delete", "network", "net-old"),
        ],
        [
            ("needs-recreate", "instance", "db", ()),
            ("orphan", "instance", "old", ()),
            ("delete", "network", "net-old", ()),
            ("create", "project", "t1", ()),
        ],
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.test_id for c in CASES])
def test_plan_actions_round_trip_through_json(case: PlanCase) -> None:
    data = json.loads(json.dumps({"version": 1, "actions": to_dicts(case.actions)}))
    got = parse_plan(data)
    assert got == case.actions
    assert sorted((a.verb, a.resource, a.name, change_lines(a)) for a in got) == sorted(case.expected)


def test_commands_round_trip_through_the_plan_file() -> None:
    action = Action(
        "create",
        "profile",
        "small",
        "pro",
        commands=(Command("create", ("incus", "profile", "create", "small", "--project=pro"), '{"config": {}}'),),
    )
    assert parse_plan(json.loads(json.dumps({"actions": to_dicts([action])}))) == [action]


@pytest.mark.parametrize(
    "entry",
    [
        {"action": "prune", "resource": "instance", "name": "x"},
        {"action": "noop", "resource": "instance", "name": "x"},
        {"op": "create", "resource": "instance", "name": "x"},
        {"action": "create", "kind": "instance", "name": "x"},
        {"action": "create", "resource": "instances", "name": "x"},
    ],
    ids=["alias_prune", "noop", "op_key", "kind_key", "plural_resource"],
)
def test_only_the_planners_own_record_is_read(entry: dict[str, str]) -> None:
    with pytest.raises(PlanError, match="unknown"):
        parse_plan({"actions": [entry]})


def test_a_document_without_actions_is_refused() -> None:
    with pytest.raises(PlanError, match="no list of actions"):
        parse_plan({"instances": [{"action": "create", "resource": "instance", "name": "web"}]})


def test_reason_is_kept_when_there_are_no_changes() -> None:
    got = parse_plan({"actions": [Action("needs-recreate", "instance", "db", reason="type lxc → vm").to_dict()]})
    assert got[0].reason == "type lxc → vm"


def test_missing_or_broken_plan_file_is_a_plan_error(tmp_path: Path) -> None:
    with pytest.raises(PlanError, match="wrote no plan"):
        read_plan(tmp_path / "absent.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{", encoding="utf-8")
    with pytest.raises(PlanError, match="not valid JSON"):
        read_plan(bad)


def test_secret_values_never_reach_the_screen() -> None:
    from anklume.apply.plan import masked_argv, masked_stdin

    action = Action(
        "update",
        "instance",
        "web",
        "pro",
        changes={"config.environment.API_TOKEN": ("hunter2", None), "config.cloud-init.user-data": (None, "pw")},
    )
    lines = " ".join(change_lines(action))
    assert "hunter2" not in lines and "pw" not in lines and "(hidden)" in lines
    assert "s3" not in " ".join(masked_argv(("incus", "config", "set", "web", "raw.lxc=s3")))
    assert "s3" not in masked_stdin('{"config": {"user.secret": "s3", "limits.cpu": "2"}, "devices": {}}')
