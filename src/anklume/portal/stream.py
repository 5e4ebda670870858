"""The tar filter between the sending and the receiving side.

The sending side is not trusted: its ``tar`` may be replaced and may emit
anything. Every member is checked before it is passed on: a relative name
made only of plain components, below the one top-level name the copy asked
for, never below a link the stream itself created, hard links only to
regular files already sent; devices and FIFOs are skipped. The top name is
renamed to the destination name. Regular files are hashed (sha256) while
they pass; nothing is kept in memory but the current block and one record
per file. The stream ends with the :data:`~anklume.portal.scripts.DONE`
member, which the receiver requires before it moves anything into place.
"""

from __future__ import annotations

import hashlib
import tarfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO

from anklume.errors import AnklumeError, printable
from anklume.portal import pipes, tarstream
from anklume.portal.header import StreamError
from anklume.portal.scripts import DONE

SETID = 0o6000


class UnsafeStream(AnklumeError):
    """The sending side emitted a member the portal refuses."""

    def __init__(self, name: str, why: str) -> None:
        self.name = name
        self.why = why
        super().__init__(f"refused member {printable(name)!r} of the sending side: {why}; nothing was kept")


class Unsealed(Exception):
    """The input ended but the sender did not succeed: the stream is left without its end marker."""


@dataclass
class FileRecord:
    """One regular file that crossed: its path at the destination, size and sha256."""

    path: str
    size: int
    sha256: str


@dataclass
class Summary:
    """What crossed."""

    files: list[FileRecord] = field(default_factory=list)
    bytes: int = 0
    skipped: list[str] = field(default_factory=list)
    setid_cleared: int = 0


def member_parts(name: str, top: str) -> tuple[str, ...]:
    """The components of a member name, checked: relative, plain, under ``top``.

    >>> member_parts("docs/a.txt", "docs")
    ('docs', 'a.txt')
    >>> member_parts("docs/", "docs")
    ('docs',)
    >>> member_parts("d/../x", "d")
    Traceback (most recent call last):
    ...
    anklume.portal.stream.UnsafeStream: refused member 'd/../x' of the sending side: '.' or '..' or ''; nothing was kept
    """
    if name.startswith("/"):
        raise UnsafeStream(name, "absolute name")
    parts = tuple(name.rstrip("/").split("/"))
    if any(p in {"", ".", ".."} for p in parts):
        raise UnsafeStream(name, "'.' or '..' or ''")
    if parts[0] != top:
        raise UnsafeStream(name, f"not below {printable(top)!r}, the name asked for")
    return parts


class Filter:
    """Check, rename and hash one tar stream (see the module docstring)."""

    def __init__(self, top: str, new_top: str, *, clear_setid: bool, progress: Callable[[Summary], None]) -> None:
        self.top = top
        self.new_top = new_top
        self.clear_setid = clear_setid
        self.progress = progress
        self.links: set[tuple[str, ...]] = set()
        self.regular: set[tuple[str, ...]] = set()
        self.summary = Summary()

    def _renamed(self, parts: tuple[str, ...]) -> str:
        return "/".join((self.new_top, *parts[1:]))

    def _check(self, member: tarfile.TarInfo, parts: tuple[str, ...]) -> None:
        if any(parts[:n] in self.links for n in range(1, len(parts) + 1)):
            raise UnsafeStream(member.name, "at or below a link the stream created")
        if member.islnk():
            target = member_parts(member.linkname, self.top)
            if target not in self.regular:
                raise UnsafeStream(member.name, "hard link to something that is not a file sent before")

    def _out_member(self, member: tarfile.TarInfo, parts: tuple[str, ...]) -> tarfile.TarInfo:
        """The member as sent on (changed in place: each header is parsed fresh and used once)."""
        out = member
        if member.islnk():
            out.linkname = self._renamed(member_parts(member.linkname, self.top))
        out.name = self._renamed(parts)
        out.pax_headers = {}
        if self.clear_setid and out.mode & SETID:
            out.mode &= ~SETID
            self.summary.setid_cleared += 1
        return out

    def run(self, source: tarstream.Reader, sink: IO[bytes], seal: Callable[[], bool]) -> Summary:
        """Copy the stream of ``source`` to ``sink``, checked; return what crossed.

        ``seal`` is asked once the input ended (the sender exited 0?): the end marker is written
        only when it says yes, else :class:`Unsealed` is raised and the receiver keeps nothing.
        """
        inp = tarstream.Input(source, pipes.between(source, sink))
        try:
            for member in tarstream.members(inp):
                self._one(inp, sink, member)
            tarstream.drain(inp)
        except StreamError as exc:
            msg = f"the stream of the sending side is not a valid tar archive ({exc}); nothing was kept"
            raise AnklumeError(msg) from None
        if not seal():
            raise Unsealed
        done = tarfile.TarInfo(DONE)
        done.mode = 0o600
        sink.write(tarstream.header(done))
        sink.write(tarstream.end())
        sink.flush()
        return self.summary

    def _one(self, inp: tarstream.Input, sink: IO[bytes], member: tarfile.TarInfo) -> None:
        parts = member_parts(member.name, self.top)
        self._check(member, parts)
        if not (member.isreg() or member.isdir() or member.issym() or member.islnk()):
            self.summary.skipped.append(self._renamed(parts))
            tarstream.skip_data(inp, member)
            return
        out = self._out_member(member, parts)
        if member.issym():
            self.links.add(parts)
        sink.write(tarstream.header(out))
        if not member.isreg():
            tarstream.skip_data(inp, member)
            return
        digest = hashlib.sha256()
        tarstream.skip_data(inp, member, sink, digest)
        self.regular.add(parts)
        self.summary.files.append(FileRecord(out.name, member.size, digest.hexdigest()))
        self.summary.bytes += member.size
        self.progress(self.summary)
