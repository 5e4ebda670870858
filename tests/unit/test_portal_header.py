"""The filter's fast ustar headers: byte for byte what tarfile writes, pax whenever a field does not fit."""

from __future__ import annotations

import tarfile
import typing as t

import pytest

from anklume.portal import header


class Member(t.NamedTuple):
    test_id: str
    name: str
    type: bytes
    fields: dict[str, object]


def _info(m: Member) -> tarfile.TarInfo:
    info = tarfile.TarInfo(m.name)
    info.type = m.type
    info.mtime = 1700000000
    for key, value in m.fields.items():
        setattr(info, key, value)
    return info


FITS = [
    Member("file", "top/a", tarfile.REGTYPE, {"size": 5000, "mode": 0o640, "uid": 1000, "gid": 1000}),
    Member("setuid-file", "top/s", tarfile.REGTYPE, {"size": 1, "mode": 0o4755}),
    Member("dir", "top/d", tarfile.DIRTYPE, {"mode": 0o755, "uname": "root", "gname": "root"}),
    Member("symlink", "top/l", tarfile.SYMTYPE, {"linkname": "/etc/passwd"}),
    Member("hardlink", "top/h", tarfile.LNKTYPE, {"linkname": "top/a"}),
    Member("100-byte-name", "top/" + "n" * 96, tarfile.REGTYPE, {"size": 8 * 2**30 - 1}),
    Member("largest-octal", "top/big", tarfile.REGTYPE, {"size": 8**11 - 1, "uid": 8**7 - 1, "mtime": 8**11 - 1}),
]

NEEDS_PAX = [
    Member("101-byte-name", "top/" + "n" * 97, tarfile.REGTYPE, {}),
    Member("dir-of-100-bytes", "top/" + "d" * 96, tarfile.DIRTYPE, {}),  # 101 with its slash
    Member("long-link", "top/l", tarfile.SYMTYPE, {"linkname": "x" * 101}),
    Member("non-ascii", "top/é", tarfile.REGTYPE, {}),
    Member("nul", "top/a\0b", tarfile.REGTYPE, {}),
    Member("huge-uid", "top/a", tarfile.REGTYPE, {"uid": 8**7}),
    Member("huge-size", "top/a", tarfile.REGTYPE, {"size": 8**11}),
    Member("negative-mtime", "top/a", tarfile.REGTYPE, {"mtime": -1}),
    Member("fractional-mtime", "top/a", tarfile.REGTYPE, {"mtime": 1.5}),
    Member("long-owner", "top/a", tarfile.REGTYPE, {"uname": "u" * 33}),
    Member("device", "top/c", tarfile.CHRTYPE, {}),
]


@pytest.mark.parametrize("member", FITS, ids=[m.test_id for m in FITS])
def test_a_member_that_fits_gets_tarfiles_own_ustar_block(member: Member) -> None:
    info = _info(member)
    block = header.encode(info)
    assert block == info.tobuf(tarfile.USTAR_FORMAT)
    assert block == info.tobuf(tarfile.PAX_FORMAT, header.ENCODING, header.ERRORS)  # what the filter wrote before
    back = tarfile.TarInfo.frombuf(block, "utf-8", "strict")
    assert (back.name, back.linkname, back.size, back.mode) == (info.name, info.linkname, info.size, info.mode)


@pytest.mark.parametrize("member", NEEDS_PAX, ids=[m.test_id for m in NEEDS_PAX])
def test_a_member_that_does_not_fit_gets_a_pax_header(member: Member) -> None:
    info = _info(member)
    assert header.ustar(info) is None
    assert header.encode(info) == info.tobuf(tarfile.PAX_FORMAT, header.ENCODING, header.ERRORS)
