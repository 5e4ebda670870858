"""Read what an import needs from Incus: projects, bridges, instances, profiles, images."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from anklume.errors import UsageError
from anklume.importer.build import LiveProject
from anklume.incus.run import query

DEFAULT_PROJECT = "default"


def choose(existing: Sequence[str], wanted: Sequence[str]) -> list[str]:
    """The projects to import: those named (each must exist), else every one but ``default``.

    >>> choose(["default", "pro", "lab"], [])
    ['lab', 'pro']
    >>> choose(["default", "pro"], ["lab"])
    Traceback (most recent call last):
    ...
    anklume.errors.UsageError: no Incus project 'lab' (projects: default, pro)
    >>> choose(["default", "pro"], ["default"])
    Traceback (most recent call last):
    ...
    anklume.errors.UsageError: project 'default' cannot become a domain: it is Incus's own project, shared by every \
domain's images and bridges; move its instances to a project of their own (incus move NAME --target-project P)
    """
    for name in wanted:
        if name == DEFAULT_PROJECT:
            msg = (
                "project 'default' cannot become a domain: it is Incus's own project, shared by every domain's "
                "images and bridges; move its instances to a project of their own (incus move NAME --target-project P)"
            )
            raise UsageError(msg)
        if name not in existing:
            msg = f"no Incus project {name!r} (projects: {', '.join(sorted(existing))})"
            raise UsageError(msg)
    if wanted:
        return list(dict.fromkeys(wanted))
    return sorted(p for p in existing if p != DEFAULT_PROJECT)


def _list(argv: list[str], project: str | None = None) -> list[dict[str, Any]]:
    return list(query(argv, project=project) or [])


def read(wanted: Sequence[str]) -> tuple[list[LiveProject], list[dict[str, Any]], dict[str, str], int]:
    """``(projects, bridges, project configs' infra marks, instances left in default)``."""
    listed = _list(["project", "list"])
    names = choose([str(p["name"]) for p in listed], wanted)
    infra_marks = {
        str(p["name"]): str((p.get("config") or {}).get("user.anklume.infra", ""))
        for p in listed
        if str(p["name"]) in names
    }
    projects = [
        LiveProject(
            name=name,
            description=str(next(p for p in listed if p["name"] == name).get("description") or ""),
            instances=_list(["list"], name),
            profiles=_list(["profile", "list"], name),
            images=_list(["image", "list"], name),
        )
        for name in names
    ]
    left = 0 if wanted else len(_list(["list"], DEFAULT_PROJECT))
    return projects, _list(["network", "list"]), infra_marks, left
