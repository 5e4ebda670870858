"""``backup verify`` of encrypted backups made by hand with the real gpg (no Incus)."""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from anklume.backup import gpg
from anklume.backup.errors import VerifyFailed
from anklume.backup.verify import verify
from tests.unit import test_backup_gpg
from tests.unit.test_backup_files import export_tar, manifest_data
from tests.unit.test_backup_gpg import SECRET

gnupghome = test_backup_gpg.gnupghome  # the throwaway keyring fixture, shared

NAME = "bk1.bk1-box.20261202T130000Z"


def sealed_backup(directory: Path, clear: bytes, secret: gpg.Secret) -> Path:
    """A passphrase-mode backup of ``clear`` written with the same gpg argv as ``backup create``."""
    with gpg.passphrase_fd(secret) as fd:
        assert fd is not None
        argv = gpg.encrypt_argv(gpg.binary(), recipient=None, fd=fd)
        sealed = subprocess.run(argv, input=clear, capture_output=True, pass_fds=(fd,), check=True).stdout
    archive = directory / f"{NAME}.tar.zst.gpg"
    archive.write_bytes(sealed)
    data = manifest_data(archive.name, bytes=len(clear), sha256=hashlib.sha256(clear).hexdigest())
    data["encryption"] = {"mode": "passphrase", "cipher": "AES256"}
    data["artefacts"] = [{"file": archive.name, "bytes": len(sealed), "sha256": hashlib.sha256(sealed).hexdigest()}]
    manifest = directory / f"{NAME}.manifest.json"
    manifest.write_text(json.dumps(data))
    return manifest


@pytest.fixture
def backup(tmp_path: Path, gnupghome: str) -> Iterator[Path]:
    yield sealed_backup(tmp_path, export_tar(), SECRET)


def test_the_decrypted_stream_is_hashed_and_read_as_a_tar(backup: Path) -> None:
    report = verify(backup, SECRET)
    assert report.summary is not None
    assert report.summary.name == "bk1-box"


def test_without_the_passphrase_only_integrity_is_checked(backup: Path) -> None:
    report = verify(backup, None)
    assert report.summary is None
    assert "give --passphrase-file" in report.skipped


def test_a_wrong_passphrase_is_a_failed_verification_saying_so(backup: Path) -> None:
    with pytest.raises(VerifyFailed, match="cannot decrypt: wrong passphrase"):
        verify(backup, gpg.Secret(b"wrong"))


def test_a_sealed_stream_that_is_not_the_recorded_export_fails(tmp_path: Path, gnupghome: str) -> None:
    manifest = sealed_backup(tmp_path, export_tar(), SECRET)
    data = json.loads(manifest.read_text())
    data["export"]["sha256"] = "1" * 64  # the clear stream recorded at create differs from what decrypts
    manifest.write_text(json.dumps(data))
    with pytest.raises(VerifyFailed, match="differs from the one recorded"):
        verify(manifest, SECRET)


def test_a_sealed_stream_that_is_no_tar_fails(tmp_path: Path, gnupghome: str) -> None:
    manifest = sealed_backup(tmp_path, b"\x28\xb5\x2f\xfd" + b"not zstd at all" * 100, SECRET)
    with pytest.raises(VerifyFailed, match="not a readable zstd tar"):
        verify(manifest, SECRET)
