"""The safety net of ``domain apply``: snapshot what an apply is about to change, and roll back.

The ``incus_snapshots`` role runs ``python -m anklume.ops.preapply`` just
before the instances converge, with the plan's instance actions on stdin.
Every instance the apply updates gets an ``ak-pre-<UTC time>`` snapshot, and
a record of the set is written to ``<infra>/.anklume/pre-apply/<time>.json``
(which apply, which instances). ``anklume snapshot rollback`` reads the
newest record and restores those instances.

A recreated instance is not snapshotted: recreating deletes it with its
snapshots, and the apply exports it to a backup archive first.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from anklume.errors import UsageError
from anklume.ops import snapshots
from anklume.ops.targets import Target

RECORDS = Path(".anklume") / "pre-apply"
DEFAULT_KEEP = 3
SNAPSHOTTED = ("update",)


@dataclass(frozen=True)
class Record:
    """One pre-apply snapshot set."""

    path: Path
    snapshot: str
    time: str
    domains: tuple[str, ...]
    instances: tuple[Target, ...]
    names: tuple[str, ...] = ()
    """The snapshot of each instance (the same name unless the second was taken)."""

    def pairs(self) -> list[tuple[Target, str]]:
        """Each instance with its snapshot."""
        names = self.names or tuple(self.snapshot for _ in self.instances)
        return list(zip(self.instances, names, strict=True))

    def describe(self) -> str:
        """``the apply of <time> (domains: …)``."""
        scope = ", ".join(self.domains) or "every domain"
        return f"the apply of {self.time} ({scope})"


def chosen(actions: Sequence[Mapping[str, Any]]) -> list[Target]:
    """The instances an apply changes in place, from the plan's instance actions.

    >>> acts = [{"action": "update", "name": "a", "project": "p", "domain": "p"},
    ...         {"action": "create", "name": "b", "project": "p", "domain": "p"}]
    >>> [t.name for t in chosen(acts)]
    ['a']
    """
    return [
        Target(str(a["name"]), str(a["name"]), str(a.get("domain", "")), str(a["project"]), "", False, "")
        for a in actions
        if a.get("action") in SNAPSHOTTED
    ]


def records_dir(infra_dir: Path) -> Path:
    """Where the records of an infra live."""
    return infra_dir / RECORDS


def snapshot_before_apply(
    infra_dir: Path, actions: Sequence[Mapping[str, Any]], domains: Sequence[str], keep: int
) -> Record | None:
    """Snapshot the instances the apply updates, record the set, apply retention."""
    targets = chosen(actions)
    if not targets:
        return None
    now = datetime.now(UTC)
    name = snapshots.default_name(now, pre_apply=True)
    made = [snapshots.create(target, name) for target in targets]
    folder = records_dir(infra_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{snapshots.stamp(now)}.json"
    data = {
        "snapshot": name,
        "time": now.strftime("%Y-%m-%d %H:%M:%S UTC"),
        "domains": list(domains),
        "instances": [
            {"name": t.instance, "project": t.project, "domain": t.domain, "snapshot": snap}
            for t, snap in zip(targets, made, strict=True)
        ],
    }
    path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    for target in targets:
        snapshots.retain(target, keep, "pre-apply")
    for old in sorted(folder.glob("*.json"))[: -max(1, keep)]:
        old.unlink()
    return read_record(path)


MAX_RECORD = 1 << 20
"""Records are small; a larger file is not one anklume wrote (skipped)."""


def read_record(path: Path) -> Record:
    """Load one record (written by :func:`snapshot_before_apply`)."""
    if path.stat().st_size > MAX_RECORD:
        msg = f"{path}: not a pre-apply record (too large)"
        raise ValueError(msg)
    data = json.loads(path.read_text(encoding="utf-8"))
    items = list(data.get("instances", []))
    insts = tuple(
        Target(str(i["name"]), str(i["name"]), str(i.get("domain", "")), str(i["project"]), "", False, "")
        for i in items
    )
    names = tuple(str(i.get("snapshot", data["snapshot"])) for i in items)
    return Record(path, str(data["snapshot"]), str(data.get("time", "")), tuple(data.get("domains", [])), insts, names)


def latest(infra_dir: Path, domain: str | None = None) -> Record | None:
    """The newest record (touching ``domain`` when given), restricted to that domain's instances."""
    for path in sorted(records_dir(infra_dir).glob("*.json"), reverse=True):
        try:
            record = read_record(path)
        except (ValueError, KeyError, TypeError, AttributeError, OSError):
            continue
        if domain is None:
            return record
        mine = [(t, n) for t, n in record.pairs() if t.domain == domain]
        if mine:
            return Record(
                record.path,
                record.snapshot,
                record.time,
                record.domains,
                tuple(t for t, _ in mine),
                tuple(n for _, n in mine),
            )
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the role: actions as JSON on stdin; prints one line per snapshot."""
    parser = argparse.ArgumentParser(prog="anklume.ops.preapply")
    parser.add_argument("--infra-dir", type=Path, required=True)
    parser.add_argument("--keep", type=int, default=DEFAULT_KEEP)
    parser.add_argument("--domain", action="append", default=[])
    args = parser.parse_args(argv)
    actions = json.loads(sys.stdin.read() or "[]")
    record = snapshot_before_apply(args.infra_dir, actions, args.domain, max(1, args.keep))
    for target, snap in record.pairs() if record else ():
        sys.stdout.write(f"snapshot {target.project}/{target.instance}/{snap}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())


def check_record(record: Record, declared: Iterable[Target]) -> None:
    """Refuse a record naming anything but this infra's declared instances and ``ak-pre-`` snapshots.

    The infra directory may come from elsewhere: its records are input, not trusted state.
    """
    known = {(t.project, t.instance) for t in declared}
    for target, snap in record.pairs():
        if (target.project, target.instance) not in known or snapshots.kind(snap) != "pre-apply":
            msg = (
                f"{record.path}: {target.project}/{target.instance} snapshot {snap!r} is not a pre-apply snapshot "
                "of an instance this infra declares; refusing to roll back"
            )
            raise UsageError(msg)
