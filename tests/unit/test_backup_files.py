"""Backup manifests, names, private files and the tar check, without Incus."""

from __future__ import annotations

import hashlib
import io
import json
import os
import stat
import tarfile
import typing as t
from pathlib import Path

import pytest
import zstandard

from anklume.backup import archive, names, store
from anklume.backup.errors import BackupError, VerifyFailed
from anklume.backup.manifest import Manifest, parse
from anklume.backup.verify import verify
from anklume.errors import UsageError

SHA = "0" * 64


def manifest_data(file: str = "bk1.bk1-box.20261202T130000Z.tar.zst", **export: t.Any) -> dict[str, t.Any]:
    return {
        "format": "anklume-backup/1",
        "created": "2026-12-02T13:00:00Z",
        "source": {"infra": "lab", "domain": "bk1", "trust_level": "trusted", "machine": "bk1-box",
                   "instance": "bk1-box", "project": "bk1", "status": "Running", "protected": False, "snapshots": 0},
        "declaration": {"ip": "10.1.0.5"},
        "export": {"compression": "zstd", "instance_only": False, "bytes": 0, "sha256": SHA, **export},
        "encryption": {"mode": "none"},
        "versions": {"anklume": "1.0", "incus_client": "6.0.4", "incus_server": "6.0.4"},
        "artefacts": [{"file": file, "bytes": 0, "sha256": SHA}],
    }  # fmt: skip


