"""Plan case files: ``tests/plan/<kind>/<case>.yaml`` → expected actions.

Each case holds ``declared`` (the generated variables: domains, machines,
settings), ``live`` (recorded ``incus ... --format json`` output, trimmed to
the keys the planners read), ``options`` and either ``noop: true`` or the
expected ``actions``. A case that names a ``world`` gives ``declared`` and
``live`` as patches of that recorded world (``tests/plan/world.py``); one
without gives them whole. An expected action lists action, resource, name,
project, and, compared whole (omitted = none), ``changes``, ``data`` and the
``commands`` applying it runs (step, argv, and stdin as the document it is).
"""

from __future__ import annotations

import copy
import difflib
import json
from pathlib import Path
from typing import Any, NamedTuple

import pytest
import yaml

from anklume.plan.run import KINDS, plan_kind
from tests.plan.world import WORLDS, load_case, load_world

CASES = Path(__file__).resolve().parent.parent / "plan"


class PlanCase(NamedTuple):
    test_id: str
    kind: str
    path: Path


def _cases() -> list[PlanCase]:
    return [
        PlanCase(f"{path.parent.name}/{path.stem}", path.parent.name, path)
        for path in sorted(CASES.glob("*/*.yaml"))
        if path.parent != WORLDS
    ]


def _project(action: dict[str, Any]) -> dict[str, Any]:
    """Return what a case states of an action; a command's stdin (JSON) is compared as data."""
    out = {k: action[k] for k in ("action", "resource", "name", "project", "changes", "data")}
    out["commands"] = [{**c, **({"stdin": json.loads(c["stdin"])} if "stdin" in c else {})} for c in action["commands"]]
    return out


def _norm(action: dict[str, Any]) -> dict[str, Any]:
    """Drop empty ``changes``, ``data`` and ``commands`` so that cases need not spell them."""
    return {k: v for k, v in action.items() if k not in ("changes", "data", "commands") or v}


def _dump(data: object) -> list[str]:
    return json.dumps(data, indent=1, sort_keys=True, default=str).splitlines()


@pytest.mark.parametrize("case", _cases(), ids=[c.test_id for c in _cases()])
def test_plan_case(case: PlanCase) -> None:
    doc = load_case(case.path)
    assert case.kind in KINDS, f"unknown kind folder {case.kind}"
    assert ("actions" in doc) != bool(doc.get("noop")), "a case has either actions or noop: true"
    actual = plan_kind(doc["declared"], case.kind, doc.get("live") or {}, doc.get("options") or {})
    expected = doc.get("actions") or []
    got = [_norm(_project(a)) for a in actual]
    want = [_norm(e) for e in expected]
    diff = "\n".join(difflib.unified_diff(_dump(want), _dump(got), "expected", "planned", lineterm=""))
    assert got == want, f"{case.path.name}: plan differs\n{diff}"


def test_every_kind_has_cases() -> None:
    kinds = {c.kind for c in _cases()}
    assert kinds == set(KINDS)


def test_live_cases_come_from_recorded_output() -> None:
    """Live instances in cases keep the shape incus prints (type, status, devices)."""
    doc = load_case(CASES / "instances" / "converged_is_noop.yaml")
    first = doc["live"]["instances"][0]
    assert first["type"] == "container"
    assert first["status"] == "Running"
    assert "volatile.base_image" in first["config"]


def test_the_loader_reads_the_full_and_the_patch_format(tmp_path: Path) -> None:
    """A patch of the world and the same case written whole load the same."""
    world = load_world("incus-6.0")
    whole = copy.deepcopy({"declared": world["declared"], "live": world["live"], "noop": True})
    whole["live"]["instances"][1]["status"] = "Stopped"
    del whole["live"]["profiles"][0]
    whole["declared"]["machines"][0]["instance_config"] = {"limits.memory": "512MiB"}
    web = whole["live"]["instances"][1]
    patch = {
        "world": "incus-6.0",
        "declared": {"machines": {"anklume-t-web": {"instance_config": {"limits.memory": "512MiB"}}}},
        "live": {
            "instances": {f"{web['project']}/{web['name']}": {"status": "Stopped"}},
            "profiles": {_profile_key(world["live"]["profiles"][0]): None},
        },
        "noop": True,
    }
    for name, doc in (("whole", whole), ("patch", patch)):
        (tmp_path / f"{name}.yaml").write_text(yaml.safe_dump(doc), encoding="utf-8")
    assert load_case(tmp_path / "patch.yaml") == load_case(tmp_path / "whole.yaml")
    assert load_case(tmp_path / "patch.yaml") != {**world, "noop": True}


def _profile_key(profile: dict[str, Any]) -> str:
    return f"{profile.get('project', 'default')}/{profile['name']}"
