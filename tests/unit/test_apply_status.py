"""Declared versus live instances for ``anklume domain status``."""

from __future__ import annotations

import typing as t
from typing import Any

import pytest

from anklume.apply.status import Declared, compare

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
