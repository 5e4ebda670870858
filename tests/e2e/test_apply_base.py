"""A first apply brings every declared resource up; a second one changes nothing."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import E2EInfra

pytestmark = [pytest.mark.incus, pytest.mark.slow]

EXPECTED = {
    "ak1-web": ("ak1", "10.170.7.10"),
    "ak1-old": ("ak1", "10.170.7.1"),
    "ak1-keep": ("ak1", "10.170.7.2"),
    "ak2-app": ("ak2", "10.180.7.1"),
}


def test_first_apply_made_changes(applied: E2EInfra) -> None:
    assert applied.first.changes > 0
    assert "Changed (" in applied.first.stdout


def test_every_instance_runs_in_its_project_with_its_address(applied: E2EInfra) -> None:
    live = applied.instances()
    assert set(EXPECTED) <= set(live)
    for name, (project, ip) in EXPECTED.items():
        inst = live[name]
        assert inst["project"] == project
        assert inst["status"] == "Running"
        assert inst["type"] == "container"
        assert inst["config"]["user.anklume.managed"] == "true"
        assert inst["config"]["user.anklume.domain"] == project
        nic = inst["expanded_devices"]["eth0"]
        assert nic["network"] == f"net-{project}"
        assert nic["ipv4.address"] == ip
        assert nic.get("security.ipv4_filtering") == "true"
        addrs = [a["address"] for a in inst["state"]["network"]["eth0"]["addresses"] if a["family"] == "inet"]
        assert ip in addrs


def test_declared_profiles_config_and_devices_are_live(applied: E2EInfra) -> None:
    web = applied.instances()["ak1-web"]
    assert web["profiles"] == ["default", "aksmall"]
    assert web["config"]["user.e2e.color"] == "blue"
    assert web["config"]["boot.autostart"] == "false"
    assert web["devices"]["ak-data"]["source"] == str(applied.data_dir)
    assert web["devices"]["ak-data"]["path"] == "/srv/e2e"
    assert web["expanded_config"]["limits.cpu"] == "1"
    assert applied.profile("aksmall", "ak1")["config"]["limits.memory"] == "256MiB"


def test_protection_follows_ephemeral(applied: E2EInfra) -> None:
    live = applied.instances()
    assert live["ak1-web"]["config"].get("security.protection.delete") == "true"
    assert live["ak1-old"]["config"].get("security.protection.delete", "false") == "false"
    assert live["ak2-app"]["config"].get("security.protection.delete", "false") == "false"


def test_second_apply_changes_nothing(applied: E2EInfra) -> None:
    again = applied.apply("ak1", "ak2")
    assert again.changes == 0, again.stdout
    assert "Nothing changed." in again.stdout


def test_check_and_status_agree_nothing_is_pending(applied: E2EInfra) -> None:
    check = applied.anklume("domain", "check", "ak1", "ak2")
    assert check.rc == 0, check.stdout + check.stderr
    assert "nothing to do" in check.stdout
    assert "WARNING" not in check.stdout + check.stderr, "Ansible warned during a clean check"
    status = applied.anklume("domain", "status")
    for name, (_, ip) in EXPECTED.items():
        line = next(row for row in status.stdout.splitlines() if f" {name} " in row)
        assert "Running" in line
        assert ip in line
        assert line.rstrip().endswith("ok")
