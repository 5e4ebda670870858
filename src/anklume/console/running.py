"""Which instances run: one ``incus list --all-projects`` for the whole console."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any

ListAll = Callable[[], list[dict[str, Any]]]
"""Returns the instances of every project, as ``incus list --format json`` prints them."""


def incus_command() -> str:
    """Return the incus client a pane runs (``$ANKLUME_INCUS`` or ``incus``, found on PATH by tmux)."""
    return os.environ.get("ANKLUME_INCUS") or "incus"


def incus_list_all() -> list[dict[str, Any]]:
    """Run ``incus list --all-projects --format json`` once and return its records."""
    from anklume.incus.run import query  # noqa: PLC0415 -- pydantic only when Incus is asked

    records = query(["list", "--all-projects"])
    return [r for r in records or [] if isinstance(r, dict)]


def running_set(records: Iterable[dict[str, Any]]) -> frozenset[tuple[str, str]]:
    """Return ``(project, name)`` of the running instances among ``incus list`` records.

    >>> sorted(running_set([
    ...     {"name": "web", "project": "pro", "status": "Running"},
    ...     {"name": "db", "project": "pro", "status": "Stopped"},
    ...     {"name": "x", "status": "Running"},
    ... ]))
    [('default', 'x'), ('pro', 'web')]
    """
    return frozenset(
        (str(r.get("project") or "default"), str(r["name"]))
        for r in records
        if r.get("status") == "Running" and "name" in r
    )


def running_instances(list_all: ListAll = incus_list_all) -> frozenset[tuple[str, str]]:
    """Return ``(project, name)`` of every running instance (one Incus call)."""
    return running_set(list_all())
