"""The Ansible filter plugin only adapts ``anklume.plan`` (errors, argv helpers)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest
from ansible.errors import AnsibleFilterError  # type: ignore[import-untyped]  # ansible-core ships no type stubs

PLUGIN = Path(__file__).resolve().parent.parent.parent / "filter_plugins" / "anklume_plan.py"


def _plugin() -> ModuleType:
    spec = importlib.util.spec_from_file_location("anklume_plan_filters", PLUGIN)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_commands_give_each_step_its_argv_and_stdin() -> None:
    filters = _plugin().FilterModule().filters()
    inputs = {
        "domains": [
            {
                "domain_name": "pro",
                "incus_network": {"name": "net-pro", "subnet": "10.1.0.0/24", "gateway": "10.1.0.254"},
            }
        ],
        "machines": [{"instance_name": "web", "instance_domain": "pro", "instance_os_image": "anklume/debian-12"}],
    }
    plan = filters["anklume_plan_all"](inputs, {}, {})
    create = filters["anklume_commands"](plan["instances"], "create")
    assert [c["argv"][:4] for c in create] == [["incus", "create", "anklume/debian-12", "web"]]
    assert create[0]["label"] == "pro/web" and '"security.protection.delete": "true"' in create[0]["stdin"]
    assert filters["anklume_commands"](plan["projects"], "create")[0]["label"] == "pro"


def test_started_reads_the_clock_itself() -> None:
    started = _plugin().FilterModule().filters()["anklume_started"]
    live = [{"project": "p", "name": "a", "status": "Running", "last_used_at": "2000-01-01T00:00:00Z"}]
    assert started(live, [{"project": "p", "name": "a"}], 3) == {"stopped": [], "unsettled": []}


def test_plan_errors_become_filter_errors() -> None:
    plan = _plugin().FilterModule().filters()["anklume_plan_all"]
    bad = {"domains": [{"domain_name": "pro", "incus_network": {}}]}
    with pytest.raises(AnsibleFilterError, match="incus_network needs name"):
        plan(bad, {}, {})


def test_machine_vars_keep_instance_variables_only() -> None:
    machine_vars = _plugin().FilterModule().filters()["anklume_machine_vars"]
    hostvars = {"web": {"instance_name": "web", "ansible_host": "10.0.0.1"}}
    assert machine_vars(hostvars, ["web"]) == [{"instance_name": "web"}]
