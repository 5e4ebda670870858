"""The provisioning fingerprint of a machine and the ones recorded on live instances.

After an instance is provisioned, ``site.yml`` stores the fingerprint of its
roles, their code and their variables on it (``user.anklume.provisioned``);
the next apply skips every instance whose fingerprint still matches. The
values must stay stable across releases: a changed formula re-provisions
every instance of every infra.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from anklume.vocab import PROVISIONED

INFRA_ONLY = frozenset({"incus_all_images"})
"""Variables only the infra play reads: never part of a machine's fingerprint."""


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
