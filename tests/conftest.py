"""Shared pytest configuration.

Tests marked ``incus`` need a real Incus daemon. ``make test`` installs and
starts one when run as root (scripts/incus-setup.sh); where that cannot
happen, those tests are skipped and the reason is printed in the summary.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


@functools.cache
def incus_unavailable_reason() -> str | None:
    """Return why a real Incus cannot be used, or None when it can."""
    binary = os.environ.get("ANKLUME_INCUS", "incus")
    if shutil.which(binary) is None:
        return f"no '{binary}' client on PATH (run 'make incus' as root to install Incus)"
    try:
        proc = subprocess.run(
            [binary, "query", "/1.0"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return "the Incus daemon did not answer 'incus query /1.0' within 30 s"
    if proc.returncode != 0:
        return f"the Incus daemon is not reachable: {proc.stderr.strip()[-200:]}"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip ``incus`` tests, saying why, when no daemon can be used."""
    del config
    if not any(item.get_closest_marker("incus") for item in items):
        return
    reason = incus_unavailable_reason()
    if reason is None:
        return
    if os.environ.get("ANKLUME_REQUIRE_INCUS") == "1":
        msg = f"ANKLUME_REQUIRE_INCUS=1 but {reason}"
        raise pytest.UsageError(msg)
    marker = pytest.mark.skip(reason=f"Incus unavailable: {reason}")
    for item in items:
        if item.get_closest_marker("incus"):
            item.add_marker(marker)


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Give every test its own $HOME so nothing reads or writes the user's."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("ANKLUME_SKIP_HOST_SUBNET_CHECK", "1")
    yield


REPO = Path(__file__).resolve().parent.parent
