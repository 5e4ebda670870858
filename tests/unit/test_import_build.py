"""``anklume import`` without Incus: live listings (as ``incus ... --format json`` gives them) to infra.yml."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any, NamedTuple

import pytest
import yaml

from anklume.cli.main import main
from anklume.importer import live
from anklume.importer.build import LiveProject, build

FP = "b0" * 32
IMAGES = [{"fingerprint": FP, "aliases": [{"name": "anklume/debian-12"}]}]
NETWORKS = [
    {"name": "net-lab", "config": {"ipv4.address": "10.132.0.254/24", "ipv4.nat": "false"}},
    {"name": "net-dev", "config": {"ipv4.address": "10.133.0.254/24", "ipv4.nat": "true"}},
    {"name": "incusbr0", "config": {"ipv4.address": "10.250.0.1/24"}},
]


def instance(name: str, ip: str | None = None, **config: str) -> dict[str, Any]:
    devices = {"eth0": {"type": "nic", "network": "net-lab", "name": "eth0", "ipv4.address": ip}} if ip else {}
    return {
        "name": name,
        "type": "container",
        "profiles": ["default"],
        "config": {"volatile.base_image": FP, "image.os": "debian", **config},
        "devices": devices,
        "expanded_devices": devices,
    }


LAB = LiveProject(
    name="lab",
    description="the lab",
    instances=[
        instance("lab-web", "10.132.0.10", **{"limits.cpu": "2", "environment.TOKEN": "s3cret"}),
        instance("lab-db", "10.132.0.11", **{"security.protection.delete": "true", "cloud-init.user-data": "pw"}),
    ],
    profiles=[
        {"name": "default", "config": {}, "devices": {"root": {"type": "disk", "path": "/", "pool": "default"}}},
        {"name": "small", "config": {"limits.memory": "256MiB"}, "devices": {}},
    ],
    images=IMAGES,
)
DEV = LiveProject(name="dev", instances=[instance("dev-a")], images=IMAGES)


def test_projects_become_domains_with_their_subnets_addresses_and_protection() -> None:
    doc = build([LAB, DEV], NETWORKS, project_name="lab-infra").document
    assert doc["global"] == {"addressing": {"zone_base": 131, "zone_step": 1}, "default_os_image": "anklume/debian-12"}
    lab, dev = doc["domains"]["lab"], doc["domains"]["dev"]
    assert (lab["trust_level"], lab["subnet_id"], lab["nat"]) == ("trusted", 0, False)
    assert (dev["trust_level"], dev["subnet_id"], dev["nat"]) == ("semi-trusted", 0, True)
    assert lab["description"] == "the lab"
    assert lab["ephemeral"] is False and lab["machines"]["lab-web"]["ephemeral"] is True
    assert "ephemeral" not in lab["machines"]["lab-db"]
    assert dev["ephemeral"] is True
    assert lab["machines"]["lab-web"] == {"ip": "10.132.0.10", "config": {"limits.cpu": "2"}, "ephemeral": True}
    assert lab["profiles"] == {"small": {"config": {"limits.memory": "256MiB"}}}


def test_keys_that_may_hold_secrets_are_named_not_written() -> None:
    imported = build([LAB], NETWORKS, project_name="x")
    text = yaml.safe_dump(imported.document)
    assert "s3cret" not in text and "pw" not in text.split()
    assert imported.notes.withheld == {
        "instance lab-web": ["environment.TOKEN"],
        "instance lab-db": ["cloud-init.user-data"],
    }
    chosen = build([LAB], NETWORKS, project_name="x", include=["environment.*"])
    assert chosen.document["domains"]["lab"]["machines"]["lab-web"]["config"]["environment.TOKEN"] == "s3cret"


class BadNames(NamedTuple):
    test_id: str
    project: LiveProject
    message: str


@pytest.mark.parametrize(
    "case",
    [
        BadNames("uppercase_project", LiveProject("Lab"), "project Lab: domain 'Lab': must be lowercase"),
        BadNames("long_project", LiveProject("laboratory-x"), "at most 11 characters (the bridge net-<domain>"),
        BadNames("bad_machine", LiveProject("lab", instances=[instance("Web_1")]), "machine 'Web_1': must be"),
        BadNames(
            "bad_profile",
            LiveProject("lab", profiles=[{"name": "Big-Profile"}]),
            "profile 'Big-Profile': must be lowercase letters, digits, '_', '.' and '-'",
        ),
    ],
    ids=lambda c: c.test_id,
)
def test_names_anklume_refuses_are_reported_with_the_reason(case: BadNames) -> None:
    problems = build([case.project], NETWORKS, project_name="x").problems
    assert any(case.message in p for p in problems), problems


def test_a_machine_in_two_projects_is_reported() -> None:
    twice = [LiveProject("lab", instances=[instance("web")]), LiveProject("dev", instances=[instance("web")])]
    assert (
        "machine 'web' exists in projects lab, dev: machine names must be unique across domains"
        in build(twice, [], project_name="x").problems
    )


def test_subnets_that_fit_no_zone_lose_their_addresses() -> None:
    odd = [{"name": "net-lab", "config": {"ipv4.address": "192.168.5.1/24"}}]
    imported = build([LAB], odd, project_name="x")
    assert "ip" not in imported.document["domains"]["lab"]["machines"]["lab-web"]
    assert any("outside its domain's subnet" in w for w in imported.notes.warnings)


@pytest.fixture
def fake_incus(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANKLUME_SKIP_HOST_SUBNET_CHECK", "1")
    monkeypatch.setenv("ANKLUME_ETC", "/nonexistent/etc")
    monkeypatch.setattr(live, "read", lambda wanted: ([LAB, DEV], NETWORKS, {"lab": "", "dev": ""}, 1))


def test_the_written_file_syncs_and_is_private(
    fake_incus: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["-C", str(tmp_path), "import", "--name", "lab-infra"]) == 0
    written = tmp_path / "infra.yml"
    assert stat.S_IMODE(os.stat(written).st_mode) == 0o600
    err = capsys.readouterr().err
    assert "environment.TOKEN" in err and "s3cret" not in err
    assert "project default: 1 instance(s) not imported" in err
    assert main(["-C", str(tmp_path), "sync"]) == 0  # sync accepts what import wrote
    host_vars = (tmp_path / "host_vars" / "lab-web.yml").read_text(encoding="utf-8")
    assert "instance_ip: 10.132.0.10" in host_vars


def test_an_existing_file_needs_force_and_the_output_stays_inside(
    fake_incus: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "infra.yml").write_text("mine\n", encoding="utf-8")
    assert main(["-C", str(tmp_path), "import"]) == 2
    assert "pass --force" in capsys.readouterr().err
    assert (tmp_path / "infra.yml").read_text(encoding="utf-8") == "mine\n"
    assert main(["-C", str(tmp_path), "import", "-o", "../outside.yml"]) == 2
    assert not (tmp_path.parent / "outside.yml").exists()
    assert main(["-C", str(tmp_path), "import", "--force"]) == 0
    assert "project_name:" in (tmp_path / "infra.yml").read_text(encoding="utf-8")


def test_bad_names_stop_the_import_before_writing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(live, "read", lambda wanted: ([LiveProject("Lab")], [], {}, 0))
    assert main(["-C", str(tmp_path), "import"]) == 2
    assert "project Lab: domain 'Lab'" in capsys.readouterr().err
    assert not (tmp_path / "infra.yml").exists()
