"""Make a template, derive an instance from it, publish it as an image with provenance."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from anklume.errors import IncusError, UsageError
from anklume.golden.keys import DATE, ORIGIN, TEMPLATE, Origin, generation, snapshot_name
from anklume.golden.live import Template, pool_copy_kind, root_pool
from anklume.incus.run import query, run
from anklume.vocab import DOMAIN, INFRA, MANAGED, PROTECT

STOP_TIMEOUT_S = 120
_FINGERPRINT = re.compile(r"fingerprint:\s*([0-9a-f]{64})")
COMPRESSIONS = ("none", "gzip", "zstd", "xz", "bzip2", "lzma", "lz4")
PUT_FIELDS = ("architecture", "config", "devices", "ephemeral", "profiles", "stateful", "description")


@dataclass(frozen=True)
class Declared:
    """What infra.yml says about a derived machine (None when it is not declared there)."""

    domain: str
    infra: str
    ephemeral: bool


def instance(project: str, name: str) -> dict[str, Any]:
    """One live instance with its snapshots, or a usage error when it does not exist."""
    try:
        data = query(["query", f"/1.0/instances/{quote(name, safe='')}?project={quote(project, safe='')}&recursion=1"])
    except IncusError as exc:
        msg = f"instance {name!r} does not exist in project {project!r} (apply its domain first)"
        raise UsageError(msg) from exc
    return dict(data or {})


def exists(project: str, name: str) -> bool:
    """Say whether an instance of that name exists in the project."""
    return run(["info", name], project=project, check=False).returncode == 0


def project_exists(project: str) -> bool:
    """Say whether the Incus project exists."""
    return run(["project", "show", project], check=False).returncode == 0


def stamp(now: datetime | None = None) -> str:
    """An ISO 8601 UTC time, to the second.

    >>> stamp(datetime(2026, 12, 2, 13, 5, 9, tzinfo=UTC))
    '2026-12-02T13:05:09Z'
    """
    return (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")


def next_generation(snapshots: Sequence[Mapping[str, Any]]) -> int:
    """The generation after every ``golden-N`` snapshot already there.

    >>> next_generation([{"name": "golden-1"}, {"name": "golden-4"}, {"name": "mine"}]), next_generation([])
    (5, 1)
    """
    gens = [g for g in (generation(str(s.get("name", ""))) for s in snapshots) if g is not None]
    return max(gens, default=0) + 1


def create(project: str, name: str) -> tuple[Template, bool]:
    """Stop the instance, mark it and take its pristine snapshot; return the template and whether it was stopped now."""
    inst = instance(project, name)
    stopped_now = str(inst.get("status")) != "Stopped"
    if stopped_now:
        run(["stop", name], project=project, timeout=STOP_TIMEOUT_S)
    gen = next_generation(inst.get("snapshots") or [])
    snap, when = snapshot_name(gen), stamp()
    run(["config", "set", name, f"{TEMPLATE}={snap}", f"{DATE}={when}"], project=project)
    run(["snapshot", "create", name, snap], project=project)
    template = Template(project, name, gen, when, "Stopped", root_pool(inst))
    return template, stopped_now


def derived_config(config: Mapping[str, Any], origin: Origin, declared: Declared | None) -> dict[str, str]:
    """The config of a fresh copy: the template's, without its marks, with its origin and owner.

    >>> cfg = {TEMPLATE: "golden-1", DATE: "x", "user.anklume.provisioned": "f", MANAGED: "true",
    ...     DOMAIN: "lab", "limits.cpu": "1", PROTECT: "true"}
    >>> derived_config(cfg, Origin("lab", "tpl", 1), Declared("pro", "demo", True))  # doctest: +NORMALIZE_WHITESPACE
    {'limits.cpu': '1', 'image.anklume.golden.origin': 'lab/tpl/golden-1',
     'user.anklume.managed': 'true', 'user.anklume.domain': 'pro', 'user.anklume.infra': 'demo'}
    >>> derived_config(cfg, Origin("lab", "tpl", 1), None)[PROTECT]
    'true'
    """
    out = {str(k): str(v) for k, v in config.items() if not str(k).startswith("user.anklume.")}
    out[ORIGIN] = str(origin)
    if declared is not None:
        out.pop(PROTECT, None)
        out.update({MANAGED: "true", DOMAIN: declared.domain})
        if declared.infra:
            out[INFRA] = declared.infra
        if not declared.ephemeral:
            out[PROTECT] = "true"
    return out


def root_devices(devices: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, str]]:
    """Keep the root disk only: the template's NIC, shares and data disks belong to the template.

    >>> root_devices({"root": {"type": "disk", "path": "/", "pool": "p"}, "eth0": {"type": "nic"}})
    {'root': {'type': 'disk', 'path': '/', 'pool': 'p'}}
    """
    return {
        str(k): {str(a): str(b) for a, b in v.items()}
        for k, v in devices.items()
        if v.get("type") == "disk" and v.get("path") == "/"
    }


def derive(
    template: Template,
    new: str,
    project: str,
    *,
    profiles: Sequence[str],
    declared: Declared | None,
    start: bool = True,
) -> tuple[str, str]:
    """Copy the template's current snapshot to ``project/new``; return ``(pool driver, copy kind)``."""
    if exists(project, new):
        msg = f"an instance called {new!r} already exists in project {project!r}"
        raise UsageError(msg)
    driver, kind = pool_copy_kind(template.pool) if template.pool else ("unknown", "plain copy")
    argv = ["copy", f"{template.name}/{template.snapshot}", new, "--target-project", project]
    for profile in profiles:
        argv += ["--profile", profile]
    run(argv, project=template.project)
    current = instance(project, new)
    body = {k: current[k] for k in PUT_FIELDS if k in current}
    origin = Origin(template.project, template.name, template.generation)
    body["config"] = derived_config(current.get("config") or {}, origin, declared)
    body["devices"] = root_devices(current.get("devices") or {})
    run(["config", "edit", new], project=project, input=json.dumps(body))
    if start:
        run(["start", new], project=project)
    return driver, kind


def publish(template: Template, alias: str, props: Mapping[str, str], compression: str | None = None) -> str:
    """Publish the template's current snapshot as an image; return its fingerprint."""
    argv = ["publish", f"{template.name}/{template.snapshot}", "--alias", alias, "--reuse"]
    if compression:
        argv += ["--compression", compression]
    argv += [f"{k}={v}" for k, v in props.items()]
    done = run(argv, project=template.project)
    found = _FINGERPRINT.search(done.stdout)
    if found:
        return found.group(1)
    image = query(["query", f"/1.0/images/aliases/{quote(alias, safe='')}?project={quote(template.project, safe='')}"])
    return str((image or {}).get("target", ""))
