"""``anklume import`` on instances made with raw ``incus`` commands: import → sync → check creates nothing.

The test builds, by hand, what a user without anklume would have: projects
``im1`` and ``im2``, bridges ``net-im1`` (10.132.0.0/24) and ``net-im2``
(10.133.0.0/24) with NAT off, a custom profile, and two containers (created, not started) in
``im1`` (one protected, one with an environment key holding a secret). It
imports them, syncs, and asks ``domain check --adopt``: nothing may be
created, recreated, missing or in conflict. The secret never reaches the
file nor the output. At the end exactly those projects and bridges are removed.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from anklume.incus.run import run as incus_run
from tests.e2e import teardown

pytestmark = [pytest.mark.incus, pytest.mark.slow]

ANKLUME = str(Path(sys.executable).parent / "anklume")
IMAGE = "anklume/debian-12"
PROJECTS = ("im1", "im2")
BRIDGES = {"im1": "10.132.0.254/24", "im2": "10.133.0.254/24"}
SECRET = "hunter2-e2e-im"
TABLE = "anklume_e2e_im"
#: Verbs of a plan that would make or replace something (or stop the run): none may appear.
FORBIDDEN = ("create", "recreate", "needs-recreate", "missing", "conflict")


def incus(*args: str, project: str | None = None) -> None:
    """One raw incus command, as a user would type it."""
    incus_run(list(args), project=project)


def cleanup() -> None:
    """Remove the test's projects (with their instances) and bridges, and only those."""
    teardown.remove(PROJECTS, bridges=[f"net-{p}" for p in PROJECTS], tables=[TABLE])


def anklume(directory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``anklume -C DIR ARGS`` with this test's lock, table and etc directory."""
    env = dict(os.environ)
    env.update(
        ANKLUME_SKIP_HOST_SUBNET_CHECK="1",
        ANKLUME_LOCK_FILE=str(directory.parent / "apply.lock"),
        ANKLUME_NFT_TABLE=TABLE,
        ANKLUME_ETC=str(directory.parent / "etc"),
        COLUMNS="250",
    )
    argv = [ANKLUME, "-C", str(directory), *args]
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600, check=False)


@pytest.fixture(scope="module")
def raw_incus() -> Iterator[None]:
    """Two projects, two bridges, a profile and two containers, made with raw incus commands."""
    cleanup()
    try:
        for name, address in BRIDGES.items():
            incus("network", "create", f"net-{name}", f"ipv4.address={address}", "ipv4.nat=false", "ipv6.address=none")
            incus("project", "create", name, "-c", "features.images=false", "-c", "features.storage.volumes=false")
            incus("profile", "device", "add", "default", "root", "disk", "path=/", "pool=default", project=name)
            incus(
                "profile", "device", "add", "default", "eth0", "nic", f"network=net-{name}", "name=eth0", project=name
            )
        incus("profile", "create", "imsmall", project="im1")
        incus("profile", "set", "imsmall", "limits.cpu=1", project="im1")
        incus(
            "init", IMAGE, "im1-web", "--profile", "default", "--profile", "imsmall",
            "-c", "limits.memory=256MiB", "-c", f"environment.API_TOKEN={SECRET}",
            "-d", "eth0,ipv4.address=10.132.0.10", project="im1",
        )  # fmt: skip
        incus(
            "init", IMAGE, "im1-db", "-c", "security.protection.delete=true",
            "-d", "eth0,ipv4.address=10.132.0.11", project="im1",
        )  # fmt: skip
        yield
    finally:
        cleanup()


def plan_verbs(stdout: str) -> list[str]:
    """The action column of the plan table ``domain check`` prints."""
    return re.findall(r"^\s*([a-z-]+)[\s│|]+(?:project|network|profile|instance|image)[\s│|]", stdout, re.MULTILINE)


def test_import_then_sync_then_check_creates_nothing(raw_incus: None, tmp_path: Path) -> None:
    directory = tmp_path / "infra"
    directory.mkdir()
    (tmp_path / "etc").mkdir()
    done = anklume(directory, "import", "-p", "im1", "-p", "im2", "--name", "anklume-e2e-im")
    assert done.returncode == 0, done.stdout + done.stderr
    text = (directory / "infra.yml").read_text(encoding="utf-8")
    assert SECRET not in text + done.stdout + done.stderr
    assert "environment.API_TOKEN" in done.stderr  # named, not printed
    doc = yaml.safe_load(text)
    machines = doc["domains"]["im1"]["machines"]
    assert machines["im1-web"]["ip"] == "10.132.0.10", text
    assert machines["im1-web"]["profiles"] == ["default", "imsmall"], text
    assert machines["im1-web"]["config"] == {"limits.memory": "256MiB"}, text
    assert doc["domains"]["im1"]["ephemeral"] is False, text  # the protected one stays protected
    assert "ephemeral" not in machines["im1-db"], text
    assert machines["im1-web"]["ephemeral"] is True, text
    assert doc["domains"]["im1"]["profiles"]["imsmall"] == {"config": {"limits.cpu": "1"}}, text
    assert doc["domains"]["im2"]["machines"] == {}, text
    assert {d["nat"] for d in doc["domains"].values()} == {False}, text

    again = anklume(directory, "import", "-p", "im1")
    assert again.returncode == 2, again.stdout + again.stderr
    assert "--force" in again.stderr

    synced = anklume(directory, "sync")
    assert synced.returncode == 0, synced.stdout + synced.stderr
    checked = anklume(directory, "domain", "check", "--adopt")
    assert checked.returncode in (0, 3), checked.stdout[-4000:] + checked.stderr[-3000:]
    verbs = plan_verbs(checked.stdout)
    assert checked.returncode == 0 or verbs, checked.stdout  # the table was read
    assert not [v for v in verbs if v in FORBIDDEN], checked.stdout
    assert set(verbs) <= {"update"}, checked.stdout  # adoption and anklume's own hardening, nothing else
