"""Host directories of shared volumes and persistent data, on the real daemon.

Root of an unprivileged container is host uid 1000000, but a ``shift: true``
disk (the default for shares, always for persistent data) is an idmapped
mount: what container root writes there is owned by host root, setuid bit
included. The directories anklume creates are therefore private to root
(0700): the container still writes to them, a host user cannot reach a
setuid file planted from inside. Existing directories keep their mode.

One untrusted domain ``pv1`` (10.233.9.0/24, NAT off), its host directories
in a fresh directory under /srv (a disk under /tmp needs --yolo), its own nft
table ``anklume_e2e_pv``; everything is removed at the end. Its infra declares
a profile that needs ``--yolo``, so the apply also proves that the option
reaches the ``anklume network deploy`` that the playbook runs.
"""

from __future__ import annotations

import contextlib
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from anklume.incus.run import query as incus_query
from tests.e2e import teardown
from tests.e2e.conftest import IMAGE, E2EInfra, Run

pytestmark = pytest.mark.incus

DOMAIN = "pv1"
MACHINE = "pv1-box"
TABLE = "anklume_e2e_pv"
HOST_ROOT = Path("/srv/anklume-e2e-pv")
# runuser, not setpriv: setpriv still holds root's capabilities when it execs, so the
# kernel resolves the path with DAC override and a 0700 directory does not stop it
NOBODY = ["runuser", "-u", "nobody", "--"]

INFRA = """\
project_name: anklume-e2e-pv
global:
  addressing: {{base_octet: 10, zone_base: 230, zone_step: 1}}
  default_os_image: {image}
  persistent_data_base: {root}/pd
  shared_volumes_base: {root}/sv
domains:
  pv1:
    trust_level: untrusted
    subnet_id: 9
    nat: false
    ephemeral: true
    profiles:
      pvsched:  # used by no machine, yet declared: it needs --yolo
        config: {{security.syscalls.intercept.sched_setscheduler: "true"}}
    machines:
      pv1-box:
        persistent_data:
          keep: {{path: /srv/keep}}
shared_volumes:
  drop:
    consumers: {{pv1: rw}}
  sticky:
    source: {root}/sticky
    consumers: {{pv1-box: rw}}
"""


class PvInfra(E2EInfra):
    """This module's infra: its own nft table and boot file directory."""

    def env(self) -> dict[str, str]:
        """The shared test environment, with this module's nft table."""
        env = super().env()
        env["ANKLUME_NFT_TABLE"] = TABLE
        return env


@dataclass(frozen=True)
class Scene:
    """The applied infra and the host directories it uses."""

    infra: PvInfra
    root: Path
    refused: Run
    applied: Run

    @property
    def share(self) -> Path:
        return self.root / "sv" / "drop"

    @property
    def data(self) -> Path:
        return self.root / "pd" / DOMAIN / MACHINE / "keep"


def _cleanup() -> None:
    """Remove this module's instance, project, bridge and table (and nothing else)."""
    teardown.remove([DOMAIN], bridges=[f"net-{DOMAIN}"], tables=[TABLE])
    assert DOMAIN not in teardown.names(["project", "list"]), f"project {DOMAIN} could not be deleted"


def in_box(*argv: str) -> subprocess.CompletedProcess[str]:
    """Run a command as root in the container."""
    return subprocess.run(
        ["incus", "exec", MACHINE, "--project", DOMAIN, "--", *argv], capture_output=True, text=True, check=False
    )


def as_nobody(*argv: str) -> subprocess.CompletedProcess[str]:
    """Run a command on the host as the unprivileged user nobody."""
    return subprocess.run([*NOBODY, *argv], capture_output=True, text=True, check=False)


