"""Turn telemetry on and off, read the usage log, clear it."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from anklume.telemetry._log import Event, enabled, log_path, marker_path, telemetry_dir

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Status:
    """Whether telemetry is on, where the log is and how many events it holds."""

    enabled: bool
    path: Path
    events: int


def enable() -> None:
    """Turn telemetry on (creates the private directory and the marker file)."""
    os.makedirs(telemetry_dir(), mode=0o700, exist_ok=True)
    Path(marker_path()).touch(mode=0o600)


def disable() -> None:
    """Turn telemetry off; the log already written is kept (see :func:`clear`)."""
    Path(marker_path()).unlink(missing_ok=True)


def clear() -> int:
    """Delete the usage log; return how many events it held."""
    count = len(read_events())
    Path(log_path()).unlink(missing_ok=True)
    return count


def status() -> Status:
    """Return the current status."""
    return Status(enabled(), Path(log_path()), len(read_events()))


def parse_events(lines: list[str]) -> list[Event]:
    """Parse usage-log lines, skipping (and logging) malformed ones.

    >>> parse_events(['{"ts": "2025-01-02T03:04:05Z", "command": "sync", "domain": null,'
    ...               ' "duration_s": 1.5, "exit_code": 0}', 'garbage', ''])
    [{'ts': '2025-01-02T03:04:05Z', 'command': 'sync', 'domain': None, 'duration_s': 1.5, 'exit_code': 0}]
    """
    events: list[Event] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            event: Event = {
                "ts": str(raw["ts"]),
                "command": str(raw["command"]),
                "domain": None if raw.get("domain") is None else str(raw["domain"]),
                "duration_s": float(raw["duration_s"]),
                "exit_code": int(raw["exit_code"]),
            }
        except (ValueError, KeyError, TypeError):
            log.warning("skipping malformed telemetry line %d", number)
            continue
        events.append(event)
    return events


def read_events(path: Path | None = None) -> list[Event]:
    """Read every event of the usage log (or of ``path``); none when there is no log."""
    source = path or Path(log_path())
    try:
        text = source.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    return parse_events(text.splitlines())
