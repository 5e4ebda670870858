"""Errors of the network layer (nftables and active probing)."""

from __future__ import annotations

from anklume.errors import AnklumeError, CommandFailed


class NetworkError(AnklumeError):
    """A network operation (nftables, probing) failed."""


class NftFailed(NetworkError, CommandFailed):
    """An ``nft`` command exited non-zero."""

    def __init__(self, argv: list[str], rc: int, stderr: str) -> None:
        self.argv = argv
        self.rc = rc
        self.stderr = stderr
        tail = stderr.strip().splitlines()[-4:]
        super().__init__(f"'{' '.join(argv)}' failed (exit {rc}): {' / '.join(tail)}")


class NftNotFound(NetworkError):
    """No ``nft`` binary."""

    def __init__(self, binary: str) -> None:
        self.binary = binary
        super().__init__(f"'{binary}' not found: install nftables (apt-get install nftables)")


class ProbeRefused(NetworkError):
    """A probe target is not an anklume instance or bridge address."""

    exit_code = 2

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__(f"refusing to probe {address}: not an anklume instance IP nor an anklume bridge gateway")
