"""``backup verify``: the archive's sha256, then (when the key is at hand) decryption into a hash and a tar check.

Decrypted bytes only ever go through memory, one chunk at a time: they are
hashed, decompressed and read as a tar, never written anywhere.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

from anklume.backup import archive, gpg, keys, names, pump, store
from anklume.backup.errors import GpgFailed, VerifyFailed
from anklume.backup.manifest import Manifest, parse, sha256_fd


@dataclass(frozen=True)
class Found:
    """A backup named on the command line: its manifest and archive paths."""

    manifest_path: Path
    archive_path: Path
    manifest: Manifest


@dataclass(frozen=True)
class Report:
    """What verify proved; ``skipped`` says why decryption was not tried."""

    found: Found
    summary: archive.Summary | None
    skipped: str = ""


def locate(path: Path) -> Found:
    """The backup that ``path`` (its archive or its manifest) belongs to."""
    manifest_path = names.manifest_of(path)
    manifest = parse(manifest_path, store.read_small(manifest_path))
    return Found(manifest_path, manifest_path.with_name(manifest.archive.file), manifest)


def check_integrity(found: Found) -> None:
    """The archive has the size and sha256 its manifest records."""
    fd = store.open_file(found.archive_path)
    try:
        size, digest = sha256_fd(fd)
    finally:
        os.close(fd)
    want = found.manifest.archive
    if size != want.bytes:
        raise VerifyFailed(found.archive_path, f"{size} bytes, the manifest says {want.bytes}: truncated or damaged")
    if digest != want.sha256:
        raise VerifyFailed(found.archive_path, "its sha256 differs from the manifest's: the archive is damaged")


def can_decrypt(manifest: Manifest, secret: gpg.Secret | None) -> str:
    """Why decryption cannot be tried here ('' when it can)."""
    enc = manifest.encryption
    if enc.mode == "passphrase" and secret is None:
        return "encrypted with a passphrase: give --passphrase-file to check decryption"
    if enc.mode == "recipient" and not keys.has_secret_key(enc.recipients):
        return f"no secret key for {', '.join(enc.recipients)} in this keyring: decryption not checked"
    return ""


def verify(path: Path, secret: gpg.Secret | None, progress: pump.Progress | None = None) -> Report:
    """Check one backup; raise :class:`VerifyFailed` (or a gpg error) at the first failed check."""
    found = locate(path)
    check_integrity(found)
    skipped = can_decrypt(found.manifest, secret)
    if skipped:
        return Report(found, None, skipped)
    return Report(found, clear_stream_check(found, secret, progress))


def clear_stream_check(found: Found, secret: gpg.Secret | None, progress: pump.Progress | None) -> archive.Summary:
    """Decrypt (when encrypted) into a hash and a tar reader; compare with the manifest."""
    fd = store.open_file(found.archive_path)
    try:
        if found.manifest.encryption.mode == "none":
            return _check_clear(found, pump.HashingReader(fd, pump.Ticker(progress)))
        return _check_encrypted(found, fd, secret, progress)
    finally:
        os.close(fd)


def _check_encrypted(
    found: Found, fd: int, secret: gpg.Secret | None, progress: pump.Progress | None
) -> archive.Summary:
    symmetric = found.manifest.encryption.mode == "passphrase"
    with gpg.passphrase_fd(secret if symmetric else None) as pfd:
        argv = gpg.decrypt_argv(gpg.binary(), fd=pfd)
        proc, errors = pump.spawn(argv, stdin=fd, stdout=-1, pass_fds=() if pfd is None else (pfd,))
    assert proc.stdout is not None  # stdout=PIPE
    reader = pump.HashingReader(proc.stdout.fileno(), pump.Ticker(progress))
    failed: VerifyFailed | None = None
    try:
        summary = _check_clear(found, reader)
    except VerifyFailed as exc:
        failed = exc
        with contextlib.suppress(OSError):
            reader.drain()
    finally:
        proc.stdout.close()
    rc, text = pump.finish(proc, errors)
    if rc != 0:
        error: GpgFailed = gpg.failure(argv, rc, text, symmetric=symmetric)
        raise VerifyFailed(found.archive_path, f"cannot decrypt: {error.why}")
    if failed is not None:
        raise failed
    return summary


def _check_clear(found: Found, reader: pump.HashingReader) -> archive.Summary:
    try:
        summary = archive.check(reader)
    except archive.Unreadable as exc:
        raise VerifyFailed(found.archive_path, str(exc)) from None
    reader.drain()
    export = found.manifest.export
    if (reader.count, reader.digest.hexdigest()) != (export.bytes, export.sha256):
        raise VerifyFailed(found.archive_path, "the clear export differs from the one recorded (sha256)")
    return summary
