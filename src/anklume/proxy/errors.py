"""Errors of the package proxy."""

from __future__ import annotations

from anklume.errors import AnklumeError


class ProxyError(AnklumeError):
    """The proxy could not be installed, configured or started: ``what`` failed because of ``detail``."""

    exit_code = 1

    def __init__(self, what: str, detail: str) -> None:
        self.what, self.detail = what, detail
        super().__init__(f"package proxy: {what}: {detail}")
