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


def test_kv_builds_sorted_key_value_arguments() -> None:
    kv = _plugin().FilterModule().filters()["anklume_kv"]
    assert kv({"b": "2", "a": "", "c": None}) == ["a=", "b=2", "c="]


def test_plan_errors_become_filter_errors() -> None:
    plan = _plugin().FilterModule().filters()["anklume_plan_all"]
    bad = {"domains": [{"domain_name": "pro", "incus_network": {}}]}
    with pytest.raises(AnsibleFilterError, match="incus_network needs name"):
        plan(bad, {}, {})


def test_machine_vars_keep_instance_variables_only() -> None:
    machine_vars = _plugin().FilterModule().filters()["anklume_machine_vars"]
    hostvars = {"web": {"instance_name": "web", "ansible_host": "10.0.0.1"}}
    assert machine_vars(hostvars, ["web"]) == [{"instance_name": "web"}]
