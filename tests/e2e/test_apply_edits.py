"""Edits of infra.yml converge: keys, devices, machines, domains, profiles, prune.

One module fixture applies every edit at once (with ``--prune`` naming the
test domains) on top of the shared base infra; each test checks one edit.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.conftest import E2EInfra, Run, base_infra

pytestmark = [pytest.mark.incus, pytest.mark.slow]

ADDED_DOMAIN = """\
  ak3:
    trust_level: admin
    subnet_id: 8
    nat: false
    ephemeral: true
    machines:
      ak3-box: {}
"""


def edited_infra(base: str) -> str:
    """The base infra with every edit of the scenario."""
    text = base.replace("user.e2e.color: blue", "user.e2e.color: green")
    text = text.replace('          boot.autostart: "false"\n', "")
    start = text.index("        devices:\n          ak-data:")
    end = text.index("      ak1-old:")
    text = text[:start] + text[end:]
    text = text.replace("      ak1-old:\n        ephemeral: true\n", "")
    text = text.replace("      ak1-keep: {}\n", "")
    text = text.replace('          limits.cpu: "1"\n          limits.memory: 256MiB\n', '          limits.cpu: "2"\n')
    return text + ADDED_DOMAIN


@pytest.fixture(scope="module")
def edited(applied: E2EInfra) -> Iterator[tuple[E2EInfra, Run]]:
    """The shared infra after the edits, applied with prune on the test domains."""
    applied.write(edited_infra(base_infra(applied.data_dir)))
    result = applied.apply("ak1", "ak2", "ak3", "--prune")
    yield applied, result


def test_changed_config_key_converges(edited: tuple[E2EInfra, Run]) -> None:
    infra, _ = edited
    assert infra.instances()["ak1-web"]["config"]["user.e2e.color"] == "green"


def test_removed_config_key_is_removed(edited: tuple[E2EInfra, Run]) -> None:
    infra, _ = edited
    assert "boot.autostart" not in infra.instances()["ak1-web"]["config"]


def test_removed_device_is_removed(edited: tuple[E2EInfra, Run]) -> None:
    infra, _ = edited
    assert "ak-data" not in infra.instances()["ak1-web"]["devices"]


def test_changed_profile_converges_keys_and_removals(edited: tuple[E2EInfra, Run]) -> None:
    infra, _ = edited
    config = infra.profile("aksmall", "ak1")["config"]
    assert config["limits.cpu"] == "2"
    assert "limits.memory" not in config


def test_removed_machine_is_pruned(edited: tuple[E2EInfra, Run]) -> None:
    infra, _ = edited
    assert "ak1-old" not in infra.instances()


def test_protected_instance_survives_prune_and_stays_an_orphan(edited: tuple[E2EInfra, Run]) -> None:
    infra, _ = edited
    keep = infra.instances()["ak1-keep"]
    assert keep["config"]["security.protection.delete"] == "true"
    check = infra.anklume("domain", "check", "ak1")
    assert check.rc == 3, check.stdout + check.stderr
    row = next(line for line in check.stdout.splitlines() if "ak1-keep" in line)
    assert row.split()[0] == "orphan"
    status = infra.anklume("domain", "status")
    assert status.rc == 3
    assert any("ak1-keep" in line and "orphan" in line for line in status.stdout.splitlines())


def test_added_domain_gets_project_bridge_and_instance(edited: tuple[E2EInfra, Run]) -> None:
    infra, _ = edited
    box = infra.instances()["ak3-box"]
    assert box["project"] == "ak3"
    assert box["status"] == "Running"
    assert box["expanded_devices"]["eth0"]["network"] == "net-ak3"


def test_apply_after_the_edits_changes_nothing(edited: tuple[E2EInfra, Run]) -> None:
    infra, first = edited
    assert first.changes > 0
    again = infra.apply("ak1", "ak2", "ak3", "--prune")
    assert again.changes == 0, again.stdout
