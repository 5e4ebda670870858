"""Ansible filters that call anklume's pure reconcile planner.

The logic lives in the ``anklume.plan`` package (pure planners) and the
``anklume.provision`` package (provisioning fingerprints, which read the
roles' files), typed and unit-tested; these filters only convert errors.
Usage in ``site.yml`` and the roles::

    {{ anklume_inputs | anklume_plan_all(live, options) }}
    {{ anklume_inputs | anklume_plan('networks', live, options) }}
    {{ actions | anklume_commands('create') }}   -> [{label, argv, stdin?}, ...]
    {{ plan | anklume_kinds_to_run(['projects', 'instances']) }}  -> the kinds with commands to run
    {{ live | anklume_started(started, 3) }}     -> {stopped: [...], unsettled: [...]}
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ansible.errors import AnsibleFilterError

try:
    from anklume.errors import AnklumeError
    from anklume.plan import run as _run
    from anklume.plan import started as _started
    from anklume.provision import fingerprint, provision_vars, provisioned, role_digests
except ImportError:  # the framework checkout is used without installing the package
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
    from anklume.errors import AnklumeError
    from anklume.plan import run as _run
    from anklume.plan import started as _started
    from anklume.provision import fingerprint, provision_vars, provisioned, role_digests


def _guard(func: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except AnklumeError as exc:
            msg = f"anklume plan: {exc}"
            raise AnsibleFilterError(msg) from exc

    wrapper.__doc__ = func.__doc__
    return wrapper


def proxy_in_use(project_name: str) -> bool:
    """Say whether the infra has a package proxy set up on this host (imported on use: it is rarely asked)."""
    from anklume.proxy.setup import in_use  # noqa: PLC0415 -- keeps the plugin's import light

    return in_use(str(project_name))


def started(
    live: Sequence[Mapping[str, Any]], instances: Sequence[Mapping[str, Any]], settle: float
) -> dict[str, list[dict[str, str]]]:
    """Return which started ``instances`` stopped and which are not settled yet, now."""
    return _started.verdict(live, instances, float(settle), time.time())


def machine_vars(hostvars: Mapping[str, Any], hosts: list[str]) -> list[dict[str, Any]]:
    """Return the ``instance_*`` variables of each host in ``hosts``."""
    out = []
    for host in hosts:
        hv = hostvars[host]
        out.append({k: hv[k] for k in hv if str(k).startswith("instance_")})
    return out


class FilterModule:
    """anklume planning filters."""

    def filters(self) -> dict[str, Callable[..., Any]]:
        """Return the filters by name."""
        return {
            "anklume_plan": _guard(_run.plan_kind),
            "anklume_plan_all": _guard(_run.plan_all),
            "anklume_plan_document": _guard(_run.plan_document),
            "anklume_fingerprint": fingerprint,
            "anklume_provisioned": provisioned,
            "anklume_provision_vars": provision_vars,
            "anklume_role_digests": role_digests,
            "anklume_machine_vars": machine_vars,
            "anklume_commands": _guard(_run.commands_of),
            "anklume_kinds_to_run": _guard(_run.kinds_to_run),
            "anklume_started": _guard(started),
            "anklume_proxy_in_use": proxy_in_use,
        }
