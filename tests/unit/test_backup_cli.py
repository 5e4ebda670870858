"""``anklume backup``: usage errors exit 2 with one line, listing and verifying plain backups (no Incus)."""

from __future__ import annotations

import json
import typing as t
from pathlib import Path

import pytest

from anklume.cli.main import main
from tests.unit.test_backup_files import export_tar, write_backup

INFRA = """\
project_name: bkcli
global:
  addressing: {zone_base: 126, zone_step: 1}
domains:
  bk1:
    trust_level: trusted
    machines:
      bk1-box: {}
"""


class Usage(t.NamedTuple):
    test_id: str
    argv: list[str]
    says: str


USAGE = [
    Usage("no-encryption-chosen", ["backup", "create", "bk1-box"], "give exactly one of --gpg-recipient"),
    Usage("two-encryptions", ["backup", "create", "bk1-box", "--no-encrypt", "--gpg-recipient", "k"],
          "give exactly one of"),
    Usage("unknown-machine", ["backup", "create", "nope", "--no-encrypt"], "unknown instance 'nope'"),
    Usage("name-and-domain", ["backup", "create", "bk1-box", "--domain", "bk1", "--no-encrypt"],
          "exactly one of them"),
    Usage("option-as-key", ["backup", "create", "bk1-box", "--gpg-recipient", "--x"], "invalid gpg key name"),
    Usage("bad-compression", ["backup", "create", "bk1-box", "--no-encrypt", "--compression", "lz4"],
          "unknown compression 'lz4'"),
    Usage("not-a-backup", ["backup", "verify", "infra.yml"], "is not a backup file"),
    Usage("missing-manifest", ["backup", "verify", "x.tar.zst.gpg"], "No such file or directory"),
    Usage("restore-unknown-domain", ["backup", "restore", "M", "--domain", "zz"], "unknown domain 'zz'"),
]  # fmt: skip


@pytest.mark.parametrize("case", USAGE, ids=[c.test_id for c in USAGE])
def test_usage_errors_exit_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, case: Usage
) -> None:
    (tmp_path / "infra.yml").write_text(INFRA)
    write_backup(tmp_path, export_tar())
    monkeypatch.chdir(tmp_path)
    argv = [a.replace("M", "bk1.bk1-box.20261202T130000Z.manifest.json") if a == "M" else a for a in case.argv]
    assert main(["-C", str(tmp_path), *argv]) == 2
    err = capsys.readouterr().err
    assert case.says in err
    assert "Traceback" not in err


def test_list_and_verify_a_plain_backup(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    manifest = write_backup(tmp_path, export_tar())
    (tmp_path / "junk.manifest.json").write_text("{")
    assert main(["backup", "list", "--dir", str(tmp_path), "--json"]) == 0
    captured = capsys.readouterr()
    listed = json.loads(captured.out)
    assert [(e["domain"], e["machine"], e["encryption"]) for e in listed] == [("bk1", "bk1-box", "none")]
    assert "junk.manifest.json" in captured.err  # a damaged manifest is named, not fatal
    assert main(["backup", "verify", str(manifest)]) == 0
    assert "ok: sha256 and tar (container bk1-box" in capsys.readouterr().out
    archive = tmp_path / listed[0]["file"]
    archive.write_bytes(b"x" + archive.read_bytes()[1:])
    assert main(["backup", "verify", str(archive)]) == 1
    assert "sha256 differs" in capsys.readouterr().err
