"""The anklume base image on a real Incus: a container launches from it and has python3.

The image is built only when it is missing (as root); it is never rebuilt here.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Iterator

import pytest

from anklume import incus
from anklume.cli.main import main
from anklume.image import ImageSpec, build, default_alias
from anklume.image.mirror import configured_mirror

pytestmark = pytest.mark.incus

ALIAS = default_alias("bookworm")


@pytest.fixture(scope="module")
def image() -> str:
    """The bookworm base image alias, built once when missing."""
    if not any(entry["name"] == ALIAS for entry in incus.query(["image", "alias", "list"]) or []):
        if os.geteuid() != 0:
            pytest.skip(f"image {ALIAS} is missing and building it needs root")
        build(ImageSpec.make("bookworm", None, configured_mirror()), if_missing=True)
    return ALIAS


@pytest.fixture
def incus_project() -> Iterator[str]:
    """A throwaway project that uses the default project's images."""
    name = f"anklume-t-{secrets.token_hex(4)}"
    incus.run(["project", "create", name, "--config", "features.images=false"])
    try:
        yield name
    finally:
        for inst in incus.query(["list"], project=name) or []:
            incus.run(["delete", "--force", inst["name"]], project=name, check=False)
        incus.run(["project", "delete", name], check=False)


def _first_pool() -> str:
    pools = incus.query(["storage", "list"]) or []
    if not pools:
        pytest.skip("no storage pool (run scripts/incus-setup.sh)")
    return str(pools[0]["name"])


def test_container_from_image_runs_python3(image: str, incus_project: str) -> None:
    # No profile and no NIC: the test needs no network, only a root disk.
    incus.run(["launch", image, "c1", "--no-profiles", "--storage", _first_pool()], project=incus_project)
    deadline = time.monotonic() + 60
    state = ""
    while time.monotonic() < deadline:
        state = incus.query(["list", "c1"], project=incus_project)[0]["status"]
        if state == "Running":
            break
        time.sleep(0.5)
    assert state == "Running"
    proc = incus.run(
        ["exec", "c1", "--", "python3", "-c", "import apt, sys; print(sys.version_info[0])"],
        project=incus_project,
    )
    assert proc.stdout.strip() == "3"
    hostname = incus.run(["exec", "c1", "--", "cat", "/etc/hostname"], project=incus_project)
    assert hostname.stdout.strip() == "c1"


def test_image_metadata(image: str) -> None:
    info = incus.query(["query", f"/1.0/images/aliases/{image.replace('/', '%2F')}"])
    details = incus.query(["query", f"/1.0/images/{info['target']}"])
    assert details["properties"]["os"] == "debian"
    assert details["properties"]["release"] == "bookworm"
    assert details["type"] == "container"


def test_build_if_missing_is_quick_when_present(image: str) -> None:
    start = time.monotonic()
    assert main(["image", "build", "--if-missing", "--alias", image]) == 0
    assert time.monotonic() - start < 30
