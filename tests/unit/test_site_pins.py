"""What runs on the host is chosen by site.yml, never by the infra's own variables.

An infra repository's group_vars/host_vars (outside the managed blocks) are
inventory variables: they override role defaults, but not the ``vars:`` of an
``include_role``. So every role default naming a program the controller runs
must be pinned where site.yml includes the role.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
HOST_PROGRAMS = ("incus_snapshots_python",)


def _includes(node: Any) -> dict[str, dict[str, Any]]:
    """Role name → the vars of its include_role tasks, anywhere in site.yml."""
    found: dict[str, dict[str, Any]] = {}
    if isinstance(node, list):
        for item in node:
            found.update(_includes(item))
    elif isinstance(node, dict):
        role = node.get("ansible.builtin.include_role")
        if isinstance(role, dict) and isinstance(role.get("name"), str):
            found[role["name"]] = dict(node.get("vars") or {})
        for value in node.values():
            found.update(_includes(value))
    return found


@pytest.mark.parametrize("variable", HOST_PROGRAMS)
def test_host_programs_are_pinned_in_site_yml(variable: str) -> None:
    role = variable.removesuffix("_python")
    default = yaml.safe_load((REPO / "roles" / role / "defaults" / "main.yml").read_text(encoding="utf-8"))
    assert variable in default, f"{variable} is no longer a default of {role}: update this test"
    pinned = _includes(yaml.safe_load((REPO / "site.yml").read_text(encoding="utf-8")))
    assert pinned.get(role, {}).get(variable) == "{{ ansible_playbook_python }}", (
        f"site.yml must pin {variable}: group_vars of an infra repository could otherwise choose the program"
    )


def test_the_host_firewall_cannot_be_turned_off_by_the_infra() -> None:
    default = yaml.safe_load((REPO / "roles" / "incus_nftables" / "defaults" / "main.yml").read_text(encoding="utf-8"))
    assert default["incus_nftables_enabled"] is True
    pinned = _includes(yaml.safe_load((REPO / "site.yml").read_text(encoding="utf-8")))
    assert pinned.get("incus_nftables", {}).get("incus_nftables_enabled") is True, (
        "site.yml must pin incus_nftables_enabled: group_vars of an infra repository could otherwise turn it off"
    )
