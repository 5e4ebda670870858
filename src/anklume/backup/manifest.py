"""The manifest of a backup: what was saved, from where, by which versions, with which sha256.

It is JSON beside the archive (0600, not encrypted: it holds no instance
data but does hold the instance's infra.yml entry). A manifest read back is
untrusted input: every field is checked by the model before it is used.
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from anklume.backup.errors import VerifyFailed
from anklume.engine.model import NAME, PROJECT, TrustLevel

FORMAT = "anklume-backup/1"

Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
FileName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", max_length=255)]
Name = Annotated[str, StringConstraints(pattern=NAME, max_length=63)]
Project = Annotated[str, StringConstraints(pattern=PROJECT, max_length=100)]
Fingerprint = Annotated[str, StringConstraints(pattern=r"^[0-9A-F]{40}([0-9A-F]{24})?$")]
Version = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._+~-]{0,64}$")]
Compression = Literal["zstd", "gzip", "xz", "bzip2", "none"]
Mode = Literal["passphrase", "recipient", "none"]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class Artefact(_Model):
    """One file of the backup, as written."""

    file: FileName
    bytes: Annotated[int, Field(ge=0)]
    sha256: Sha256


class Export(_Model):
    """The clear ``incus export`` stream (what decryption must give back)."""

    compression: Compression
    instance_only: bool
    bytes: Annotated[int, Field(ge=0)]
    sha256: Sha256


class Encryption(_Model):
    """How the archive is encrypted."""

    mode: Mode
    cipher: Literal["AES256", ""] = ""
    recipients: list[Fingerprint] = Field(default_factory=list)


class Source(_Model):
    """The instance saved, in the infra's terms and in Incus's."""

    infra: Project
    domain: Name
    trust_level: TrustLevel
    machine: Name
    instance: Name
    project: Project
    status: Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{0,20}$")]
    protected: bool
    snapshots: Annotated[int, Field(ge=0)]


class Versions(_Model):
    """What made the backup."""

    anklume: Version
    incus_client: Version
    incus_server: Version


class Manifest(_Model):
    """Everything ``backup verify`` and ``backup restore`` need besides the archive."""

    format: Literal["anklume-backup/1"] = "anklume-backup/1"
    created: Annotated[str, StringConstraints(pattern=r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")]
    source: Source
    declaration: dict[str, Any]
    export: Export
    encryption: Encryption
    versions: Versions
    artefacts: Annotated[list[Artefact], Field(min_length=1, max_length=1)]

    @property
    def archive(self) -> Artefact:
        """The archive (the one artefact of this format)."""
        return self.artefacts[0]

    def dump(self) -> bytes:
        """The manifest as written: indented JSON, ending with a newline."""
        return (json.dumps(self.model_dump(mode="json"), indent=2, sort_keys=True, default=str) + "\n").encode()


def now() -> str:
    """The current UTC time as the manifest writes it."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def stamp(created: str) -> str:
    """The compact form of ``created`` used in file names.

    >>> stamp("2026-12-02T13:00:05Z")
    '20261202T130005Z'
    """
    return created.replace("-", "").replace(":", "")


def parse(path: Path, data: bytes) -> Manifest:
    """Read a manifest; anything that is not one is a failed verification naming the first problem."""
    try:
        raw = json.loads(data)
        return Manifest.model_validate(raw)
    except (ValueError, ValidationError) as exc:
        first = exc.errors()[0] if isinstance(exc, ValidationError) else None
        where = ".".join(str(p) for p in first["loc"]) + ": " + first["msg"] if first else str(exc)
        raise VerifyFailed(path, f"not a valid backup manifest ({where})") from None


def sha256_fd(fd: int, chunk: int = 1 << 20) -> tuple[int, str]:
    """Size and sha256 of what is left to read from ``fd``."""
    digest, size = hashlib.sha256(), 0
    while block := os.read(fd, chunk):
        digest.update(block)
        size += len(block)
    return size, digest.hexdigest()
