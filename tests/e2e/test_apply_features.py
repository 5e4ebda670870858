"""Converge cases of ``domain apply`` beyond plain instances, on the real daemon.

Own domains ``ak4`` (two machines), ``ak5`` (no machine) and ``ak6`` (one
machine, disabled later), NAT off, subnets 10.190.x and 10.200.x. One module
fixture applies the first version; each later stage (a chain of fixtures, in
file order) edits and applies once more: disable ak6, force the provisioning,
change an image without then with ``--recreate``, edit the custom role, and
a last no-change apply.
Host directories, backups and the nft table live in the test's tmp dirs.
"""

from __future__ import annotations

import shutil
import subprocess
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from anklume.incus.run import query as incus_query
from anklume.incus.run import run as incus_run
from tests.e2e.conftest import IMAGE, E2EInfra, Run, cleanup, host_tmp

pytestmark = [pytest.mark.incus, pytest.mark.slow]

DOMAINS = ("ak4", "ak5", "ak6")
ALT_IMAGE = "anklume-e2e/debian-12-alt"  # a second alias of IMAGE, for the recreate
VOLUME = "ak4-feat-cache"  # storage volume <instance>-<name>, in the default project
NFT_TABLE = "anklume_e2e_feat"
MARKER = "/root/ak-marker.txt"

INFRA = """\
project_name: anklume-e2e-feat
global:
  addressing: {{base_octet: 10, zone_base: 190, zone_step: 10}}
  default_os_image: {image}
  persistent_data_base: {root}/pd
  shared_volumes_base: {root}/sv
domains:
  ak4:
    trust_level: admin
    subnet_id: 4
    nat: false
    machines:
      ak4-feat:
        ephemeral: true
        boot_priority: 42
        snapshots_schedule: "0 3 * * *"
        snapshots_expiry: 7d
        persistent_data:
          notes: {{path: /srv/notes}}
        storage_volumes:
          cache: {{pool: default, size: 64MiB, path: /srv/cache}}
        roles: [ak_marker]
      ak4-rebuild:
        os_image: {rebuild_image}
  ak5:
    trust_level: trusted
    subnet_id: 5
    nat: false
  ak6:
    trust_level: admin
    subnet_id: 6
    nat: false
    enabled: {ak6_enabled}
    machines:
      ak6-idle: {{}}
shared_volumes:
  exchange:
    consumers: {{ak4-feat: rw}}
"""

ROLE = """\
---
- name: Ak_marker | Write the marker file
  ansible.builtin.copy:
    content: "marker of {{ instance_name }} in {{ domain_name }}\\n"
    dest: /root/ak-marker.txt
    mode: "0644"
"""


class FeatInfra(E2EInfra):
    """The module's infra; its applies deploy their own nft table."""

    def env(self) -> dict[str, str]:
        """The shared test environment, with this module's nft table."""
        env = super().env()
        env["ANKLUME_NFT_TABLE"] = NFT_TABLE
        return env


@dataclass
class Scene:
    """The module's infra and what each stage saw."""

    infra: FeatInfra
    root: Path
    runs: dict[str, Run] = field(default_factory=dict)
    before: dict[str, Any] = field(default_factory=dict)

    def write(self, *, ak6_enabled: bool = True, rebuild_image: str = IMAGE) -> None:
        """Write infra.yml for this stage and sync it."""
        self.infra.write(
            INFRA.format(image=IMAGE, root=self.root, ak6_enabled=str(ak6_enabled).lower(), rebuild_image=rebuild_image)
        )

    def apply(self, *args: str) -> Run:
        """Apply the module's domains, with prune naming them."""
        return self.infra.apply(*DOMAINS, "--prune", *args)


def instance(name: str, project: str) -> dict[str, Any]:
    """One live instance (``incus query``, the raw API object)."""
    return dict(incus_query(["query", f"/1.0/instances/{name}?project={project}&recursion=1"]))


def in_container(name: str, project: str, *argv: str) -> subprocess.CompletedProcess[str]:
    """Run a command inside a container."""
    return incus_run(["exec", name, "--", *argv], project=project, check=False, timeout=60)


def _remove_leftovers() -> None:
    """Remove what this module creates; conftest.cleanup does not know custom volumes."""
    cleanup(DOMAINS)  # instances first: a volume still attached cannot be deleted
    incus_run(["storage", "volume", "delete", "default", VOLUME], project="default", check=False)
    incus_run(["image", "alias", "delete", ALT_IMAGE], check=False)
    subprocess.run(["nft", "delete", "table", "inet", NFT_TABLE], capture_output=True, check=False)