@pytest.fixture(scope="module")
def scene() -> Iterator[Scene]:
    """Apply the infra once: the container, its share and its persistent data."""
    _cleanup()  # leftovers of an interrupted earlier run
    HOST_ROOT.mkdir(mode=0o700, exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="run-", dir=HOST_ROOT))
    try:
        # like /srv/anklume on a host: traversable by everyone, so only the modes anklume picks protect
        for path in (HOST_ROOT, root):
            path.chmod(0o755)
        (root / "sv").mkdir(mode=0o755)  # an existing parent: left as it is
        (root / "sticky").mkdir()
        (root / "sticky").chmod(0o1777)  # an existing share like /tmp: keeps its sticky bit
        infra = PvInfra(root / "infra", root / "data", root / "apply.lock")
        infra.directory.mkdir()
        (infra.directory / "infra.yml").write_text(INFRA.format(image=IMAGE, root=root), encoding="utf-8")
        synced = infra.anklume("sync", "--yolo")
        assert synced.rc == 0, synced.stderr
        refused = infra.anklume("domain", "apply", "--no-provision")
        yield Scene(infra, root, refused, infra.apply("--no-provision", "--yolo"))
    finally:
        _cleanup()
        shutil.rmtree(root, ignore_errors=True)
        with contextlib.suppress(OSError):  # another run of this module may still use it
            HOST_ROOT.rmdir()


def test_an_infra_that_needs_yolo_is_refused_without_it_and_applied_with_it(scene: Scene) -> None:
    where = "infra.yml:15: domains.pv1.profiles.pvsched.config.security.syscalls.intercept.sched_setscheduler"
    assert scene.refused.rc == 2
    assert where in scene.refused.stderr
    assert f"{where}: lets the container change host scheduling priorities (allowed by --yolo)" in scene.applied.stderr
    assert incus_query(["query", f"/1.0/instances/{MACHINE}?project={DOMAIN}"])["status"] == "Running"
    # the host table was deployed by the child 'anklume network deploy', which saw ANKLUME_YOLO
    listed = subprocess.run(["nft", "list", "table", "inet", TABLE], capture_output=True, text=True, check=False)
    assert listed.returncode == 0, listed.stderr
    assert "net-pv1" in listed.stdout


def _modes(path: Path) -> str:
    """Owner and mode of ``path`` and of each of its parents, for failure messages."""
    return ", ".join(f"{p} {p.stat().st_uid}:{oct(_mode(p))}" for p in (path, *path.parents))


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_created_directories_are_private_and_existing_ones_keep_their_mode(scene: Scene) -> None:
    created = [scene.share, scene.data, *scene.data.parents[:3]]  # keep, pv1-box, pv1, pd
    assert [p.name for p in created] == ["drop", "keep", MACHINE, DOMAIN, "pd"]
    for path in created:
        info = path.stat()
        assert (oct(_mode(path)), info.st_uid, info.st_gid) == ("0o700", 0, 0), path
    assert _mode(scene.root / "sv") == 0o755
    assert _mode(scene.root / "sticky") == 0o1777


def test_the_container_writes_to_its_share_and_its_persistent_data(scene: Scene) -> None:
    for inside, host in (
        ("/shared/drop", scene.share),
        ("/srv/keep", scene.data),
        ("/shared/sticky", scene.root / "sticky"),
    ):
        done = in_box("sh", "-c", f"echo written > {inside}/from-box.txt")
        assert done.returncode == 0, done.stderr
        written = host / "from-box.txt"
        assert written.read_text(encoding="utf-8") == "written\n"
        assert written.stat().st_uid == 0  # shifted: container root writes as host root


@pytest.mark.parametrize("where", ["share", "data"])
def test_a_setuid_file_planted_from_the_container_is_out_of_reach_of_host_users(scene: Scene, where: str) -> None:
    host_dir, inside = (scene.share, "/shared/drop") if where == "share" else (scene.data, "/srv/keep")
    planted = in_box("sh", "-c", f"cp /usr/bin/id {inside}/suid-id && chmod 4755 {inside}/suid-id")
    assert planted.returncode == 0, planted.stderr
    suid = host_dir / "suid-id"
    info = suid.stat()
    assert info.st_uid == 0
    assert info.st_mode & stat.S_ISUID  # a real setuid-root binary on the host
    refused = as_nobody(str(suid), "-u")
    assert refused.returncode != 0, _modes(suid)
    assert "Permission denied" in refused.stderr
    assert as_nobody("ls", str(host_dir)).returncode != 0
    # the control: with the 0755 of earlier versions on what anklume created, the same user is root
    opened = [host_dir] if where == "share" else [host_dir, *host_dir.parents[:3]]
    try:
        for path in opened:
            path.chmod(0o755)
        escaped = as_nobody(str(suid), "-u")
        assert (escaped.returncode, escaped.stdout.strip()) == (0, "0"), escaped.stderr
    finally:
        for path in opened:
            path.chmod(0o700)
        suid.unlink()
