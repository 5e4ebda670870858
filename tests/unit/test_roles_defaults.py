"""Every role default carries a comment and a README row (habit H13).

Also checks the shape rules of the infra roles: a short ``tasks/main.yml``
dispatcher, task files of at most 200 lines, no ``meta`` dependencies.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import NamedTuple

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent.parent
ROLES = (
    "incus_projects",
    "incus_networks",
    "incus_profiles",
    "incus_images",
    "incus_instances",
    "base_system",
    "incus_nesting",
    "incus_nftables",
    "firewall_router",
)
_DEFAULT = re.compile(r"^([a-z][a-z0-9_]*):")


class RoleDefault(NamedTuple):
    test_id: str
    role: str
    name: str
    commented: bool


def _defaults() -> list[RoleDefault]:
    out = []
    for role in ROLES:
        lines = (ROOT / "roles" / role / "defaults" / "main.yml").read_text(encoding="utf-8").splitlines()
        for i, line in enumerate(lines):
            match = _DEFAULT.match(line)
            if match:
                commented = i > 0 and lines[i - 1].startswith("#")
                out.append(RoleDefault(f"{role}:{match.group(1)}", role, match.group(1), commented))
    return out


@pytest.mark.parametrize("default", _defaults(), ids=[d.test_id for d in _defaults()])
def test_default_is_commented_and_documented(default: RoleDefault) -> None:
    assert default.commented, f"{default.name}: add a comment above the default"
    assert default.name.startswith(f"{default.role}_"), "role variables carry the role prefix"
    if "__" in default.name:
        return  # derived internal values are not inputs: no README row
    readme = (ROOT / "roles" / default.role / "README.md").read_text(encoding="utf-8")
    assert f"| `{default.name}` |" in readme, f"{default.name}: add a row to the README table"


@pytest.mark.parametrize("role", ROLES)
def test_role_shape(role: str) -> None:
    base = ROOT / "roles" / role
    main = (base / "tasks" / "main.yml").read_text(encoding="utf-8")
    assert all(t.get("ansible.builtin.include_tasks") for t in yaml.safe_load(main)), "tasks/main.yml only dispatches"
    for task_file in (base / "tasks").glob("*.yml"):
        assert len(task_file.read_text(encoding="utf-8").splitlines()) <= 200, task_file.name
    meta = yaml.safe_load((base / "meta" / "main.yml").read_text(encoding="utf-8"))
    assert meta["dependencies"] == []
