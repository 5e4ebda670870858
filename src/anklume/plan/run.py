"""Entry points for the playbook: plan every kind at once, fingerprints.

The Ansible filter plugin only converts types and errors; the logic is here
so that it is typed and unit-tested.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from anklume.plan.action import to_dicts
from anklume.plan.declare import declare
from anklume.plan.images import plan_images
from anklume.plan.instances import plan_instances
from anklume.plan.model import PROVISIONED, Declared, Live, PlanOptions
from anklume.plan.networks import plan_networks
from anklume.plan.profiles import plan_profiles
from anklume.plan.projects import plan_projects

KINDS = ("projects", "networks", "profiles", "images", "instances")
_PLANNERS = {
    "projects": plan_projects,
    "networks": plan_networks,
    "profiles": plan_profiles,
    "images": plan_images,
    "instances": plan_instances,
}


def declared_from(inputs: Mapping[str, Any]) -> Declared:
    """Return the declared state of ``{domains, machines, settings}``."""
    return declare(inputs.get("domains") or [], inputs.get("machines") or [], inputs.get("settings"))


def plan_kind(
    inputs: Mapping[str, Any], kind: str, live: Mapping[str, Any], options: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """Return the actions of one kind as plain dicts.

    >>> plan_kind({"domains": []}, "projects", {}, {})
    []
    """
    planner = _PLANNERS[kind]
    return to_dicts(planner(declared_from(inputs), Live.from_mapping(live), PlanOptions.from_mapping(options)))


def plan_all(
    inputs: Mapping[str, Any], live: Mapping[str, Any], options: Mapping[str, Any]
) -> dict[str, list[dict[str, Any]]]:
    """Return ``{kind: [action, ...]}`` for every kind, from one live snapshot."""
    declared = declared_from(inputs)
    state = Live.from_mapping(live)
    opts = PlanOptions.from_mapping(options)
    return {kind: to_dicts(_PLANNERS[kind](declared, state, opts)) for kind in KINDS}


def plan_document(plan: Mapping[str, list[Mapping[str, Any]]]) -> dict[str, Any]:
    """Return the plan file document: every action, in apply order, with counts.

    >>> doc = plan_document({"projects": [{"action": "create"}], "networks": []})
    >>> doc["counts"], doc["changes"]
    ({'create': 1}, 1)
    """
    actions = [dict(a) for kind in KINDS for a in plan.get(kind, [])]
    counts: dict[str, int] = {}
    for action in actions:
        counts[str(action["action"])] = counts.get(str(action["action"]), 0) + 1
    changing = sum(n for verb, n in counts.items() if verb != "orphan")
    return {"version": 1, "actions": actions, "counts": counts, "changes": changing}


def fingerprint(data: object) -> str:
    """Return a stable short hash of JSON-able ``data``.

    >>> fingerprint({"b": 1, "a": [2]}) == fingerprint({"a": [2], "b": 1})
    True
    >>> len(fingerprint({}))
    16
    """
    blob = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def provisioned(instances: list[Mapping[str, Any]], actions: Sequence[Mapping[str, Any]] = ()) -> dict[str, str]:
    """Return ``project/name → fingerprint`` recorded on live instances.

    An instance the instance ``actions`` recreate is a new one, never
    provisioned: the fingerprint of the instance it replaces is left out.

    >>> live = [{"project": "pro", "name": "web", "config": {"user.anklume.provisioned": "ab"}}, {"name": "x"}]
    >>> provisioned(live)
    {'pro/web': 'ab'}
    >>> provisioned(live, [{"action": "recreate", "project": "pro", "name": "web"}])
    {}
    """
    rebuilt = {f"{a.get('project', 'default')}/{a.get('name')}" for a in actions if a.get("action") == "recreate"}
    out = {}
    for inst in instances:
        key = f"{inst.get('project', 'default')}/{inst['name']}"
        value = (inst.get("config") or {}).get(PROVISIONED)
        if value and key not in rebuilt:
            out[key] = str(value)
    return out


INFRA_ONLY = frozenset({"incus_all_images"})


def provision_vars(hostvars: Mapping[str, Any], roles: list[str]) -> dict[str, Any]:
    """Return the variables a machine's provisioning depends on.

    ``instance_*``, ``domain_*`` and ``incus_*`` variables, plus every variable
    whose name starts with one of the machine's role names.

    Variables only the infra play reads (``INFRA_ONLY``) are left out: the
    image list of the whole infra changes with any machine's image, and must
    not re-provision every other machine.

    >>> provision_vars({"instance_ip": "1", "web_port": 80, "other": 1, "incus_all_images": []}, ["web"])
    {'instance_ip': '1', 'web_port': 80}
    """
    prefixes = ("instance_", "domain_", "incus_", *(f"{r}_" for r in roles))
    return {k: hostvars[k] for k in sorted(hostvars) if k.startswith(prefixes) and k not in INFRA_ONLY}