@pytest.fixture(scope="module")
def scene() -> Iterator[Scene]:
    """The first version applied once: every domain, machine, volume and the custom role."""
    if any(p.get("name") in DOMAINS for p in incus_query(["project", "list"])):
        _remove_leftovers()  # an interrupted earlier run of this module
    root = host_tmp("e2e-features-")  # holds persistent data and shares: not under /tmp
    infra = FeatInfra(root / "infra", root / "data", root / "apply.lock")
    role = infra.directory / "roles_custom" / "ak_marker" / "tasks"
    role.mkdir(parents=True)
    (role / "main.yml").write_text(ROLE, encoding="utf-8")
    found = Scene(infra, root)
    try:
        fingerprint = str(incus_query(["query", f"/1.0/images/aliases/{IMAGE}"])["target"])
        incus_run(["image", "alias", "delete", ALT_IMAGE], check=False)  # left by an interrupted run
        incus_run(["image", "alias", "create", ALT_IMAGE, fingerprint])
        found.write()
        all_vars = infra.directory / "group_vars" / "all.yml"
        with all_vars.open("a", encoding="utf-8") as out:  # outside the managed block: kept by sync
            out.write(f"anklume_backup_dir: {root}/backups\n")
        found.runs["first"] = found.apply()
        yield found
    finally:
        _remove_leftovers()
        shutil.rmtree(root, ignore_errors=True)


def test_domain_without_machines_gets_its_project_and_bridge(scene: Scene) -> None:
    project = incus_query(["query", "/1.0/projects/ak5"])
    assert project["config"]["user.anklume.managed"] == "true"
    assert project["config"]["features.images"] == "false"
    assert incus_query(["list"], project="ak5") == []
    bridge = incus_query(["query", "/1.0/networks/net-ak5"])
    assert bridge["type"] == "bridge"
    assert bridge["managed"] is True
    config = bridge["config"]
    assert config["ipv4.address"] == "10.200.5.254/24"
    assert config["ipv4.nat"] == "false"
    assert config["ipv6.address"] == "none"
    assert config["user.anklume.domain"] == "ak5"


def test_boot_and_snapshot_keys_are_live(scene: Scene) -> None:
    config = instance("ak4-feat", "ak4")["config"]
    assert config["boot.autostart.priority"] == "42"
    assert config["snapshots.schedule"] == "0 3 * * *"
    assert config["snapshots.expiry"] == "7d"


def test_persistent_data_and_shared_volume_are_host_directories_mounted(scene: Scene) -> None:
    notes = scene.root / "pd" / "ak4" / "ak4-feat" / "notes"
    exchange = scene.root / "sv" / "exchange"
    assert notes.is_dir()
    assert exchange.is_dir()
    devices = instance("ak4-feat", "ak4")["devices"]
    assert devices["pd-notes"] == {"type": "disk", "source": str(notes), "path": "/srv/notes", "shift": "true"}
    assert devices["sv-exchange"] == {
        "type": "disk",
        "source": str(exchange),
        "path": "/shared/exchange",
        "shift": "true",
    }
    (notes / "note.txt").write_text("kept across rebuilds\n", encoding="utf-8")
    (exchange / "hello.txt").write_text("shared hello\n", encoding="utf-8")
    assert in_container("ak4-feat", "ak4", "cat", "/srv/notes/note.txt").stdout == "kept across rebuilds\n"
    assert in_container("ak4-feat", "ak4", "cat", "/shared/exchange/hello.txt").stdout == "shared hello\n"


def test_storage_volume_is_created_and_attached(scene: Scene) -> None:
    volume = incus_query(["query", f"/1.0/storage-pools/default/volumes/custom/{VOLUME}?project=default"])
    assert volume["config"]["size"] == "64MiB"
    assert "/1.0/instances/ak4-feat?project=ak4" in volume["used_by"]
    device = instance("ak4-feat", "ak4")["devices"]["vol-cache"]
    assert device == {"type": "disk", "pool": "default", "source": VOLUME, "path": "/srv/cache"}
    mounts = in_container("ak4-feat", "ak4", "cat", "/proc/mounts").stdout.split("\n")
    assert any(line.split()[1:2] == ["/srv/cache"] for line in mounts if line)


def test_custom_role_provisions_the_machine(scene: Scene) -> None:
    marker = in_container("ak4-feat", "ak4", "cat", MARKER)
    assert marker.stdout == "marker of ak4-feat in ak4\n", marker.stderr
    assert instance("ak4-feat", "ak4")["config"].get("user.anklume.provisioned")


def _ak6_state() -> dict[str, Any]:
    idle = instance("ak6-idle", "ak6")
    project = incus_query(["query", "/1.0/projects/ak6"])
    bridge = incus_query(["query", "/1.0/networks/net-ak6"])
    return {
        "instance": {k: idle[k] for k in ("config", "devices", "profiles", "created_at", "status")},
        "project": {k: project[k] for k in ("config", "description")},
        "bridge": {k: bridge[k] for k in ("config", "description")},
    }


@pytest.fixture(scope="module")
def disabled(scene: Scene) -> Scene:
    """ak6 disabled, the marker removed inside ak4-feat, then one apply with prune naming ak6."""
    scene.before["ak6"] = _ak6_state()
    scene.before["provisioned"] = instance("ak4-feat", "ak4")["config"]["user.anklume.provisioned"]
    removed = in_container("ak4-feat", "ak4", "rm", MARKER)
    assert removed.returncode == 0, removed.stderr
    scene.write(ak6_enabled=False)
    scene.runs["disabled"] = scene.apply()
    return scene


