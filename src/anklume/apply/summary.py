"""What a playbook run reports: counts, the changes made, the failures.

The ``anklume_summary`` callback (``callback_plugins/``) writes this record as
JSON to ``$ANKLUME_SUMMARY_FILE`` at the end of a run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Change:
    """One changed task result (a loop item counts once)."""

    phase: str
    task: str
    host: str
    item: str = ""

    def __str__(self) -> str:
        """Return ``phase: task [host] item``.

        >>> str(Change("Infra", "Networks | Create bridges", "localhost", "net-pro"))
        'Infra: Networks | Create bridges [localhost] net-pro'
        """
        tail = f" {self.item}" if self.item else ""
        return f"{self.phase}: {self.task} [{self.host}]{tail}"


@dataclass(frozen=True)
class RunSummary:
    """Totals of one ``ansible-playbook`` run plus its changes and failures."""

    ok: int = 0
    changed: int = 0
    failed: int = 0
    unreachable: int = 0
    skipped: int = 0
    duration: float = 0.0
    changes: tuple[Change, ...] = ()
    failures: tuple[str, ...] = ()
    complete: bool = field(default=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunSummary:
        """Build a summary from the callback's JSON record.

        >>> s = RunSummary.from_dict({"changed": 1, "changes": [
        ...     {"phase": "P", "task": "T", "host": "h", "item": "x"}]})
        >>> (s.changed, s.changes[0].item, s.complete)
        (1, 'x', True)
        """
        changes = tuple(
            Change(
                phase=str(c.get("phase", "")),
                task=str(c.get("task", "")),
                host=str(c.get("host", "")),
                item=str(c.get("item", "")),
            )
            for c in data.get("changes", [])
        )
        return cls(
            ok=int(data.get("ok", 0)),
            changed=int(data.get("changed", 0)),
            failed=int(data.get("failed", 0)),
            unreachable=int(data.get("unreachable", 0)),
            skipped=int(data.get("skipped", 0)),
            duration=float(data.get("duration", 0.0)),
            changes=changes,
            failures=tuple(str(f) for f in data.get("failures", [])),
            complete=True,
        )


def read_summary(path: Path) -> RunSummary:
    """Read the callback's record; an absent file gives an incomplete, empty summary."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return RunSummary()
    data = json.loads(text)
    if not isinstance(data, dict):
        return RunSummary()
    return RunSummary.from_dict(data)
