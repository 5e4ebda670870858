"""File data duplicated from pipe to pipe with tee(2): the same bytes arrive, hashed once."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import pytest

from anklume.portal import pipes, scripts, transfer


def test_tee_duplicates_what_waits_without_consuming_it() -> None:
    (src_r, src_w), (dst_r, dst_w) = os.pipe(), os.pipe()
    try:
        with open(src_r, "rb", buffering=0, closefd=False) as source, open(dst_w, "wb", closefd=False) as sink:
            tee = pipes.between(source, sink)
            if tee is None:
                pytest.skip("this system has no tee(2)")
            os.write(src_w, b"abcdef")
            assert tee(4) == 4
            assert os.read(dst_r, 10) == b"abcd"
            assert os.read(src_r, 10) == b"abcdef"  # still there for the filter to read and hash
    finally:
        for fd in (src_r, src_w, dst_r, dst_w):
            os.close(fd)


def test_no_tee_unless_both_sides_are_pipes(tmp_path: Path) -> None:
    read_end, write_end = os.pipe()
    try:
        with open(tmp_path / "f", "wb") as regular, open(read_end, "rb", closefd=False) as pipe:
            assert pipes.between(pipe, regular) is None
            assert pipes.between(io.BytesIO(), pipe) is None
    finally:
        os.close(read_end)
        os.close(write_end)


def test_large_files_cross_through_tee_byte_for_byte(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = pipes._TEE
    if real is None:
        pytest.skip("this system has no tee(2)")
    calls: list[int] = []

    def counted(*args: int) -> int:
        calls.append(args[2])
        return real(*args)

    monkeypatch.setattr(pipes, "_TEE", counted)
    src, dst = tmp_path / "src", tmp_path / "dst"
    (src / "top").mkdir(parents=True)
    dst.mkdir()
    big = os.urandom(3 << 20) + b"tail"  # several tee calls, then a short end
    (src / "top" / "big").write_bytes(big)
    (src / "top" / "small").write_bytes(b"s" * 100)
    summary = transfer.run(
        scripts.argv(None, None, scripts.SEND, str(src), "top"),
        scripts.argv(None, None, scripts.RECEIVE, str(dst), "copy", *scripts.HOST_TAR),
        "top",
        "copy",
        clear_setid=True,
        progress=lambda _s: None,
    )
    assert calls  # the big file went through tee
    assert (dst / "copy" / "big").read_bytes() == big
    hashes = {f.path: f.sha256 for f in summary.files}
    assert hashes["copy/big"] == hashlib.sha256(big).hexdigest()
    assert hashes["copy/small"] == hashlib.sha256(b"s" * 100).hexdigest()
