"""``anklume destroy``'s selection and order, with the Incus boundary stubbed."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest

from anklume.ops import teardown


def _cfg(infra: str, domain: str, **extra: str) -> dict[str, str]:
    return {"user.anklume.managed": "true", "user.anklume.infra": infra, "user.anklume.domain": domain, **extra}


LIVE: dict[str, list[dict[str, Any]]] = {
    "instances": [
        {"name": "pro-dev", "project": "pro", "config": _cfg("lab", "pro", **{"security.protection.delete": "true"})},
        {"name": "pro-tmp", "project": "pro", "config": _cfg("lab", "pro")},
        {
            "name": "pro-disp-abc123",
            "project": "pro",
            "config": {"user.anklume.disposable": "1", "user.anklume.infra": "lab", "user.anklume.domain": "pro"},
        },
        {"name": "other", "project": "pro2", "config": _cfg("other", "pro")},
        {"name": "hand-made", "project": "default", "config": {}},
    ],
    "profile": [
        {"name": "default", "project": "pro", "config": _cfg("lab", "pro")},
        {"name": "small", "project": "pro", "config": _cfg("lab", "pro")},
        {"name": "small", "project": "pro2", "config": _cfg("other", "pro")},
    ],
    "project": [
        {"name": "pro", "config": _cfg("lab", "pro")},
        {"name": "perso", "config": _cfg("lab", "perso")},
        {"name": "pro2", "config": _cfg("other", "pro")},
        {"name": "default", "config": {}},
    ],
    "network": [
        {"name": "net-pro", "config": _cfg("lab", "pro")},
        {"name": "net-pro2", "config": _cfg("other", "pro")},
        {"name": "incusbr0", "config": {}},
    ],
}


@pytest.fixture
def ran(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    calls: list[list[str]] = []
    monkeypatch.setattr(teardown, "all_instances", lambda: LIVE["instances"])
    monkeypatch.setattr(teardown, "query", lambda argv: LIVE[argv[0]])

    def run(argv: list[str], *, project: str | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
        del check
        calls.append([*argv, f"@{project}"])
        return subprocess.CompletedProcess(argv, 0, "", "")

    monkeypatch.setattr(teardown, "run", run)
    return calls


def test_survey_selects_only_this_infras_resources(ran: list[list[str]]) -> None:
    found = teardown.survey("lab")
    assert [str(i) for i in found.instances] == ["instance pro/pro-tmp", "instance pro/pro-disp-abc123"]
    assert [str(i) for i in found.protected] == ["instance pro/pro-dev"]
    assert [str(i) for i in found.profiles] == ["profile pro/small"]
    assert [i.name for i in found.projects] == ["pro", "perso"]
    assert [i.name for i in found.networks] == ["net-pro"]
    assert ran == []


def test_survey_of_one_domain(ran: list[list[str]]) -> None:
    found = teardown.survey("lab", ["perso"])
    assert (found.instances, found.protected, found.profiles, [p.name for p in found.projects]) == (
        [],
        [],
        [],
        ["perso"],
    )


def test_destroy_order_and_protection(ran: list[list[str]]) -> None:
    removed, kept = teardown.destroy(teardown.survey("lab"), include_protected=False)
    assert [c[0:2] for c in ran] == [
        ["delete", "--force"],
        ["delete", "--force"],
        ["profile", "delete"],
        ["project", "delete"],
        ["project", "delete"],
        ["network", "delete"],
    ]
    assert kept == ["instance pro/pro-dev (protected; --include-protected removes it)"]
    assert len(removed) == 6


def test_destroy_lifts_protection_only_when_asked(ran: list[list[str]]) -> None:
    teardown.destroy(teardown.survey("lab"), include_protected=True)
    assert ran[0] == ["config", "set", "pro-dev", "security.protection.delete=false", "@pro"]
    assert ["delete", "--force", "pro-dev", "@pro"] in ran


def test_another_infra_name_selects_nothing_of_lab(ran: list[list[str]]) -> None:
    found = teardown.survey("")
    assert found.empty()
