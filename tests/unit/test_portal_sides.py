"""Both sides probed at once: the destination is probed again only when the source's name was not the one guessed."""

from __future__ import annotations

import subprocess
import threading
import typing as t
from typing import Any

import pytest

from anklume.portal import sides


class Case(t.NamedTuple):
    test_id: str
    source: bytes
    name: str
    asked: list[tuple[str, str]]


CASES = [
    Case("plain", b"/srv/share/doc\0dir\0none\0dir\0", "doc", [("/srv/in", "doc")]),
    Case("link", b"/srv/share/real\0dir\0none\0dir\0", "real", [("/srv/in", "doc"), ("/srv/in", "real")]),
]


@pytest.mark.parametrize("case", CASES, ids=[c.test_id for c in CASES])
def test_the_destination_is_probed_for_the_resolved_name(case: Case, monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[tuple[str, str]] = []
    lock = threading.Lock()

    def run(argv: list[str], **_kw: Any) -> subprocess.CompletedProcess[bytes]:
        path, name = argv[-2], argv[-1]
        if path == "/srv/share/doc/":
            return subprocess.CompletedProcess(argv, 0, case.source, b"")
        with lock:
            asked.append((path, name))
        kind = b"missing" if name == case.name else b"file"
        return subprocess.CompletedProcess(argv, 0, b"/srv/in\0dir\0" + kind + b"\0dir\0", b"")

    monkeypatch.setattr(subprocess, "run", run)
    found, name, there = sides.probe_both(None, "/srv/share/doc/", None, "/srv/in", "x")
    assert (found.resolved, name, there.child) == (case.source.split(b"\0")[0].decode(), case.name, "missing")
    assert asked == case.asked
