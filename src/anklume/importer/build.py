"""Build the infra.yml document from live projects, bridges and instances (pure)."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from anklume.engine.addressing import bridge_name
from anklume.engine.model import NAME
from anklume.importer.document import document
from anklume.importer.keys import split_config
from anklume.importer.machines import NIC, Notes, machine

_NAME = re.compile(NAME)
_PROFILE = re.compile(r"^[a-z0-9]([a-z0-9_.-]*[a-z0-9])?$")
_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
WHY_NAME = "lowercase letters, digits and '-', not starting or ending with '-'"


@dataclass(frozen=True)
class LiveProject:
    """One Incus project and what it holds."""

    name: str
    description: str = ""
    instances: Sequence[Mapping[str, Any]] = ()
    profiles: Sequence[Mapping[str, Any]] = ()
    images: Sequence[Mapping[str, Any]] = ()


@dataclass
class Imported:
    """The document, what could not be carried over, and the names anklume refuses."""

    document: dict[str, Any] = field(default_factory=dict)
    notes: Notes = field(default_factory=Notes)
    problems: list[str] = field(default_factory=list)


def name_problem(kind: str, name: str, max_len: int, pattern: re.Pattern[str] = _NAME, why: str = WHY_NAME) -> str:
    """Why ``name`` cannot be a name of this kind ('' when it can).

    >>> name_problem("domain", "laboratory-x", 11)
    "domain 'laboratory-x': at most 11 characters (the bridge net-<domain> must fit Linux's 15)"
    >>> name_problem("machine", "Web_1", 59)
    "machine 'Web_1': must be lowercase letters, digits and '-', not starting or ending with '-'"
    """
    if not pattern.match(name):
        return f"{kind} {name!r}: must be {why}"
    if len(name) > max_len:
        reason = " (the bridge net-<domain> must fit Linux's 15)" if kind == "domain" else ""
        return f"{kind} {name!r}: at most {max_len} characters{reason}"
    return ""


def _profiles(proj: LiveProject, include: Iterable[str], imported: Imported) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for prof in proj.profiles:
        name = str(prof.get("name"))
        problem = name_problem("profile", name, 63, _PROFILE, "lowercase letters, digits, '_', '.' and '-'")
        if problem:
            imported.problems.append(f"project {proj.name}: {problem}")
            continue
        config, withheld = split_config(prof.get("config") or {}, include)
        if withheld:
            imported.notes.withheld[f"profile {proj.name}/{name}"] = withheld
        devices = {str(k): {a: str(b) for a, b in v.items()} for k, v in (prof.get("devices") or {}).items()}
        if name == "default":
            devices = {k: v for k, v in devices.items() if k not in ("root", NIC)}
        body = {k: v for k, v in (("config", config), ("devices", devices)) if v}
        if body or name != "default":
            out[name] = body
    return out


def _keys_problems(where: str, entry: Mapping[str, Any]) -> list[str]:
    keys = [*(entry.get("config") or {}), *(entry.get("devices") or {})]
    return [f"{where}: key {k!r} does not fit anklume's pattern" for k in keys if not _KEY.match(k)]


def build(
    projects: Sequence[LiveProject],
    networks: Sequence[Mapping[str, Any]],
    *,
    project_name: str,
    prefix: str = "",
    include: Iterable[str] = (),
) -> Imported:
    """Return the infra.yml document of these projects (``prefix``: the nesting prefix to strip)."""
    imported = Imported()
    patterns = list(include)
    by_net = {str(n.get("name")): n for n in networks}
    domains: dict[str, dict[str, Any]] = {}
    subnets: dict[str, str] = {}
    seen: dict[str, list[str]] = {}
    for proj in projects:
        domain = proj.name.removeprefix(prefix)
        problem = name_problem("domain", domain, 11)
        if problem:
            imported.problems.append(f"project {proj.name}: {problem}")
            continue
        bridge = by_net.get(bridge_name(domain, prefix))
        config = (bridge or {}).get("config") or {}
        address = str(config.get("ipv4.address") or "")
        subnet = _subnet(address)
        if bridge is None:
            imported.notes.warnings.append(
                f"domain {domain}: no bridge {bridge_name(domain, prefix)}; apply creates it"
            )
        elif subnet:
            subnets[domain] = subnet
            if not address.split("/", maxsplit=1)[0].endswith(".254"):
                imported.notes.warnings.append(f"domain {domain}: bridge gateway {address} moves to .254 on apply")
        body: dict[str, Any] = {}
        if proj.description:
            body["description"] = proj.description.splitlines()[0]
        if bridge is not None:
            body["nat"] = str(config.get("ipv4.nat", "false")).lower() == "true"
        profiles = _profiles(proj, patterns, imported)
        if profiles:
            body["profiles"] = profiles
        machines = {}
        for inst in proj.instances:
            name = str(inst.get("name"))
            problem = name_problem("machine", name, 59)
            if problem:
                imported.problems.append(f"project {proj.name}: {problem}")
                continue
            seen.setdefault(name, []).append(proj.name)
            entry = machine(inst, images=proj.images, subnet=subnet, include=patterns, notes=imported.notes)
            imported.problems += _keys_problems(f"instance {proj.name}/{name}", entry)
            nic = (inst.get("devices") or {}).get(NIC) or {}
            if bridge is not None and nic.get("network") not in (None, bridge.get("name")):
                imported.notes.warnings.append(
                    f"instance {name}: eth0 moves from {nic['network']} to its domain's bridge"
                )
            machines[name] = entry
        body["machines"] = machines
        domains[domain] = body
    imported.problems += [
        f"machine {n!r} exists in projects {', '.join(p)}: machine names must be unique across domains"
        for n, p in seen.items()
        if len(p) > 1
    ]
    imported.problems += [f"machine {n!r} has the name of a domain" for n in seen if n in domains]
    imported.document = document(project_name, domains, subnets, imported.notes.warnings)
    return imported


def _subnet(address: str) -> str | None:
    if "/" not in address:
        return None
    try:
        return str(ipaddress.IPv4Interface(address).network)
    except ValueError:
        return None
