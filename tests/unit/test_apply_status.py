"""Declared versus live instances for ``anklume domain status``."""

from __future__ import annotations

import copy
import typing as t
from pathlib import Path
from typing import Any

import pytest
import yaml

from anklume.apply.status import Declared, compare
from anklume.plan.model import PlanOptions
from anklume.plan.scope import managed_in_scope

WEB = Declared("pro", "web", "pro", "10.110.0.10")


def _live(name: str = "web", status: str = "Running", ip: str = "10.110.0.10", **kw: Any) -> dict[str, Any]:
    nic = {"addresses": [{"family": "inet", "address": ip, "scope": "global"}] if ip else []}
    return {"name": name, "project": "pro", "status": status, "state": {"network": {"eth0": nic}}, **kw}


class StatusCase(t.NamedTuple):
    test_id: str
    live: list[dict[str, Any]]
    expected: list[tuple[str, str, str]]


OWNED = {"user.anklume.managed": "true", "user.anklume.domain": "pro"}
CASES = [
    StatusCase("in_sync", [_live()], [("web", "Running", "")]),
    StatusCase("missing", [], [("web", "absent", "missing")]),
    StatusCase("stopped", [_live(status="Stopped", ip="")], [("web", "Stopped", "not running")]),
    StatusCase("wrong_ip", [_live(ip="10.110.0.99")], [("web", "Running", "ip 10.110.0.99 ≠ 10.110.0.10")]),
    StatusCase("no_ip_yet", [_live(ip="")], [("web", "Running", "ip none ≠ 10.110.0.10")]),
    StatusCase("wrong_project", [{**_live(), "project": "perso"}], [("web", "Running", "in project perso")]),
    StatusCase(
        "orphan_owned",
        [_live(), _live("old", config=OWNED)],
        [("old", "Running", "orphan"), ("web", "Running", "")],
    ),
    StatusCase("foreign_instance_ignored", [_live(), _live("theirs", config={})], [("web", "Running", "")]),
    StatusCase(
        "disabled_domain_ignored",
        [_live(), _live("frozen", config={**OWNED, "user.anklume.domain": "lab"})],
        [("web", "Running", "")],
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.test_id for c in CASES])
def test_status_reports_drift_per_instance(case: StatusCase) -> None:
    rows = compare([WEB], case.live, ignored_domains={"lab"})
    assert [(r.name, r.state, r.drift) for r in rows] == case.expected


RECORDED = Path(__file__).resolve().parent.parent / "fixtures" / "live" / "two_infras_instances.yaml"
CT1 = Declared("cta", "ct-web", "cta", "10.240.31.10", infra="anklume-e2e-ct1")
CT2 = Declared("ctb", "ct-web", "ctb", "10.242.32.10", infra="anklume-e2e-ct2")


def _recorded() -> list[dict[str, Any]]:
    """Two infras on one host, each with an instance ``ct-web`` (see the file's header)."""
    data = yaml.safe_load(RECORDED.read_text(encoding="utf-8"))
    assert {(i["project"], i["config"]["user.anklume.infra"]) for i in data} == {
        ("cta", "anklume-e2e-ct1"),
        ("ctb", "anklume-e2e-ct2"),
    }
    return list(data)


@pytest.mark.parametrize("decl", [CT1, CT2], ids=["ct1", "ct2"])
def test_status_of_one_infra_ignores_the_other_recorded(decl: Declared) -> None:
    """The same instance name in the other infra's project is neither a drift nor an orphan."""
    rows = compare([decl], _recorded())
    assert [(r.project, r.name, r.state, r.ip, r.drift) for r in rows] == [
        (decl.project, "ct-web", "Running", decl.ip, "")
    ]


def test_another_infras_instance_in_a_domain_of_the_same_name_is_no_orphan() -> None:
    """``check`` leaves an instance of another infra alone (``same_infra``); ``status`` does too."""
    live = _recorded()
    theirs = copy.deepcopy(live[1])
    theirs.update(name="ct-db", project="cta")
    theirs["config"]["user.anklume.domain"] = "cta"  # infra ct2 has a domain cta too
    ours = copy.deepcopy(live[0])
    ours["name"] = "ct-old"  # of infra ct1, no longer declared: an orphan
    rows = compare([CT1], [*live, theirs, ours])
    assert [(r.name, r.drift) for r in rows] == [("ct-old", "orphan"), ("ct-web", "")]
    options = PlanOptions(infra="anklume-e2e-ct1")
    assert [i["name"] for i in managed_in_scope([theirs, ours], options)] == ["ct-old"]
