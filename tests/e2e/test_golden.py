"""Golden templates on the real daemon, through the CLI: create, derive, publish, apply from the image, list.

Infra ``anklume-e2e-gd``: domain ``gda`` (10.134.0.0/24), NAT off. ``gd-tpl`` is applied (no provisioning), gets a
file, becomes a template; ``gd-copy`` (not declared) is derived from it; the
template is published with its provenance; ``gd-img`` is then declared with
that image as ``os_image`` and applied. A second ``golden create`` makes
both the copy, the image and ``gd-img`` older than the template. At the end
the image, the projects, the bridges and the table are removed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from anklume.incus.run import query as incus_query
from anklume.incus.run import run as incus_run
from tests.e2e import teardown

pytestmark = [pytest.mark.incus, pytest.mark.slow]

ANKLUME = str(Path(sys.executable).parent / "anklume")
DOMAINS = ("gda",)
ALIAS = "anklume-e2e-gd/tpl"
TABLE = "anklume_e2e_gd"
MARK = "made in the template\n"
INFRA = """\
project_name: anklume-e2e-gd
global:
  addressing: {{zone_base: 134, zone_step: 1}}
  default_os_image: anklume/debian-12
domains:
  gda:
    trust_level: admin
    nat: false
    ephemeral: true
    machines:
      gd-tpl:
        ip: 10.134.0.10
        roles: [base_system]
{extra}"""
FROM_IMAGE = f"""\
      gd-img:
        ip: 10.134.0.11
        os_image: {ALIAS}
"""


@dataclass(frozen=True)
class Infra:
    """The test's infra directory."""

    directory: Path

    def anklume(self, *args: str) -> subprocess.CompletedProcess[str]:
        """``anklume -C DIR ARGS`` with the test's lock, table and etc directory."""
        env = dict(os.environ)
        env.update(
            ANKLUME_SKIP_HOST_SUBNET_CHECK="1",
            ANKLUME_LOCK_FILE=str(self.directory.parent / "apply.lock"),
            ANKLUME_NFT_TABLE=TABLE,
            ANKLUME_ETC=str(self.directory.parent / "etc"),
            COLUMNS="250",
        )
        argv = [ANKLUME, "-C", str(self.directory), *args]
        return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600, check=False)

    def ok(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run and require exit 0."""
        done = self.anklume(*args)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        return done

    def write(self, extra: str = "") -> None:
        """Write infra.yml, commit it (the image records the commit) and sync."""
        (self.directory / "infra.yml").write_text(INFRA.format(extra=extra), encoding="utf-8")
        git = ["git", "-C", str(self.directory), "-c", "user.name=e2e", "-c", "user.email=e2e@localhost"]
        subprocess.run([*git, "add", "infra.yml"], check=True, capture_output=True)
        subprocess.run([*git, "commit", "-q", "-m", "infra"], check=True, capture_output=True)
        self.ok("sync")


def cleanup() -> None:
    """Remove the published image, the test's projects, bridges and table (and only those)."""
    incus_run(["image", "delete", ALIAS], check=False)
    teardown.remove(DOMAINS, bridges=[f"net-{d}" for d in DOMAINS], tables=[TABLE])


def cat(project: str, name: str, path: str = "/root/golden.txt") -> str:
    """A file's content inside an instance (running or not)."""
    return incus_run(["file", "pull", f"{name}{path}", "-"], project=project, timeout=60).stdout


def config(project: str, name: str) -> dict[str, Any]:
    """The live config of an instance."""
    return dict(incus_query(["query", f"/1.0/instances/{name}?project={project}"])["config"])


@pytest.fixture(scope="module")
def golden(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Infra]:
    """gd-tpl applied with a file in it, made a template, derived and published."""
    cleanup()
    root = tmp_path_factory.mktemp("golden")
    infra = Infra(root / "infra")
    infra.directory.mkdir()
    (root / "etc").mkdir()
    subprocess.run(["git", "init", "-q", str(infra.directory)], check=True)
    try:
        infra.write()
        infra.ok("domain", "apply", "gda", "--no-provision", "--no-snapshot")
        incus_run(["exec", "gd-tpl", "--", "sh", "-c", f"printf '{MARK}' > /root/golden.txt"], project="gda")
        yield infra
    finally:
        cleanup()


def test_create_derive_publish_apply_and_list(golden: Infra) -> None:
    made = golden.ok("golden", "create", "gd-tpl")
    assert "golden-1" in made.stdout, made.stdout
    tpl = incus_query(["query", "/1.0/instances/gd-tpl?project=gda&recursion=1"])
    assert tpl["status"] == "Stopped"
    assert [s["name"] for s in tpl["snapshots"]] == ["golden-1"]

    derived = golden.ok("golden", "derive", "gd-tpl", "gd-copy", "--domain", "gda", "--no-start")
    assert "plain copy" in derived.stdout and "dir pool" in derived.stdout, derived.stdout
    assert cat("gda", "gd-copy") == MARK  # the template's files
    copy = config("gda", "gd-copy")
    assert copy["image.anklume.golden.origin"] == "gda/gd-tpl/golden-1"
    assert not [k for k in copy if k.startswith("user.anklume.")]  # not declared: not anklume's
    assert "user.anklume.golden.template" not in copy

    golden.ok("golden", "publish", "gd-tpl", "--alias", ALIAS, "--compression", "none")
    props = incus_query(["query", f"/1.0/images/aliases/{ALIAS}"])
    image = incus_query(["query", f"/1.0/images/{props['target']}"])["properties"]
    commit = subprocess.run(
        ["git", "-C", str(golden.directory), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert image["anklume.golden.source"] == "gda/gd-tpl"
    assert image["anklume.golden.origin"] == "gda/gd-tpl/golden-1"
    assert image["anklume.golden.infra_commit"] == commit
    assert image["anklume.golden.roles"].startswith("base_system=")
    assert len(image["anklume.golden.roles"].split("=")[1]) == 16
    assert image["anklume.golden.date"].endswith("Z")

    golden.write(FROM_IMAGE)  # a machine names the golden image as its os_image
    golden.ok("domain", "apply", "gda", "--no-provision", "--no-snapshot")
    assert cat("gda", "gd-img") == MARK
    assert config("gda", "gd-img")["image.anklume.golden.origin"] == "gda/gd-tpl/golden-1"

    listed = golden.anklume("golden", "list")
    assert listed.returncode == 0, listed.stdout + listed.stderr
    golden.ok("golden", "create", "gd-tpl")  # golden-2: everything made from golden-1 is now older
    listed = golden.anklume("golden", "list")
    assert listed.returncode == 3, listed.stdout + listed.stderr
    older = [line for line in listed.stdout.splitlines() if "older" in line]
    assert any("gd-copy" in line for line in older), listed.stdout
    assert any("gd-img" in line for line in older), listed.stdout
    assert any(ALIAS in line for line in older), listed.stdout
