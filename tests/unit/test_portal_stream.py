"""The tar filter against a hostile sender, and one real copy through local sh and tar."""

from __future__ import annotations

import hashlib
import io
import stat
import tarfile
import typing as t
from pathlib import Path

import pytest

from anklume.errors import AnklumeError
from anklume.portal import scripts, transfer
from anklume.portal.scripts import DONE
from anklume.portal.stream import Filter, UnsafeStream, Unsealed


def archive(*members: tuple[str, str, bytes | str], fmt: int = tarfile.GNU_FORMAT) -> io.BytesIO:
    """A tar of (name, kind, data or link target) members; kind: f, d, l (symlink), h (hard link), c (device)."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=fmt) as tar:
        for name, kind, data in members:
            info = tarfile.TarInfo(name)
            info.type = {"f": tarfile.REGTYPE, "d": tarfile.DIRTYPE, "l": tarfile.SYMTYPE, "h": tarfile.LNKTYPE,
                         "c": tarfile.CHRTYPE}[kind]  # fmt: skip
            if kind in "lh":
                info.linkname = str(data)
            if kind == "f":
                body = data if isinstance(data, bytes) else data.encode()
                info.size, info.mode = len(body), 0o4755 if name.endswith("suid") else 0o640
                tar.addfile(info, io.BytesIO(body))
            else:
                tar.addfile(info)
    out.seek(0)
    return out


def run(src: io.BytesIO, *, seal: bool = True, clear: bool = False) -> tuple[Filter, io.BytesIO]:
    filt = Filter("top", "new", clear_setid=clear, progress=lambda _s: None)
    sink = io.BytesIO()
    filt.run(src, sink, lambda: seal)
    sink.seek(0)
    return filt, sink


def test_members_are_renamed_hashed_and_sealed() -> None:
    filt, sink = run(
        archive(("top", "d", ""), ("top/a", "f", "hello"), ("top/l", "l", "/etc"), ("top/h", "h", "top/a"))
    )
    with tarfile.open(fileobj=sink) as tar:
        assert tar.getnames() == ["new", "new/a", "new/l", "new/h", DONE]
        assert tar.getmember("new/h").linkname == "new/a" and tar.getmember("new/l").linkname == "/etc"
    assert [(f.path, f.size, f.sha256) for f in filt.summary.files] == [
        ("new/a", 5, hashlib.sha256(b"hello").hexdigest())
    ]
    assert filt.summary.bytes == 5


class Hostile(t.NamedTuple):
    test_id: str
    members: list[tuple[str, str, bytes | str]]
    says: str


HOSTILE = [
    Hostile("absolute", [("/etc/passwd", "f", "x")], "absolute name"),
    Hostile("dotdot", [("top/../x", "f", "x")], "'.' or '..'"),
    Hostile("dot", [("top/./x", "f", "x")], "'.' or '..'"),
    Hostile("other-top", [("other/x", "f", "x")], "not below 'top'"),
    Hostile("through-link", [("top/l", "l", "/etc"), ("top/l/passwd", "f", "x")], "below a link"),
    Hostile("over-link", [("top/l", "l", "/etc"), ("top/l", "f", "x")], "below a link"),
    Hostile("hardlink-outside", [("top/h", "h", "/etc/shadow")], "absolute name"),
    Hostile("hardlink-unsent", [("top/h", "h", "top/later")], "not a file sent before"),
    Hostile("hardlink-to-link", [("top/l", "l", "/etc/shadow"), ("top/h", "h", "top/l")], "not a file sent before"),
]


@pytest.mark.parametrize("case", HOSTILE, ids=[h.test_id for h in HOSTILE])
def test_hostile_members_are_refused_and_the_stream_is_never_sealed(case: Hostile) -> None:
    filt = Filter("top", "new", clear_setid=False, progress=lambda _s: None)
    sink = io.BytesIO()
    with pytest.raises(UnsafeStream, match=case.says):
        filt.run(archive(("top", "d", ""), *case.members), sink, lambda: True)
    assert DONE.encode() not in sink.getvalue()


def test_devices_are_skipped_and_setid_cleared_when_asked() -> None:
    filt, sink = run(archive(("top", "d", ""), ("top/dev", "c", ""), ("top/suid", "f", "x")), clear=True)
    with tarfile.open(fileobj=sink) as tar:
        assert tar.getnames() == ["new", "new/suid", DONE]
        assert tar.getmember("new/suid").mode == 0o755
    assert filt.summary.skipped == ["new/dev"] and filt.summary.setid_cleared == 1
    _, kept = run(archive(("top", "d", ""), ("top/suid", "f", "x")))
    with tarfile.open(fileobj=kept) as tar:
        assert tar.getmember("new/suid").mode == 0o4755


def test_an_unsuccessful_sender_leaves_the_stream_unsealed() -> None:
    with pytest.raises(Unsealed):
        run(archive(("top/a", "f", "x")), seal=False)


def _local(script: str, *args: str) -> list[str]:
    return scripts.argv(None, None, script, *args)


def test_a_real_copy_through_sh_and_tar_keeps_modes_and_content(tmp_path: Path) -> None:
    src, dst = tmp_path / "src", tmp_path / "dst"
    (src / "top" / "sub").mkdir(parents=True)
    dst.mkdir()
    (src / "top" / "sub" / "f").write_bytes(b"data" * 1000)
    (src / "top" / "sub" / "f").chmod(0o604)
    (src / "top" / "l").symlink_to("/etc/passwd")
    summary = transfer.run(
        _local(scripts.SEND, str(src), "top"),
        _local(scripts.RECEIVE, str(dst), "copy", *scripts.HOST_TAR),
        "top",
        "copy",
        clear_setid=True,
        progress=lambda _s: None,
    )
    assert (dst / "copy" / "sub" / "f").read_bytes() == b"data" * 1000
    assert stat.S_IMODE((dst / "copy" / "sub" / "f").stat().st_mode) == 0o604
    assert (dst / "copy" / "l").readlink() == Path("/etc/passwd")
    assert sorted(p.name for p in dst.iterdir()) == ["copy"]  # no staging directory left
    assert [f.path for f in summary.files] == ["copy/sub/f"]


def test_a_failing_sender_keeps_nothing(tmp_path: Path) -> None:
    (tmp_path / "dst").mkdir()
    with pytest.raises(transfer.TransferFailed, match="sending side failed"):
        transfer.run(
            _local(scripts.SEND, str(tmp_path / "missing"), "top"),
            _local(scripts.RECEIVE, str(tmp_path / "dst"), "top"),
            "top",
            "top",
            clear_setid=False,
            progress=lambda _s: None,
        )
    assert list((tmp_path / "dst").iterdir()) == []


def test_garbage_from_the_sender_keeps_nothing(tmp_path: Path) -> None:
    (tmp_path / "dst").mkdir()
    with pytest.raises(AnklumeError, match="not a valid tar archive"):
        transfer.run(
            ["sh", "-c", "head -c 5000 /dev/urandom"],
            _local(scripts.RECEIVE, str(tmp_path / "dst"), "top"),
            "top",
            "top",
            clear_setid=False,
            progress=lambda _s: None,
        )
    assert list((tmp_path / "dst").iterdir()) == []


def test_the_receiver_refuses_a_directory_swapped_for_a_link(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "swapped").symlink_to(tmp_path / "real")
    with pytest.raises(transfer.TransferFailed, match="changed or vanished"):
        transfer.run(
            _local(scripts.SEND, str(tmp_path), "real"),
            _local(scripts.RECEIVE, str(tmp_path / "swapped"), "copy"),
            "real",
            "copy",
            clear_setid=False,
            progress=lambda _s: None,
        )
    assert list((tmp_path / "real").iterdir()) == []


@pytest.mark.parametrize(
    "fmt", [tarfile.GNU_FORMAT, tarfile.PAX_FORMAT, tarfile.USTAR_FORMAT], ids=["gnu", "pax", "ustar"]
)
def test_long_names_and_links_of_every_format_cross(fmt: int) -> None:
    deep = "top/" + "/".join(["d" * 60] * 2) + "/é-file"
    link = "top/" + "l" * 50 + "/" + "k" * 60
    members: list[tuple[str, str, bytes | str]] = [("top", "d", ""), (deep, "f", "x" * 1000), (link, "h", deep)]
    if fmt == tarfile.USTAR_FORMAT:  # ustar has no link names longer than 100: a short symbolic link
        members[2] = (link, "l", "target")
    filt, sink = run(archive(*members, fmt=fmt))
    with tarfile.open(fileobj=sink) as tar:
        names = tar.getnames()
        linked = "target" if fmt == tarfile.USTAR_FORMAT else "new" + deep[3:]
        assert names[1:3] == ["new" + deep[3:], "new" + link[3:]] and tar.getmember(names[2]).linkname == linked
    assert filt.summary.files[0].sha256 == hashlib.sha256(b"x" * 1000).hexdigest()


class Broken(t.NamedTuple):
    test_id: str
    data: bytes
    says: str


def _bad_checksum() -> bytes:
    raw = bytearray(archive(("top", "d", "")).getvalue())
    raw[0] ^= 1
    return bytes(raw)


BROKEN = [
    Broken("garbage", b"\x01" * 2048, "bad header"),
    Broken("checksum", _bad_checksum(), "bad header"),
    Broken("truncated", archive(("top", "d", ""), ("top/a", "f", "x" * 5000)).getvalue()[:2000], "ended in the middle"),
    Broken("trailing", archive(("top", "d", "")).getvalue() + b"\x01" * (2 << 20), "after the end"),
]


@pytest.mark.parametrize("case", BROKEN, ids=[b.test_id for b in BROKEN])
def test_a_broken_stream_is_an_error_never_sealed(case: Broken) -> None:
    sink = io.BytesIO()
    with pytest.raises(AnklumeError, match=case.says):
        Filter("top", "new", clear_setid=False, progress=lambda _s: None).run(io.BytesIO(case.data), sink, lambda: True)
    assert DONE.encode() not in sink.getvalue()
