"""Pinned provisioning fingerprints: an upgrade must not re-provision unchanged instances.

The values below were computed by the code that already recorded
``user.anklume.provisioned`` on live instances. If one changes, every
instance of every infra is provisioned again at the next apply.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from anklume.provision import fingerprint, provision_vars, provisioned, role_digests

HOSTVARS = {
    "instance_name": "pro-web",
    "instance_ip": "10.120.0.10",
    "instance_roles": ["web"],
    "domain_name": "pro",
    "incus_project": "pro",
    "web_port": 8080,
    "incus_all_images": ["x"],
    "unrelated": 1,
}
ROLES = ["incus_nesting", "base_system", "web"]


def _role_tree(root: Path) -> Path:
    """Write the role ``web`` with a task, a template, a README and a Molecule scenario."""
    web = root / "roles" / "web"
    for sub in ("tasks", "templates", "molecule/default"):
        (web / sub).mkdir(parents=True)
    (web / "tasks" / "main.yml").write_text(
        "---\n- name: Web | Install nginx\n  ansible.builtin.apt:\n    name: nginx\n", encoding="utf-8"
    )
    (web / "templates" / "site.conf.j2").write_text("listen {{ web_port }};\n", encoding="utf-8")
    (web / "README.md").write_text("docs\n", encoding="utf-8")
    (web / "molecule" / "default" / "converge.yml").write_text("---\n", encoding="utf-8")
    return root / "roles"


def test_role_digest_value_is_pinned(tmp_path: Path) -> None:
    digests = role_digests(["web", "nowhere"], str(_role_tree(tmp_path)))
    assert digests == {"web": "38af32eb27a6b546", "nowhere": "missing"}


def test_provisioning_fingerprint_value_is_pinned(tmp_path: Path) -> None:
    """The expression of ``site.yml``'s provision play, on fixed inputs."""
    code = role_digests(ROLES, str(_role_tree(tmp_path)))
    value = fingerprint({"roles": ROLES, "code": code, "vars": provision_vars(HOSTVARS, ROLES)})
    assert value == "2df05b4cdb96da68"


def test_recorded_fingerprints_are_read_by_project_and_name() -> None:
    live: list[Mapping[str, Any]] = [
        {"project": "pro", "name": "pro-web", "config": {"user.anklume.provisioned": "9eb36616abc42bb9"}}
    ]
    assert provisioned(live) == {"pro/pro-web": "9eb36616abc42bb9"}