def export_tar(index: bool = True) -> bytes:
    """A small zstd tar shaped like an Incus export."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        members = {"backup/container/rootfs/root/x": b"data"}
        if index:
            members["backup/index.yaml"] = b"name: bk1-box\ntype: container\nsnapshots: [snap0]\n"
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return zstandard.ZstdCompressor().compress(buf.getvalue())


def write_backup(directory: Path, data: bytes) -> Path:
    """A plain backup (archive and manifest) of ``data`` written by hand."""
    name = "bk1.bk1-box.20261202T130000Z.tar.zst"
    (directory / name).write_bytes(data)
    digest = hashlib.sha256(data).hexdigest()
    m = manifest_data(name, bytes=len(data), sha256=digest)
    m["artefacts"] = [{"file": name, "bytes": len(data), "sha256": digest}]
    path = directory / "bk1.bk1-box.20261202T130000Z.manifest.json"
    path.write_text(json.dumps(m))
    return path


def test_a_manifest_round_trips_and_names_its_archive() -> None:
    m = Manifest.model_validate(manifest_data())
    assert parse(Path("m.json"), m.dump()) == m
    assert names.manifest_of(Path("/b") / m.archive.file) == Path("/b/bk1.bk1-box.20261202T130000Z.manifest.json")


class BadManifest(t.NamedTuple):
    test_id: str
    change: dict[str, t.Any]
    where: str


BAD_MANIFESTS = [
    BadManifest("archive-outside-the-directory", {"artefacts": [{"file": "../etc/x", "bytes": 0, "sha256": SHA}]},
                "artefacts.0.file"),
    BadManifest("short-sha", {"artefacts": [{"file": "a.tar", "bytes": 0, "sha256": "ab"}]}, "artefacts.0.sha256"),
    BadManifest("unknown-format", {"format": "anklume-backup/9"}, "format"),
    BadManifest("hostile-domain-name", {"source": {**manifest_data()["source"], "domain": "x\x1b[2J"}},
                "source.domain"),
    BadManifest("extra-key", {"surprise": 1}, "surprise"),
]  # fmt: skip


@pytest.mark.parametrize("case", BAD_MANIFESTS, ids=[c.test_id for c in BAD_MANIFESTS])
def test_a_bad_manifest_fails_verification_naming_the_key(case: BadManifest) -> None:
    with pytest.raises(VerifyFailed, match=f"not a valid backup manifest \\({case.where}"):
        parse(Path("m.json"), json.dumps({**manifest_data(), **case.change}).encode())


def test_not_json_fails_verification() -> None:
    with pytest.raises(VerifyFailed, match="not a valid backup manifest"):
        parse(Path("m.json"), b"{nope")


def test_the_backup_directory_is_created_private_level_by_level(tmp_path: Path) -> None:
    fd, shared = store.open_private_dir(tmp_path / "a" / "b")
    try:
        tmp, wfd = store.create_temp(fd, "x.tar")
        os.write(wfd, b"data")
        os.close(wfd)
        store.publish(fd, tmp, "x.tar")
        store.write_file(fd, "x.manifest.json", b"{}")
        tmp2, wfd2 = store.create_temp(fd, "x.tar")
        os.close(wfd2)
        with pytest.raises(BackupError, match="already exists"):
            store.publish(fd, tmp2, "x.tar")  # an existing backup is never replaced
    finally:
        os.close(fd)
    assert not shared
    for path in (tmp_path / "a", tmp_path / "a" / "b"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o700
    assert sorted(os.listdir(tmp_path / "a" / "b")) == ["x.manifest.json", "x.tar"]  # no temporary left
    for name in ("x.tar", "x.manifest.json"):
        assert stat.S_IMODE((tmp_path / "a" / "b" / name).stat().st_mode) == 0o600
    assert (tmp_path / "a" / "b" / "x.tar").read_bytes() == b"data"


def test_links_are_never_followed(tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "backups").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(BackupError, match="is a symbolic link"):
        store.open_private_dir(tmp_path / "backups")
    (tmp_path / "elsewhere" / "secret.manifest.json").write_text("{}")
    (tmp_path / "m.manifest.json").symlink_to(tmp_path / "elsewhere" / "secret.manifest.json")
    with pytest.raises(UsageError, match="is a symbolic link"):
        store.read_small(tmp_path / "m.manifest.json")


def test_an_existing_open_directory_is_reported_and_kept(tmp_path: Path) -> None:
    (tmp_path / "open").mkdir(mode=0o755)
    (tmp_path / "open").chmod(0o755)
    fd, shared = store.open_private_dir(tmp_path / "open")
    os.close(fd)
    assert shared
    assert stat.S_IMODE((tmp_path / "open").stat().st_mode) == 0o755


def test_the_tar_check_reads_an_export_and_refuses_what_is_not_one() -> None:
    summary = archive.check(io.BytesIO(export_tar()))  # type: ignore[arg-type]  # any readable binary stream
    assert (summary.compression, summary.name, summary.snapshots) == ("zstd", "bk1-box", ["snap0"])
    with pytest.raises(archive.Unreadable, match=r"no backup/index\.yaml"):
        archive.check(io.BytesIO(export_tar(index=False)))  # type: ignore[arg-type]
    with pytest.raises(archive.Unreadable, match="not a readable zstd tar"):
        archive.check(io.BytesIO(export_tar()[:-40]))  # type: ignore[arg-type]
    with pytest.raises(archive.Unreadable, match="empty"):
        archive.check(io.BytesIO(b""))  # type: ignore[arg-type]


def test_verify_of_a_plain_backup_checks_sha256_and_the_tar(tmp_path: Path) -> None:
    manifest = write_backup(tmp_path, export_tar())
    report = verify(manifest, None)
    assert report.summary is not None
    assert report.summary.name == "bk1-box"
    archive_path = tmp_path / "bk1.bk1-box.20261202T130000Z.tar.zst"
    archive_path.write_bytes(archive_path.read_bytes()[:-1] + b"\x00")
    with pytest.raises(VerifyFailed, match="sha256 differs"):
        verify(archive_path, None)


def test_verify_fails_on_a_damaged_tar_whose_manifest_matches(tmp_path: Path) -> None:
    manifest = write_backup(tmp_path, export_tar()[:-40])  # sha256 recorded for the damaged bytes
    with pytest.raises(VerifyFailed, match="not a readable zstd tar"):
        verify(manifest, None)
