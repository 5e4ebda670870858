"""Where telemetry lives, whether it is on, and the one call that appends an event."""

from __future__ import annotations

import logging
import os
import time
from typing import TypedDict

log = logging.getLogger(__name__)

_MARKER = "enabled"
_LOG = "usage.jsonl"


class Event(TypedDict):
    """One line of ``usage.jsonl``: these fields and nothing else."""

    ts: str
    command: str
    domain: str | None
    duration_s: float
    exit_code: int


def telemetry_dir() -> str:
    """Return ``$HOME/.anklume/telemetry`` (read from ``$HOME`` at every call)."""
    return os.path.join(os.path.expanduser("~"), ".anklume", "telemetry")


def log_path() -> str:
    """Return the path of the usage log."""
    return os.path.join(telemetry_dir(), _LOG)


def marker_path() -> str:
    """Return the path of the file whose presence means telemetry is on."""
    return os.path.join(telemetry_dir(), _MARKER)


def enabled() -> bool:
    """Tell whether telemetry is on (one ``stat``)."""
    return os.path.exists(marker_path())


def make_event(command: str, domain: str | None, duration_s: float, exit_code: int, now: float) -> Event:
    """Build the event recorded for one command.

    >>> event = make_event("domain apply", "pro", 12.3456, 0, 0.0)
    >>> event["ts"], event["duration_s"], sorted(event)
    ('1970-01-01T00:00:00Z', 12.346, ['command', 'domain', 'duration_s', 'exit_code', 'ts'])
    """
    return {
        "ts": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
        "command": str(command),
        "domain": None if domain is None else str(domain),
        "duration_s": round(float(duration_s), 3),
        "exit_code": int(exit_code),
    }


def record(command: str, domain: str | None, duration_s: float, exit_code: int) -> None:
    """Append one event to the usage log when telemetry is on; never raises.

    A no-op costing one ``stat`` when telemetry is off.
    """
    try:
        if not enabled():
            return
        import json  # noqa: PLC0415 -- only when telemetry is on: the off path stays one stat

        event = make_event(command, domain, duration_s, exit_code, time.time())
        line = json.dumps(event, separators=(",", ":")) + "\n"
        fd = os.open(log_path(), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)
    except Exception:  # telemetry must never break the command it records
        log.debug("telemetry event not recorded", exc_info=True)
