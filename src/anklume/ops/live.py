"""Live instance state and the interactive incus calls (stdio inherited).

Reads go through :func:`anklume.incus.run.query`; commands whose output
belongs to the user (a shell, ``exec``) run the incus client with the
terminal attached, as an argv list.
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping, Sequence
from typing import Any

from anklume.incus.run import binary, project_argv, query
from anklume.ops.targets import Target
from anklume.vocab import INFRA, PROTECT, PROVISIONED

DISPOSABLE = "user.anklume.disposable"
"""Config key marking a disposable instance (its value: the pid of the CLI that opened it)."""

JsonObj = Mapping[str, Any]


def all_instances() -> list[JsonObj]:
    """Every instance of every project (one ``incus list``)."""
    data = query(["list", "--all-projects"])
    return list(data) if isinstance(data, list) else []


def by_key(instances: Sequence[JsonObj]) -> dict[tuple[str, str], JsonObj]:
    """Index live instances by ``(project, name)``."""
    return {(str(i.get("project", "default")), str(i.get("name"))): i for i in instances}


def config(inst: JsonObj | None) -> Mapping[str, Any]:
    """The config mapping of a live instance ({} when absent)."""
    return (inst or {}).get("config") or {}


def is_protected(inst: JsonObj | None) -> bool:
    """Say whether deleting the instance is refused by Incus."""
    return str(config(inst).get(PROTECT, "")).lower() == "true"


def is_provisioned(inst: JsonObj | None) -> bool:
    """Say whether an apply recorded a provisioning fingerprint."""
    return bool(config(inst).get(PROVISIONED))


def of_infra(inst: JsonObj, infra: str) -> bool:
    """Say whether an instance carries this infra's ``user.anklume.infra`` key."""
    return str(config(inst).get(INFRA, "")) == infra


def ipv4(inst: JsonObj | None) -> str:
    """The first global IPv4 address of eth0 ('' when none)."""
    state = (inst or {}).get("state") or {}
    net = (state.get("network") or {}).get("eth0") or {}
    for addr in net.get("addresses") or ():
        if addr.get("family") == "inet" and addr.get("scope") == "global":
            return str(addr.get("address", ""))
    return ""


def status(inst: JsonObj | None) -> str:
    """Live status ('missing' when the instance does not exist)."""
    return str(inst.get("status", "?")).lower() if inst else "missing"


def incus_argv(target: Target, *args: str) -> list[str]:
    """``incus --project P ARGS`` for a target."""
    return [binary(), *project_argv(target.project), *args]


def interactive(argv: Sequence[str]) -> int:
    """Run a command with the terminal attached and return its exit code."""
    return subprocess.run(list(argv), check=False).returncode
