"""Opt-in, local-only usage telemetry (``~/.anklume/telemetry/``).

Importing this package costs almost nothing (no plotting library): the CLI
calls :func:`record` after every command, and it returns at once when
telemetry is off. Nothing is ever sent over a network.
"""

from __future__ import annotations

from anklume.telemetry._log import Event, enabled, log_path, record, telemetry_dir

__all__ = ["Event", "enabled", "log_path", "record", "telemetry_dir"]