def test_disabled_domain_is_left_exactly_as_it_was(disabled: Scene) -> None:
    before = disabled.before["ak6"]
    assert before["instance"]["status"] == "Running"
    assert _ak6_state() == before


def test_unchanged_machine_is_not_provisioned_again(disabled: Scene) -> None:
    assert in_container("ak4-feat", "ak4", "test", "-e", MARKER).returncode == 1
    assert instance("ak4-feat", "ak4")["config"]["user.anklume.provisioned"] == disabled.before["provisioned"]


@pytest.fixture(scope="module")
def forced(disabled: Scene) -> Scene:
    """The same infra applied again with --force-provision."""
    disabled.runs["forced"] = disabled.apply("--force-provision")
    return disabled


def test_force_provision_runs_the_role_again(forced: Scene) -> None:
    assert in_container("ak4-feat", "ak4", "cat", MARKER).stdout == "marker of ak4-feat in ak4\n"


@pytest.fixture(scope="module")
def image_changed(forced: Scene) -> Scene:
    """ak4-rebuild's image changed to the second alias: check, then apply without --recreate."""
    forced.before["rebuild"] = instance("ak4-rebuild", "ak4")
    forced.before["provisioned"] = instance("ak4-feat", "ak4")["config"]["user.anklume.provisioned"]
    forced.write(ak6_enabled=False, rebuild_image=ALT_IMAGE)
    forced.runs["check"] = forced.infra.anklume("domain", "check", "ak4")
    forced.runs["changed"] = forced.apply()
    return forced


def test_image_change_is_reported_and_left_alone_without_recreate(image_changed: Scene) -> None:
    check = image_changed.runs["check"]
    assert check.rc == 3, check.stdout + check.stderr
    row = next(line for line in check.stdout.splitlines() if "ak4-rebuild" in line)
    assert row.split()[0] == "needs-recreate"
    old, now = image_changed.before["rebuild"], instance("ak4-rebuild", "ak4")
    assert now["config"]["volatile.uuid"] == old["config"]["volatile.uuid"]
    assert now["created_at"] == old["created_at"]
    assert now["config"]["user.anklume.image"] == IMAGE
    assert now["status"] == "Running"


def test_apply_without_recreate_says_the_machine_needs_one(image_changed: Scene) -> None:
    applied = image_changed.runs["changed"]
    assert "needs-recreate: instance ak4/ak4-rebuild (image: " in applied.stderr, applied.stderr
    assert "--recreate" in applied.stderr


def test_another_machines_image_change_does_not_provision_this_one(image_changed: Scene) -> None:
    now = instance("ak4-feat", "ak4")["config"]["user.anklume.provisioned"]
    assert now == image_changed.before["provisioned"]


@pytest.fixture(scope="module")
def recreated(image_changed: Scene) -> Scene:
    """The same infra applied with --recreate."""
    image_changed.runs["recreated"] = image_changed.apply("--recreate")
    return image_changed


def test_recreate_rebuilds_a_protected_machine_after_a_backup(recreated: Scene) -> None:
    old, now = recreated.before["rebuild"], instance("ak4-rebuild", "ak4")
    assert old["config"]["security.protection.delete"] == "true"
    assert now["config"]["volatile.uuid"] != old["config"]["volatile.uuid"]
    assert now["config"]["user.anklume.image"] == ALT_IMAGE
    assert now["config"]["security.protection.delete"] == "true"
    assert now["status"] == "Running"
    # provisioned in the same run: the old instance's fingerprint does not skip the new one
    assert now["config"].get("user.anklume.provisioned"), recreated.runs["recreated"].stdout
    assert in_container("ak4-rebuild", "ak4", "test", "-f", "/etc/anklume/absolute_level").returncode == 0
    backups = sorted((recreated.root / "backups").glob("ak4-ak4-rebuild-*.tar.gz"))
    assert len(backups) == 1, backups
    assert "backup/index.yaml" in _archive_names(backups[0], limit=20)


def _archive_names(path: Path, limit: int) -> list[str]:
    """The first member names of a tar.gz (an ``incus export`` archive starts with its index)."""
    with tarfile.open(path, "r:gz") as archive:
        return [member.name for _, member in zip(range(limit), archive, strict=False)]


@pytest.fixture(scope="module")
def role_edited(recreated: Scene) -> Scene:
    """The custom role's task edited, then applied without --force-provision."""
    task = recreated.infra.directory / "roles_custom" / "ak_marker" / "tasks" / "main.yml"
    task.write_text(ROLE.replace("marker of", "marker v2 of"), encoding="utf-8")
    recreated.runs["role_edited"] = recreated.apply()
    return recreated


def test_edited_role_provisions_its_machines_again(role_edited: Scene) -> None:
    marker = in_container("ak4-feat", "ak4", "cat", MARKER).stdout
    assert marker == "marker v2 of ak4-feat in ak4\n", role_edited.runs["role_edited"].stdout


def test_last_apply_changes_nothing(role_edited: Scene) -> None:
    again = role_edited.apply()
    assert again.changes == 0, again.stdout
