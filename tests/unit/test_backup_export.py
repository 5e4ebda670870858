"""``incus export | gpg > FILE`` with a stand-in incus client: both hashes come from the one pass."""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from anklume.backup import export, gpg
from anklume.backup.errors import BackupError
from anklume.incus.run import binary
from anklume.ops.targets import Target
from tests.unit import test_backup_gpg
from tests.unit.test_backup_gpg import SECRET

gnupghome = test_backup_gpg.gnupghome  # the throwaway keyring fixture, shared

TARGET = Target("bk1-box", "bk1-box", "bk1", "bk1", "untrusted", True, "container")
#: about 3 MiB: several chunks through each pipe
CLEAR = b"".join(hashlib.sha256(str(i).encode()).digest() * 1024 for i in range(100))


@pytest.fixture
def fake_incus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An incus client whose ``export`` prints the file ``export.data`` (exit 9 when it is absent)."""
    data = tmp_path / "export.data"
    data.write_bytes(CLEAR)
    script = tmp_path / "incus"
    script.write_text(f'#!/bin/sh\n[ -f "{data}" ] || {{ echo "not found" >&2; exit 9; }}\nexec cat "{data}"\n')
    script.chmod(0o755)
    monkeypatch.setenv("ANKLUME_INCUS", str(script))
    binary.cache_clear()
    yield data
    binary.cache_clear()


def _stream(path: Path, enc: export.Encrypt) -> export.Written:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        return export.stream(fd, TARGET, enc, "zstd", False, None)
    finally:
        os.close(fd)


def test_the_archive_and_the_clear_export_are_hashed_in_one_pass(
    fake_incus: Path, tmp_path: Path, gnupghome: str
) -> None:
    out = tmp_path / "a.tar.zst.gpg"
    written = _stream(out, export.Encrypt("passphrase", secret=SECRET))
    sealed = out.read_bytes()
    assert written.clear == (len(CLEAR), hashlib.sha256(CLEAR).hexdigest())
    assert written.archive == (len(sealed), hashlib.sha256(sealed).hexdigest())
    with gpg.passphrase_fd(SECRET) as fd:
        assert fd is not None
        argv = gpg.decrypt_argv(gpg.binary(), fd=fd)
        assert subprocess.run(argv, input=sealed, capture_output=True, pass_fds=(fd,), check=True).stdout == CLEAR


def test_without_encryption_the_archive_is_the_export(fake_incus: Path, tmp_path: Path) -> None:
    out = tmp_path / "a.tar.zst"
    written = _stream(out, export.Encrypt("none"))
    assert out.read_bytes() == CLEAR and written.archive == written.clear


def test_a_failed_export_is_an_error(fake_incus: Path, tmp_path: Path, gnupghome: str) -> None:
    fake_incus.unlink()
    with pytest.raises(BackupError, match="exit 9"):
        _stream(tmp_path / "a.tar.zst.gpg", export.Encrypt("passphrase", secret=SECRET))


def test_an_archive_that_cannot_be_written_is_an_error_not_a_hang(
    fake_incus: Path, tmp_path: Path, gnupghome: str
) -> None:
    read_only = os.open(tmp_path / "export.data", os.O_RDONLY)
    try:
        with pytest.raises(BackupError, match="writing the archive"):
            export.stream(read_only, TARGET, export.Encrypt("passphrase", secret=SECRET), "zstd", False, None)
    finally:
        os.close(read_only)
