"""Read templates, golden images and derived instances from Incus (one listing per kind)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from anklume.errors import UsageError
from anklume.golden.keys import DATE, ORIGIN, PROP_PREFIX, TEMPLATE, Origin, generation, parse_origin
from anklume.incus.run import query

COW_DRIVERS = frozenset({"btrfs", "zfs", "ceph", "cephfs"})
"""Pool drivers whose copies of a snapshot share blocks (lvm only with a thin pool)."""


@dataclass(frozen=True)
class Template:
    """A template instance and the generation of its current pristine snapshot."""

    project: str
    name: str
    generation: int
    date: str
    status: str
    pool: str

    @property
    def snapshot(self) -> str:
        """The name of the current pristine snapshot."""
        return f"golden-{self.generation}"


def _generations(inst: Mapping[str, Any]) -> list[int]:
    found = []
    for snap in inst.get("snapshots") or ():
        gen = generation(str(snap.get("name", "")))
        if gen is not None and TEMPLATE in (snap.get("config") or {}):
            found.append(gen)
    return found


def templates(instances: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str], Template]:
    """The templates among listed instances, by ``(project, name)``.

    A template is an instance with at least one ``golden-N`` snapshot carrying
    the template mark; its current snapshot is the highest N.

    >>> snap = {"name": "golden-2", "config": {TEMPLATE: "golden-2", DATE: "2026-12-02T13:00:00Z"}}
    >>> t = templates([{"name": "tpl", "project": "pro", "status": "Stopped", "snapshots": [snap],
    ...     "expanded_devices": {"root": {"type": "disk", "pool": "default", "path": "/"}}}])
    >>> t["pro", "tpl"].snapshot, t["pro", "tpl"].pool
    ('golden-2', 'default')
    """
    result = {}
    for inst in instances:
        gens = _generations(inst)
        if not gens:
            continue
        gen = max(gens)
        snap = next(s for s in inst.get("snapshots") or () if s.get("name") == f"golden-{gen}")
        project, name = str(inst.get("project", "default")), str(inst["name"])
        result[project, name] = Template(
            project=project,
            name=name,
            generation=gen,
            date=str((snap.get("config") or {}).get(DATE) or snap.get("created_at") or ""),
            status=str(inst.get("status", "")),
            pool=root_pool(inst),
        )
    return result


def root_pool(inst: Mapping[str, Any]) -> str:
    """The storage pool of an instance's root disk ('' when it has none).

    >>> root_pool({"expanded_devices": {"root": {"type": "disk", "path": "/", "pool": "fast"}}})
    'fast'
    """
    for dev in (inst.get("expanded_devices") or {}).values():
        if dev.get("type") == "disk" and dev.get("path") == "/":
            return str(dev.get("pool", ""))
    return ""


def origin_of(inst: Mapping[str, Any]) -> Origin | None:
    """Where a live instance was derived from (None when it was not)."""
    return parse_origin((inst.get("config") or {}).get(ORIGIN))


def image_origin(image: Mapping[str, Any]) -> Origin | None:
    """Where a published golden image comes from (None for other images)."""
    return parse_origin((image.get("properties") or {}).get(PROP_PREFIX + "origin"))


def read_instances() -> list[dict[str, Any]]:
    """Every instance of every project, with its snapshots."""
    return list(query(["list", "--all-projects"]) or [])


def read_images() -> list[dict[str, Any]]:
    """Every image of every project."""
    return list(query(["image", "list", "--all-projects"]) or [])


def pool_copy_kind(pool: str) -> tuple[str, str]:
    """``(driver, copy kind)`` of a storage pool, read from Incus."""
    data = query(["query", f"/1.0/storage-pools/{quote(pool, safe='')}"]) or {}
    driver = str(data.get("driver", ""))
    return driver, copy_kind(driver, data.get("config"))


def copy_kind(driver: str, config: Mapping[str, Any] | None = None) -> str:
    """Say how Incus copies a snapshot on a pool of this driver.

    >>> copy_kind("btrfs"), copy_kind("dir")
    ('copy-on-write', 'plain copy')
    >>> copy_kind("lvm", {"lvm.use_thinpool": "true"}), copy_kind("lvm", {"lvm.use_thinpool": "false"})
    ('copy-on-write', 'plain copy')
    """
    if driver in COW_DRIVERS or (driver == "lvm" and str((config or {}).get("lvm.use_thinpool", "true")) == "true"):
        return "copy-on-write"
    return "plain copy"


def find_template(found: Mapping[tuple[str, str], Template], name: str, project: str | None) -> Template:
    """The template called ``name`` (in ``project`` when given), or a usage error saying what exists."""
    matches: Sequence[Template] = [
        t for (proj, inst), t in found.items() if inst == name and (project is None or proj == project)
    ]
    if len(matches) == 1:
        return matches[0]
    known = ", ".join(f"{t.project}/{t.name}" for t in found.values()) or "none"
    if matches:
        msg = f"several templates are called {name!r} ({', '.join(t.project for t in matches)}); name the domain"
    else:
        msg = f"{name!r} is not a template (templates: {known}); make one with 'anklume golden create {name}'"
    raise UsageError(msg)
