"""Tar headers: the pax records the filter reads, the headers it writes (ustar when every field fits, else pax).

:meth:`tarfile.TarInfo.tobuf` in pax format costs tens of microseconds per
member, which thousands of small files turn into seconds. Most members
(ASCII names up to 100 bytes, ids, sizes and times that fit their octal
fields) need nothing more than one ustar block, packed here at once; every
other member still gets its pax header from :mod:`tarfile`. The header is
always built from the parsed, checked fields, never copied from the input:
the receiver reads exactly what the filter checked.
"""

from __future__ import annotations

import struct
import tarfile

ENCODING = "utf-8"
ERRORS = "surrogateescape"

_USTAR = struct.Struct("100s8s8s8s12s12s8s1s100s6s2s32s32s8s8s155s12s")
_CHKSUM = slice(148, 156)
_TYPES = frozenset(
    {tarfile.REGTYPE, tarfile.AREGTYPE, tarfile.CONTTYPE, tarfile.LNKTYPE, tarfile.SYMTYPE, tarfile.DIRTYPE}
)


class StreamError(Exception):
    """The input is not a tar stream the portal reads (truncated, bad checksum, unsupported member)."""


def parse_pax(data: bytes) -> dict[str, str]:
    """The records of a pax extended header.

    >>> parse_pax(b"20 path=a/long/name\\n")
    {'path': 'a/long/name'}
    """
    out: dict[str, str] = {}
    pos = 0
    while pos < len(data):
        space = data.find(b" ", pos)
        if space < 0:
            break
        try:
            length = int(data[pos:space])
        except ValueError:
            msg = "a malformed pax record"
            raise StreamError(msg) from None
        record = data[space + 1 : pos + length]
        if length <= 0 or not record.endswith(b"\n") or b"=" not in record:
            msg = "a malformed pax record"
            raise StreamError(msg)
        key, _, value = record[:-1].partition(b"=")
        out[key.decode(ENCODING, ERRORS)] = value.decode(ENCODING, ERRORS)
        pos += length
    return out


def apply_pax(info: tarfile.TarInfo, pax: dict[str, str]) -> None:
    """Set the fields that pax records of the input override (checked: numbers, no negative size)."""
    try:
        for key, attr, kind in (("path", "name", str), ("linkpath", "linkname", str), ("size", "size", int),
                                ("uid", "uid", int), ("gid", "gid", int), ("mtime", "mtime", float),
                                ("uname", "uname", str), ("gname", "gname", str)):  # fmt: skip
            if key in pax:
                setattr(info, attr, kind(pax[key]))
    except ValueError:
        msg = "a pax record with a bad number"
        raise StreamError(msg) from None
    if info.size < 0:
        msg = "a negative size"
        raise StreamError(msg)


def _octal(value: int, size: int) -> bytes:
    """``value`` as a NUL-terminated octal field of ``size`` bytes (the caller checked it fits).

    >>> _octal(0o644, 8)
    b'0000644\\x00'
    """
    return b"%0*o\0" % (size - 1, value)


def _fits(value: object, size: int) -> bool:
    return type(value) is int and 0 <= value < 8 ** (size - 1)


def ustar(info: tarfile.TarInfo) -> bytes | None:
    """The one-block ustar header of ``info``, or None when a field needs pax.

    >>> info = tarfile.TarInfo("top/a")
    >>> info.size, info.mtime = 5, 1700000000
    >>> ustar(info) == info.tobuf(tarfile.USTAR_FORMAT)
    True
    >>> ustar(tarfile.TarInfo("é")) is None
    True
    """
    path = info.name + "/" if info.type == tarfile.DIRTYPE and not info.name.endswith("/") else info.name
    texts = (path, info.linkname, info.uname, info.gname)
    if info.type not in _TYPES or not all(t.isascii() and "\0" not in t for t in texts):
        return None
    name, link, uname, gname = (t.encode("ascii") for t in texts)
    if len(name) > 100 or len(link) > 100 or len(uname) > 32 or len(gname) > 32:
        return None
    if not (_fits(info.uid, 8) and _fits(info.gid, 8) and _fits(info.size, 12) and _fits(info.mtime, 12)):
        return None
    block = _USTAR.pack(
        name,
        _octal(info.mode & 0o7777, 8),
        _octal(info.uid, 8),
        _octal(info.gid, 8),
        _octal(info.size, 12),
        _octal(int(info.mtime), 12),
        b" " * 8,
        info.type,
        link,
        b"ustar\0",
        b"00",
        uname,
        gname,
        b"",
        b"",
        b"",
        b"",
    )
    return block[: _CHKSUM.start] + b"%06o\0 " % sum(block) + block[_CHKSUM.stop :]


def encode(info: tarfile.TarInfo) -> bytes:
    """The header blocks of ``info``: ustar when it fits, else pax (through :mod:`tarfile`)."""
    fast = ustar(info)
    return fast if fast is not None else info.tobuf(tarfile.PAX_FORMAT, ENCODING, ERRORS)
