"""firewall_router: forwarding turns on only after the router table is loaded (apply and boot)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

ROLE = Path(__file__).resolve().parents[2] / "roles/firewall_router/tasks"


def tasks(name: str) -> list[dict[str, Any]]:
    data = yaml.safe_load((ROLE / name).read_text(encoding="utf-8"))
    assert isinstance(data, list)
    return data


def names(name: str) -> list[str]:
    return [str(t["name"]) for t in tasks(name)]


def test_the_ruleset_loads_before_routing_is_set_up() -> None:
    order = [str(t["ansible.builtin.include_tasks"]) for t in tasks("main.yml")]
    assert order.index("ruleset.yml") < order.index("routing.yml")


def test_forwarding_is_turned_on_last_and_only_after_checking_the_table() -> None:
    steps = names("routing.yml")
    check = steps.index("Firewall | Check that the router table is loaded before forwarding")
    turn_on = steps.index("Firewall | Turn forwarding on (the router table is loaded)")
    assert check < turn_on == len(steps) - 1


def test_boot_keeps_forwarding_off_until_nft_succeeded() -> None:
    copies = {
        t["ansible.builtin.copy"]["dest"]: t["ansible.builtin.copy"]["content"]
        for t in tasks("routing.yml")
        if "ansible.builtin.copy" in t
    }
    assert "net.ipv4.ip_forward = 0" in copies["/etc/sysctl.d/60-anklume-router.conf"]
    unit = copies["/etc/systemd/system/anklume-nftables.service"].splitlines()
    start = unit.index("ExecStart=/usr/sbin/nft -f {{ firewall_router_rules_file }}")
    assert unit[start + 1] == "ExecStartPost=/usr/sbin/sysctl -w net.ipv4.ip_forward=1"  # runs only when nft succeeded
