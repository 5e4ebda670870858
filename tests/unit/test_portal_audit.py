"""The audit log: one private JSON line per decision, never through a link; ``portal log``."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest

from anklume.cli import _present
from anklume.cli.main import main
from anklume.portal import audit
from tests.unit.conftest import WriteInfra

INFRA = """\
project_name: x
global:
  addressing: {zone_base: 100}
domains:
  pro:
    trust_level: trusted
    file_portal: {allowed_paths: [/srv/in]}
    machines: {pro-dev: {}}
  perso:
    trust_level: untrusted
    file_portal: {allowed_paths: [/srv/share]}
    machines: {perso-web: {}}
"""


def test_entries_are_appended_as_single_private_lines(tmp_path: Path) -> None:
    audit.append(tmp_path, {"decision": "allowed", "n": 1})
    audit.append(tmp_path, {"decision": "denied", "text": "line\nbreak"})
    log = tmp_path / ".anklume" / "portal.log"
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    assert stat.S_IMODE(log.parent.stat().st_mode) == 0o700
    assert len(log.read_bytes().splitlines()) == 2
    assert [e["decision"] for e in audit.read(tmp_path)] == ["allowed", "denied"]


def test_a_link_in_place_of_the_log_or_its_directory_is_refused(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    infra = tmp_path / "infra"
    infra.mkdir()
    (infra / ".anklume").symlink_to(elsewhere)
    with pytest.raises(audit.AuditError, match="symbolic link"):
        audit.append(infra, {"a": 1})
    (infra / ".anklume").unlink()
    (infra / ".anklume").mkdir()
    (infra / ".anklume" / "portal.log").symlink_to(elsewhere / "log")
    with pytest.raises(audit.AuditError, match="never followed"):
        audit.append(infra, {"a": 1})
    assert list(elsewhere.iterdir()) == []


def test_no_log_reads_as_empty_and_bad_lines_are_skipped(tmp_path: Path) -> None:
    assert list(audit.read(tmp_path)) == []
    (tmp_path / ".anklume").mkdir()
    (tmp_path / ".anklume" / "portal.log").write_text('{"a": 1}\nnot json\n[1]\n')
    assert list(audit.read(tmp_path)) == [{"a": 1}]


def _fake_probe(answers: dict[str, bytes]) -> Any:
    """Stand-in for the processes the probe runs: the answer its script would print, by path."""

    def run(argv: list[str], **_kw: Any) -> subprocess.CompletedProcess[bytes]:
        return subprocess.CompletedProcess(argv, 0, answers[argv[-2]], b"")

    return run


def test_a_denied_copy_exits_1_and_is_logged_with_who_when_and_both_sides(
    write_infra: WriteInfra, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = write_infra(INFRA)
    answers = {"/srv/share/doc": b"/srv/share/doc\0file\0none\0dir\0", "/srv/in": b"/srv/in\0dir\0missing\0dir\0"}
    monkeypatch.setattr(subprocess, "run", _fake_probe(answers))  # the probe's processes only
    monkeypatch.setenv("SUDO_USER", "alice")
    rc = main(["-C", str(directory), "portal", "copy", "perso-web:/srv/share/doc", "pro-dev:/srv/in"])
    assert rc == 1
    err = capsys.readouterr().err
    assert "no file_policies rule" in err and "--force overrides" in err
    (entry,) = audit.read(directory)
    assert entry["decision"] == "denied" and entry["result"] == "refused"
    assert (entry["user"], entry["uid"], entry["sudo_user"]) == (
        "root" if os.getuid() == 0 else entry["user"],
        os.getuid(),
        "alice",
    )
    assert entry["source"] == {
        "instance": "perso-web",
        "domain": "perso",
        "trust": "untrusted",
        "path": "/srv/share/doc",
    }
    assert entry["destination"] == {"instance": "pro-dev", "domain": "pro", "trust": "trusted", "path": "/srv/in/doc"}
    assert (entry["bytes"], entry["files"], entry["force"]) == (0, [], False)
    assert entry["time"].endswith("Z") and len(entry["time"]) == 20
    assert rc == main(["-C", str(directory), "portal", "copy", "perso-web:/srv/share/doc", "pro-dev:/srv/in"])


def test_portal_log_shows_a_table_or_json(
    write_infra: WriteInfra, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_present._out, "width", 200)  # a wide terminal: no cell is cut
    directory = write_infra(INFRA)
    src = {"instance": "perso-web", "path": "/s/\x1b[2Jd"}
    dst = {"host": True, "path": "/root/doc"}
    files = [{"path": "doc", "size": 3, "sha256": "ab"}]
    entry = {"time": "T1", "user": "root", "decision": "forced", "source": src, "destination": dst}
    audit.append(directory, {**entry, "files": files, "bytes": 3, "result": "ok"})
    audit.append(directory, {"time": "T2", "user": "root", "decision": "denied", "source": src, "destination": dst})
    assert main(["-C", str(directory), "portal", "log"]) == 0
    table = capsys.readouterr().out
    assert "forced" in table and "denied" in table and "perso-web:/s/\\x1b[2Jd" in table
    assert "\x1b[2J" not in table  # names from an instance are escaped
    assert main(["-C", str(directory), "portal", "log", "--json", "--last", "1"]) == 0
    assert [e["time"] for e in json.loads(capsys.readouterr().out)] == ["T2"]
