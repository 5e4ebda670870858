"""``golden list`` without Incus: what is a template, and what is older than its template."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from anklume.cli.main import main
from anklume.golden import listing, live
from anklume.golden.keys import ORIGIN, TEMPLATE


def template(name: str, *generations: int, marked: bool = True) -> dict[str, Any]:
    snaps = [{"name": f"golden-{g}", "config": {TEMPLATE: f"golden-{g}"} if marked else {}} for g in generations]
    return {"name": name, "project": "pro", "status": "Stopped", "config": {}, "snapshots": snaps}


def derived(name: str, origin: str) -> dict[str, Any]:
    return {"name": name, "project": "lab", "config": {ORIGIN: origin}}


def image(alias: str, origin: str) -> dict[str, Any]:
    return {"fingerprint": "f" * 64, "aliases": [{"name": alias}], "properties": {"anklume.golden.origin": origin}}


def test_the_current_snapshot_is_the_highest_marked_one() -> None:
    found = live.templates([template("tpl", 1, 3, 2), template("plain", 1, marked=False)])
    assert list(found) == [("pro", "tpl")]  # a golden-N snapshot without the mark is not a template
    assert found["pro", "tpl"].snapshot == "golden-3"


def test_older_means_made_from_an_earlier_snapshot_of_the_same_template() -> None:
    rep = listing.report(
        [
            template("tpl", 1, 2),
            derived("old", "pro/tpl/golden-1"),
            derived("new", "pro/tpl/golden-2"),
            derived("orphan", "pro/gone/golden-1"),
        ],
        [image("golden/tpl", "pro/tpl/golden-1"), image("other", "pro/tpl/golden-2")],
    )
    states = {row[1]: row[-1] for row in rep.derived}
    assert states == {"old": "older (template now at golden-2)", "new": "current", "orphan": "template gone"}
    assert {row[0]: row[-1] for row in rep.images} == {
        "golden/tpl": "older (template now at golden-2)",
        "other": "current",
    }
    assert rep.older == 2


def test_list_exits_3_when_something_is_older(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(live, "read_images", list)
    monkeypatch.setattr(live, "read_instances", lambda: [template("tpl", 1, 2), derived("old", "pro/tpl/golden-1")])
    assert main(["-C", str(tmp_path), "golden", "list"]) == 3
    assert "older" in capsys.readouterr().out
    monkeypatch.setattr(live, "read_instances", lambda: [template("tpl", 2), derived("new", "pro/tpl/golden-2")])
    assert main(["-C", str(tmp_path), "golden", "list"]) == 0
