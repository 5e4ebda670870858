"""Every "command X failed (exit N)" error is a :class:`CommandFailed`, with its message unchanged."""

from __future__ import annotations

import typing as t

import pytest

from anklume.devtools.tools import ToolFailed
from anklume.errors import AnklumeError, CommandFailed, IncusCommandFailed, IncusError
from anklume.image.command import ImageBuildFailed
from anklume.network.errors import NetworkError, NftFailed

ERR = "w\nx\ny\nz: boom\n"


class Failure(t.NamedTuple):
    test_id: str
    error: CommandFailed
    family: type[AnklumeError]
    message: str


FAILURES = [
    Failure(
        "incus",
        IncusCommandFailed(["incus", "start", "web"], 1, ERR),
        IncusError,
        "'incus start web' failed (exit 1): x / y / z: boom",
    ),
    Failure(
        "nft",
        NftFailed(["nft", "-f", "-"], 1, ERR),
        NetworkError,
        "'nft -f -' failed (exit 1): w / x / y / z: boom",
    ),
    Failure(
        "image-build",
        ImageBuildFailed("debootstrap", ["debootstrap", "bookworm"], 2, ERR),
        CommandFailed,
        "image build step 'debootstrap' failed: 'debootstrap bookworm' exit 2: w / x / y / z: boom",
    ),
    Failure(
        "tool", ToolFailed(["/usr/bin/ruff", "check"], 1, ERR), CommandFailed, "ruff failed (exit 1): x / y / z: boom"
    ),
]


@pytest.mark.parametrize("case", FAILURES, ids=[c.test_id for c in FAILURES])
def test_command_failures_share_one_base(case: Failure) -> None:
    assert isinstance(case.error, CommandFailed)
    assert isinstance(case.error, case.family)
    assert (case.error.argv[-1], case.error.rc) in {("web", 1), ("-", 1), ("bookworm", 2), ("check", 1)}
    assert str(case.error) == case.message
    with pytest.raises(CommandFailed):
        raise case.error
