"""Pure aggregations of telemetry events for the report."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from anklume.telemetry._log import Event


@dataclass(frozen=True)
class CommandStats:
    """Figures of one command over the log."""

    command: str
    runs: int
    failures: int
    mean_s: float
    max_s: float


def per_day(events: Iterable[Event]) -> list[tuple[str, int]]:
    """Count the commands run per day (UTC), oldest first.

    >>> per_day([{"ts": "2025-01-02T10:00:00Z"}, {"ts": "2025-01-01T09:00:00Z"},
    ...          {"ts": "2025-01-02T11:00:00Z"}])
    [('2025-01-01', 1), ('2025-01-02', 2)]
    """
    return sorted(Counter(e["ts"][:10] for e in events).items())


def per_command(events: Iterable[Event]) -> list[CommandStats]:
    """Return runs, failures and durations per command, most used first.

    >>> evs = [{"command": "sync", "duration_s": 1.0, "exit_code": 0},
    ...        {"command": "sync", "duration_s": 3.0, "exit_code": 2},
    ...        {"command": "domain apply", "duration_s": 40.0, "exit_code": 0}]
    >>> [(s.command, s.runs, s.failures, s.mean_s, s.max_s) for s in per_command(evs)]
    [('sync', 2, 1, 2.0, 3.0), ('domain apply', 1, 0, 40.0, 40.0)]
    """
    durations: dict[str, list[float]] = defaultdict(list)
    failures: Counter[str] = Counter()
    for e in events:
        durations[e["command"]].append(e["duration_s"])
        if e["exit_code"] != 0:
            failures[e["command"]] += 1
    stats = [
        CommandStats(cmd, len(ds), failures[cmd], round(sum(ds) / len(ds), 3), max(ds)) for cmd, ds in durations.items()
    ]
    return sorted(stats, key=lambda s: (-s.runs, s.command))


def failure_codes(events: Iterable[Event]) -> list[tuple[int, int]]:
    """Count the failed runs per exit code.

    >>> failure_codes([{"exit_code": 0}, {"exit_code": 2}, {"exit_code": 2},
    ...                {"exit_code": 1}])
    [(1, 1), (2, 2)]
    """
    return sorted(Counter(e["exit_code"] for e in events if e["exit_code"] != 0).items())
