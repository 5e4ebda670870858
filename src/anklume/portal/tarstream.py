"""A minimal, fast reader and writer of tar streams for the portal's filter.

:mod:`tarfile` in stream mode copies every block several times (about
80 MB/s here); this module reads headers itself (ustar, GNU long names,
pax records, through :meth:`tarfile.TarInfo.frombuf`) and moves file data
in large chunks straight from the input to the output, hashing it on the
way (from pipe to pipe with ``tee`` when it can, see :mod:`anklume.portal.pipes`).
Headers are written back by :mod:`anklume.portal.header` (ustar, or pax when
a field does not fit). Extended headers of the input are capped in size: the sender is not trusted.
"""

from __future__ import annotations

import hashlib
import tarfile
from collections.abc import Callable, Iterator
from typing import IO, Protocol

from anklume.portal.header import ENCODING, ERRORS, StreamError, apply_pax, encode, parse_pax

BLOCK = 512
CHUNK = 1 << 20
#: file data left to copy from which ``tee`` is used (below it, one read and one write cost less)
TEE_MIN = 1 << 16
MAX_EXTENDED = 1 << 20


class Reader(Protocol):
    """What the input must offer (a pipe's BufferedReader, a BytesIO)."""

    def readinto(self, buffer: memoryview, /) -> int | None: ...


class Input:
    """Buffered reads of exact sizes, and chunked copies, from a ``readinto`` source."""

    def __init__(self, raw: Reader, tee: Callable[[int], int] | None = None) -> None:
        self.raw = raw
        self.tee = tee
        self.buf = bytearray(CHUNK)
        self.view = memoryview(self.buf)
        self.pos = self.end = 0

    def _fill(self) -> int:
        n = self.raw.readinto(self.view) or 0
        self.pos, self.end = 0, n
        return n

    def read(self, size: int) -> bytes:
        """Exactly ``size`` bytes (small reads: headers); a short stream is an error."""
        out = bytearray()
        while len(out) < size:
            if self.pos == self.end and not self._fill():
                msg = "the stream ended in the middle of a member"
                raise StreamError(msg)
            take = min(size - len(out), self.end - self.pos)
            out += self.view[self.pos : self.pos + take]
            self.pos += take
        return bytes(out)

    def at_eof(self) -> bool:
        """Say whether nothing is left."""
        return self.pos == self.end and not self._fill()

    def copy(self, size: int, out: IO[bytes] | None, digest: hashlib._Hash | None) -> None:
        """Move ``size`` bytes to ``out`` (None: skip them), hashing them into ``digest``."""
        left = size
        while left:
            if self.pos == self.end and out is not None and self.tee is not None and left >= TEE_MIN:
                out.flush()  # what was written before goes first
                left -= self._teed(left, digest)
                continue
            if self.pos == self.end and not self._fill():
                msg = "the stream ended in the middle of a file"
                raise StreamError(msg)
            take = min(left, self.end - self.pos)
            piece = self.view[self.pos : self.pos + take]
            if digest is not None:
                digest.update(piece)
            if out is not None:
                out.write(piece)
            self.pos += take
            left -= take

    def _teed(self, left: int, digest: hashlib._Hash | None) -> int:
        """Duplicate what waits (up to ``left`` bytes) into the output pipe, then read it once to hash it."""
        assert self.tee is not None  # the caller checked
        done = self.tee(min(left, CHUNK))
        if not done:
            msg = "the stream ended in the middle of a file"
            raise StreamError(msg)
        got = 0
        while got < done:  # those bytes wait in the pipe already
            more = self.raw.readinto(self.view[got:done])
            if not more:
                msg = "the input pipe lost bytes it had"
                raise StreamError(msg)
            got += more
        if digest is not None:
            digest.update(self.view[:done])
        return done


def _padding(size: int) -> int:
    return -size % BLOCK


def _extended(inp: Input, info: tarfile.TarInfo) -> bytes:
    if info.size > MAX_EXTENDED:
        msg = f"an extended header of {info.size} bytes (more than {MAX_EXTENDED})"
        raise StreamError(msg)
    data = inp.read(info.size)
    inp.read(_padding(info.size))
    return data


def members(inp: Input) -> Iterator[tarfile.TarInfo]:
    """The members of the stream, extended headers applied; the caller must consume each one's data."""
    pax: dict[str, str] = {}
    long_name = long_link = None
    while True:
        head = inp.read(BLOCK) if not inp.at_eof() else b""
        if not head or head == bytes(BLOCK):
            return
        try:
            info = tarfile.TarInfo.frombuf(head, ENCODING, ERRORS)
        except tarfile.HeaderError as exc:
            msg = f"a bad header ({exc})"
            raise StreamError(msg) from None
        if info.type in (tarfile.XHDTYPE, tarfile.SOLARIS_XHDTYPE):
            pax.update(parse_pax(_extended(inp, info)))
        elif info.type == tarfile.XGLTYPE:
            _extended(inp, info)  # global records (comments, charset): nothing the copy needs
        elif info.type in (tarfile.GNUTYPE_LONGNAME, tarfile.GNUTYPE_LONGLINK):
            text = _extended(inp, info).split(b"\0", 1)[0].decode(ENCODING, ERRORS)
            long_name, long_link = (text, long_link) if info.type == tarfile.GNUTYPE_LONGNAME else (long_name, text)
        elif info.type == tarfile.GNUTYPE_SPARSE or info.type not in tarfile.SUPPORTED_TYPES:
            msg = f"an unsupported member type {info.type!r}"
            raise StreamError(msg)
        else:
            info.name = long_name if long_name is not None else info.name
            info.linkname = long_link if long_link is not None else info.linkname
            apply_pax(info, pax)
            pax, long_name, long_link = {}, None, None
            yield info


def skip_data(
    inp: Input, info: tarfile.TarInfo, out: IO[bytes] | None = None, digest: hashlib._Hash | None = None
) -> None:
    """Consume a member's data (and padding), copying it to ``out`` with its padding when given."""
    size = info.size if info.type in tarfile.REGULAR_TYPES else 0
    inp.copy(size, out, digest)
    inp.copy(_padding(size), None, None)
    if out is not None and _padding(size):
        out.write(bytes(_padding(size)))


def header(info: tarfile.TarInfo) -> bytes:
    """The header blocks of ``info``: one ustar block when its fields fit, else pax."""
    return encode(info)


def drain(inp: Input) -> None:
    """Read what follows the end of the archive (a record's zero padding), refusing more than a little."""
    extra = 0
    while not inp.at_eof():
        extra += inp.end - inp.pos
        inp.pos = inp.end
        if extra > MAX_EXTENDED:
            msg = "data after the end of the archive"
            raise StreamError(msg)


def end() -> bytes:
    """The two zero blocks that end an archive."""
    return bytes(2 * BLOCK)
