"""Check that a clear ``incus export`` stream is a readable tar holding an Incus backup.

The stream is decompressed on the fly (zstd, gzip, xz, bzip2 or none, told
by its first bytes) and read member by member in tar's stream mode: nothing
is written to disk and memory stays bounded by one block.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import tarfile
import zlib
from dataclasses import dataclass
from typing import IO, Any

import yaml
import zstandard

MAGIC = {b"\x28\xb5\x2f\xfd": "zstd", b"\x1f\x8b": "gzip", b"\xfd7zXZ\x00": "xz", b"BZh": "bzip2"}
INDEX = "backup/index.yaml"
MAX_INDEX = 1 << 20
_ERRORS = (tarfile.TarError, EOFError, OSError, zlib.error, lzma.LZMAError, zstandard.ZstdError, yaml.YAMLError)


class Unreadable(Exception):  # an internal signal, turned into VerifyFailed by the caller
    """The stream is not a readable Incus export."""


@dataclass(frozen=True)
class Summary:
    """What the export holds."""

    compression: str
    members: int
    name: str
    kind: str
    snapshots: list[str]


def compression_of(head: bytes) -> str:
    """The compression told by the first bytes of a stream.

    >>> compression_of(b"\\x28\\xb5\\x2f\\xfd\\x04"), compression_of(b"\\x1f\\x8b\\x08"), compression_of(b"backup/")
    ('zstd', 'gzip', 'none')
    """
    for magic, name in MAGIC.items():
        if head.startswith(magic):
            return name
    return "none"


def _decompressed(stream: IO[bytes], compression: str) -> IO[bytes]:
    if compression == "zstd":
        return zstandard.ZstdDecompressor().stream_reader(stream, read_across_frames=True, closefd=False)
    if compression == "gzip":
        return gzip.GzipFile(fileobj=stream, mode="rb")  # type: ignore[return-value]  # a readable binary stream
    if compression == "xz":
        return lzma.LZMAFile(stream)
    if compression == "bzip2":
        return bz2.BZ2File(stream)
    return stream


def check(raw: io.RawIOBase) -> Summary:
    """Read the whole export from ``raw`` and summarise it; :class:`Unreadable` when it is not one."""
    stream = io.BufferedReader(raw, buffer_size=1 << 20)
    head = stream.peek(8)[:8]
    if not head:
        msg = "the export is empty"
        raise Unreadable(msg)
    compression = compression_of(head)
    members, index = 0, None
    try:
        with tarfile.open(fileobj=_decompressed(stream, compression), mode="r|") as tar:
            for member in tar:
                members += 1
                if member.name == INDEX and member.isfile() and member.size <= MAX_INDEX:
                    extracted = tar.extractfile(member)
                    index = yaml.safe_load(extracted.read()) if extracted else None
    except _ERRORS as exc:
        msg = f"the export is not a readable {compression} tar ({exc})"
        raise Unreadable(msg) from None
    if not isinstance(index, dict):
        msg = f"the tar ({members} members) has no {INDEX}: not an Incus export"
        raise Unreadable(msg)
    return _summary(compression, members, index)


def _summary(compression: str, members: int, index: dict[str, Any]) -> Summary:
    snaps = index.get("snapshots") or []
    return Summary(
        compression,
        members,
        str(index.get("name", "?")),
        str(index.get("type", "container")),
        [str(s) for s in snaps] if isinstance(snaps, list) else [],
    )
