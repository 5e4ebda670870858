"""Shared, applied test infrastructure on the real Incus daemon.

One session fixture writes an infra directory (domains ``ak1`` and ``ak2``,
NAT off, subnets 10.170.7.0/24 and 10.180.7.0/24, image
``anklume/debian-12``), runs ``anklume sync`` and ``anklume domain apply``
once, and hands it to every end-to-end test. At the end it removes exactly
what it created: it lifts the protection of its own instances, then deletes
its instances, profiles, images, projects and bridges. Nothing else is
touched; every ``--prune`` in these tests names its domains.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from anklume.errors import IncusError
from anklume.incus.run import query as incus_query
from tests.e2e import teardown

ANKLUME = str(Path(sys.executable).parent / "anklume")
IMAGE = "anklume/debian-12"
DOMAINS = ("ak1", "ak2", "ak3", "ak4", "ak5", "ak6")
APPLY_TIMEOUT = 900

BASE_INFRA = """\
project_name: anklume-e2e
global:
  addressing: {{base_octet: 10, zone_base: 170, zone_step: 10}}
  default_os_image: {image}
domains:
  ak1:
    trust_level: admin
    subnet_id: 7
    nat: false
    profiles:
      aksmall:
        config:
          limits.cpu: "1"
          limits.memory: 256MiB
    machines:
      ak1-web:
        ip: 10.170.7.10
        profiles: [default, aksmall]
        config:
          user.e2e.color: blue
          boot.autostart: "false"
        devices:
          ak-data:
            type: disk
            source: {data}
            path: /srv/e2e
      ak1-old:
        ephemeral: true
      ak1-keep: {{}}
  ak2:
    trust_level: trusted
    subnet_id: 7
    nat: false
    ephemeral: true
    machines:
      ak2-app:
        config:
          user.e2e.size: small
"""

_DONE = re.compile(r"apply done: (\d+) changes?")


@dataclass
class Run:
    """One finished ``anklume`` command."""

    rc: int
    stdout: str
    stderr: str

    @property
    def changes(self) -> int:
        """The number of changes ``domain apply`` reported (-1 when it did not finish)."""
        found = _DONE.search(self.stderr)
        return int(found.group(1)) if found else -1


@dataclass
class E2EInfra:
    """An infra directory applied on the real daemon, plus helpers to inspect it."""

    directory: Path
    data_dir: Path
    lock_file: Path
    first: Run = field(default_factory=lambda: Run(-1, "", ""))

    def env(self) -> dict[str, str]:
        """The environment of every anklume command of the tests."""
        env = dict(os.environ)
        env["ANKLUME_SKIP_HOST_SUBNET_CHECK"] = "1"
        env["ANKLUME_LOCK_FILE"] = str(self.lock_file)
        # the applies of the tests must not replace the host's own table nor its boot file
        env["ANKLUME_NFT_TABLE"] = "anklume_e2e_apply"
        env["ANKLUME_ETC"] = str(self.lock_file.parent / "etc")
        return env

    def argv(self, *args: str) -> list[str]:
        """The argv of ``anklume -C DIR ARGS``."""
        return [ANKLUME, "-C", str(self.directory), *args]

    def anklume(self, *args: str, timeout: float = APPLY_TIMEOUT) -> Run:
        """Run ``anklume -C DIR ARGS`` and return its outcome."""
        proc = subprocess.run(
            self.argv(*args), env=self.env(), capture_output=True, text=True, timeout=timeout, check=False
        )
        return Run(proc.returncode, proc.stdout, proc.stderr)

    def write(self, text: str) -> None:
        """Replace infra.yml and sync the generated files."""
        (self.directory / "infra.yml").write_text(text, encoding="utf-8")
        synced = self.anklume("sync", "--clean-orphans")
        assert synced.rc == 0, synced.stdout + synced.stderr

    def apply(self, *args: str) -> Run:
        """Run ``domain apply`` and fail the test with its output when it fails."""
        result = self.anklume("domain", "apply", *args)
        assert result.rc == 0, result.stdout[-4000:] + result.stderr[-2000:]
        return result

    def instances(self) -> dict[str, dict[str, Any]]:
        """Every live instance of the test projects, by name."""
        live = incus_query(["list", "--all-projects"])
        return {i["name"]: i for i in live if i.get("project") in DOMAINS}

    def profile(self, name: str, project: str) -> dict[str, Any]:
        """One live profile."""
        profiles = incus_query(["profile", "list"], project=project)
        found = [p for p in profiles if p.get("name") == name]
        assert found, f"no profile {name} in project {project}"
        return dict(found[0])


def base_infra(data_dir: Path) -> str:
    """The infra.yml of the shared fixture."""
    return BASE_INFRA.format(image=IMAGE, data=data_dir)


HOST_DIRS = Path("/srv/anklume-e2e")


def host_tmp(prefix: str) -> Path:
    """Return a fresh directory for the host paths an infra mounts (disks, shares, persistent data).

    Not under /tmp: a disk source there (like any host system path) needs --yolo.
    """
    HOST_DIRS.mkdir(mode=0o700, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=prefix, dir=HOST_DIRS))


def _existing(argv: list[str]) -> list[dict[str, Any]]:
    try:
        data = incus_query(argv)
    except IncusError:
        return []
    return data if isinstance(data, list) else []


def cleanup(domains: tuple[str, ...] = DOMAINS) -> None:
    """Remove every resource of the test domains (and only those), and the table the tests' applies deploy."""
    teardown.remove(domains, bridges=[f"net-{d}" for d in domains], tables=["anklume_e2e_apply"])


@pytest.fixture(scope="session")
def applied(tmp_path_factory: pytest.TempPathFactory) -> Iterator[E2EInfra]:
    """The shared infra, synced and applied once for the whole session."""
    if any(p.get("name") in DOMAINS for p in _existing(["project", "list"])):
        cleanup()  # leftovers of an interrupted earlier session of these same tests
    root = tmp_path_factory.mktemp("e2e-infra")
    infra = E2EInfra(root / "infra", host_tmp("ak-data-"), root / "apply.lock")
    infra.directory.mkdir()
    (infra.data_dir / "hello.txt").write_text("hello\n", encoding="utf-8")
    try:
        infra.write(base_infra(infra.data_dir))
        infra.first = infra.apply()
        yield infra
    finally:
        cleanup()
        shutil.rmtree(infra.data_dir, ignore_errors=True)


@pytest.fixture(scope="session", autouse=True)
def _second_layer_left_as_found() -> Iterator[None]:
    """Remove, at the end of the session, every second-layer ip rule the tests added.

    The infras of these tests deploy their second layer (``ip rule`` entries
    tagged ``protocol 173``); a ``blackhole`` towards a test subnet would
    outlive the test and the bridge it named. Rules present before the
    session (a real infra of this host) are kept.
    """
    from anklume.network import layer_live
    from anklume.network.layer import END

    if shutil.which("ip") is None:  # no ip(8): no second layer to clean up after
        yield
        return
    before = layer_live.live()
    yield
    added = sorted(layer_live.live() - before, key=lambda r: (r.pref == END, r.pref))  # gotos before their target
    for rule in added:
        subprocess.run([layer_live.binary(), "-4", "rule", "del", *rule.args()], capture_output=True, check=False)
