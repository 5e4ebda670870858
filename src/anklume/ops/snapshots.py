"""Snapshots of declared instances: names, retention, create/list/restore/delete.

anklume's own snapshots start with ``ak-`` and carry a UTC timestamp:
``ak-20261202T051500Z`` (made by ``snapshot create``) and
``ak-pre-20261202T051500Z`` (made before an apply). Retention only ever
deletes anklume's own snapshots of the same kind; a snapshot a user named
otherwise is never touched.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote

from anklume.errors import UsageError
from anklume.incus.run import query, run
from anklume.ops.targets import Target

PREFIX = "ak-"
PRE_APPLY = "ak-pre-"
_STAMP = re.compile(r"^ak-(pre-)?\d{8}T\d{6}Z(-\d+)?$")
_USER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")


@dataclass(frozen=True)
class Snapshot:
    """One snapshot of one instance."""

    name: str
    created: str
    stateful: bool = False


def stamp(now: datetime | None = None) -> str:
    """The UTC timestamp part of a snapshot name.

    >>> stamp(datetime(2026, 12, 2, 5, 15, 0, tzinfo=UTC))
    '20261202T051500Z'
    """
    return (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")


def default_name(now: datetime | None = None, *, pre_apply: bool = False) -> str:
    """anklume's name for a new snapshot.

    >>> default_name(datetime(2026, 12, 2, 5, 15, 0, tzinfo=UTC))
    'ak-20261202T051500Z'
    >>> default_name(datetime(2026, 12, 2, 5, 15, 0, tzinfo=UTC), pre_apply=True)
    'ak-pre-20261202T051500Z'
    """
    return (PRE_APPLY if pre_apply else PREFIX) + stamp(now)


def is_ours(name: str) -> bool:
    """Say whether anklume made this snapshot (and may delete it by retention).

    >>> is_ours("ak-20261202T051500Z"), is_ours("ak-pre-20261202T051500Z"), is_ours("before-upgrade")
    (True, True, False)
    >>> is_ours("ak-mine")
    False
    """
    return bool(_STAMP.match(name))


def kind(name: str) -> str:
    """``pre-apply``, ``anklume`` or ``user``.

    >>> kind("ak-pre-20261202T051500Z"), kind("ak-20261202T051500Z"), kind("x")
    ('pre-apply', 'anklume', 'user')
    """
    if not is_ours(name):
        return "user"
    return "pre-apply" if name.startswith(PRE_APPLY) else "anklume"


def check_snapshot_name(name: str) -> str:
    """Refuse a snapshot name Incus would reject or that looks like an option."""
    if not _USER_NAME.match(name):
        msg = f"invalid snapshot name {name!r} (letters, digits, '.', '_' and '-'; not starting with '-')"
        raise UsageError(msg)
    return name


def to_delete(names: Sequence[str], keep: int, of_kind: str) -> list[str]:
    """The snapshots retention deletes: all but the ``keep`` newest of anklume's own of ``of_kind``.

    Names embed their UTC time, so they sort chronologically; other kinds
    and user-named snapshots are never selected.

    >>> names = ["ak-20260101T000000Z", "mine", "ak-20260301T000000Z", "ak-pre-20260201T000000Z",
    ...          "ak-20260201T000000Z"]
    >>> to_delete(names, 1, "anklume")
    ['ak-20260101T000000Z', 'ak-20260201T000000Z']
    >>> to_delete(names, 0, "pre-apply")
    ['ak-pre-20260201T000000Z']
    >>> to_delete(names, 5, "anklume")
    []
    """
    if keep < 0:
        msg = "--keep must be 0 or more"
        raise UsageError(msg)
    ours = sorted(n for n in names if kind(n) == of_kind)
    return ours[: max(0, len(ours) - keep)]


def listing(target: Target) -> list[Snapshot]:
    """The snapshots of one instance, oldest first."""
    url = f"/1.0/instances/{quote(target.instance)}/snapshots?recursion=1&project={quote(target.project)}"
    data = query(["query", url])
    snaps = [
        Snapshot(str(s.get("name", "")).rsplit("/", 1)[-1], str(s.get("created_at", "")), bool(s.get("stateful")))
        for s in (data if isinstance(data, list) else [])
    ]
    return sorted(snaps, key=lambda s: s.created)


def unique(name: str, existing: Sequence[str]) -> str:
    """``name``, or ``name-N`` when an earlier snapshot of the same second holds it.

    >>> unique("ak-20261202T051500Z", ["ak-20261202T051500Z"])
    'ak-20261202T051500Z-1'
    """
    taken = set(existing)
    candidate, n = name, 0
    while candidate in taken:
        n += 1
        candidate = f"{name}-{n}"
    return candidate


def create(target: Target, name: str) -> str:
    """Snapshot one instance (its disk; running containers included); return the name used.

    anklume's timestamped names get a ``-N`` suffix when the same second is taken.
    """
    if is_ours(name):
        name = unique(name, [s.name for s in listing(target)])
    run(["snapshot", "create", target.instance, name], project=target.project)
    return name


def restore(target: Target, name: str) -> None:
    """Return one instance to a snapshot (a running instance is restarted by Incus)."""
    run(["snapshot", "restore", target.instance, name], project=target.project)


def delete(target: Target, name: str) -> None:
    """Delete one snapshot."""
    run(["snapshot", "delete", target.instance, name], project=target.project)


def retain(target: Target, keep: int, of_kind: str) -> list[str]:
    """Apply retention to one instance; return the snapshots deleted."""
    doomed = to_delete([s.name for s in listing(target)], keep, of_kind)
    for name in doomed:
        delete(target, name)
    return doomed
