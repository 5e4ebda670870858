"""Declared state built from the generated variables (``anklume.plan.declare``)."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from anklume.errors import PlanError
from anklume.plan.declare import declare
from anklume.plan.run import plan_document
from anklume.provision import fingerprint, provision_vars, role_digests

DOMAIN: dict[str, Any] = {
    "domain_name": "pro",
    "incus_project": "001-pro",
    "incus_network": {"name": "001-net-pro", "subnet": "10.120.0.0/24", "gateway": "10.120.0.254"},
}


def _machine(**extra: Any) -> dict[str, Any]:
    return {"instance_name": "001-web", "instance_domain": "pro", **extra}


def test_nested_names_come_from_generated_variables() -> None:
    declared = declare([DOMAIN], [_machine(instance_ip="10.120.0.1")])
    dom, inst = declared.domains[0], declared.instances[0]
    assert (dom.project, dom.network, inst.name, inst.project) == (
        "001-pro",
        "001-net-pro",
        "001-web",
        "001-pro",
    )
    assert dom.profiles["default"].devices["eth0"]["network"] == "001-net-pro"
    assert inst.devices["eth0"]["network"] == "001-net-pro"


def test_nat_defaults_to_true_and_follows_the_domain() -> None:
    on = declare([DOMAIN], []).domains[0].network_config["ipv4.nat"]
    off_net = {**DOMAIN, "incus_network": {**DOMAIN["incus_network"], "nat": False}}
    off = declare([off_net], []).domains[0].network_config["ipv4.nat"]
    legacy = declare([{**DOMAIN, "domain_nat": False}], []).domains[0].network_config["ipv4.nat"]
    assert (on, off, legacy) == ("true", "false", "false")


def test_derived_config_and_devices() -> None:
    inst = declare(
        [DOMAIN],
        [
            _machine(
                instance_gpu=True,
                instance_ephemeral=False,
                instance_boot_priority=5,
                instance_storage_volumes={"data": {"pool": "default", "size": "1GiB", "path": "/data"}},
                instance_devices={"pd-x": {"type": "disk", "source": "/srv/d/x", "path": "/x"}},
            )
        ],
    ).instances[0]
    assert inst.devices["gpu"] == {"type": "gpu"}
    assert inst.config["security.protection.delete"] == "true"
    assert inst.config["boot.autostart.priority"] == "5"
    assert inst.devices["vol-data"] == {
        "type": "disk",
        "pool": "default",
        "source": "001-web-data",
        "path": "/data",
    }
    assert inst.volumes[0].name == "001-web-data"
    assert dict(inst.host_dirs) == {"pd-x": "/srv/d/x"}


def test_ephemeral_machine_is_not_protected() -> None:
    inst = declare([DOMAIN], [_machine(instance_ephemeral=True)]).instances[0]
    assert "security.protection.delete" not in inst.config


class BadInput(NamedTuple):
    test_id: str
    machine: dict[str, Any]
    message: str


BAD = [
    BadInput("option-like-name", _machine(instance_name="--force"), "invalid instance name"),
    BadInput("unknown-type", _machine(instance_type="docker"), "lxc or vm"),
    BadInput("unknown-domain", _machine(instance_domain="nope"), "has no group_vars"),
    BadInput("key-with-equals", _machine(instance_config={"a=b": 1}), "invalid config key"),
    BadInput("device-without-type", _machine(instance_devices={"d": {"path": "/x"}}), "has no type"),
    BadInput("option-like-image", _machine(instance_os_image="-x"), "invalid image"),
]


@pytest.mark.parametrize("case", BAD, ids=[c.test_id for c in BAD])
def test_unsafe_input_is_refused(case: BadInput) -> None:
    with pytest.raises(PlanError, match=case.message):
        declare([DOMAIN], [case.machine])


def test_plan_document_counts_changes_but_not_orphans() -> None:
    doc = plan_document({"projects": [{"action": "orphan"}], "instances": [{"action": "update"}]})
    assert doc["changes"] == 1
    assert [a["action"] for a in doc["actions"]] == ["orphan", "update"]


def test_fingerprint_follows_role_variables() -> None:
    base = {"instance_ip": "10.0.0.1", "web_port": 80, "unrelated": 1}
    same = fingerprint(provision_vars({**base, "unrelated": 2}, ["web"]))
    changed = fingerprint(provision_vars({**base, "web_port": 81}, ["web"]))
    assert same == fingerprint(provision_vars(base, ["web"]))
    assert changed != same


def test_role_digests_follow_the_roles_path_and_ignore_tests(tmp_path: Path) -> None:
    custom, framework = tmp_path / "roles_custom", tmp_path / "roles"
    for base in (custom, framework):
        (base / "web" / "tasks").mkdir(parents=True)
        (base / "web" / "tasks" / "main.yml").write_text(f"# {base.name}\n", encoding="utf-8")
    path = f"{custom}:{framework}"
    first = role_digests(["web"], path)
    assert first == {"web": role_digests(["web"], [str(custom)])["web"]}  # the first match wins
    (custom / "web" / "molecule").mkdir()
    (custom / "web" / "molecule" / "converge.yml").write_text("---\n", encoding="utf-8")
    assert role_digests(["web"], path) == first
    (custom / "web" / "templates").mkdir()
    (custom / "web" / "templates" / "site.conf.j2").write_text("port {{ web_port }}\n", encoding="utf-8")
    assert role_digests(["web"], path) != first


FILE_ACCESS = {"os", "pathlib", "subprocess", "shutil", "io", "tempfile"}


def test_planners_are_pure() -> None:
    """No module of ``anklume.plan`` imports a file or process API, nor calls ``open``."""
    package = Path(__file__).resolve().parents[2] / "src" / "anklume" / "plan"
    offenders = []
    for path in sorted(package.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name.split(".")[0] for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module.split(".")[0]]
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "open":
                names = ["open"]
            offenders += [f"{path.name}: {n}" for n in names if n in FILE_ACCESS | {"open"}]
    assert offenders == []
