"""``anklume telemetry``: opt-in, local-only usage log and its report."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Annotated

import typer

from anklume.cli import _present

app = typer.Typer(
    help=(
        "Opt-in, local-only usage telemetry: when on, every anklume command appends one line "
        "(command, domain, duration, exit code, time) to ~/.anklume/telemetry/usage.jsonl. "
        "Nothing is ever sent anywhere."
    ),
    no_args_is_help=True,
)


@app.command("on")
def on() -> None:
    """Start recording (example: anklume telemetry on)."""
    from anklume.telemetry import store  # noqa: PLC0415 -- keep CLI start fast

    store.enable()
    _present.out(f"telemetry on; log: {store.status().path}")


@app.command("off")
def off() -> None:
    """Stop recording; the log is kept (example: anklume telemetry off)."""
    from anklume.telemetry import store  # noqa: PLC0415 -- keep CLI start fast

    store.disable()
    _present.out("telemetry off (the log is kept; 'anklume telemetry clear' deletes it)")


@app.command("status")
def status() -> None:
    """Say whether telemetry is on and how many events the log holds.

    Example: anklume telemetry status
    """
    from anklume.telemetry import store  # noqa: PLC0415 -- keep CLI start fast

    st = store.status()
    _present.out(f"telemetry {'on' if st.enabled else 'off'}; {st.events} events in {st.path}")


@app.command("clear")
def clear() -> None:
    """Delete the usage log (example: anklume telemetry clear)."""
    from anklume.telemetry import store  # noqa: PLC0415 -- keep CLI start fast

    _present.out(f"deleted {store.clear()} events")


@app.command("report")
def report(
    html: Annotated[
        Path | None,
        typer.Option("--html", help="Also write a self-contained HTML report to this file.", dir_okay=False),
    ] = None,
    log: Annotated[
        Path | None,
        typer.Option("--log", help="Read this usage log instead of ~/.anklume/telemetry/usage.jsonl.", dir_okay=False),
    ] = None,
    width: Annotated[int | None, typer.Option("--width", min=40, help="Chart width (default: the terminal's).")] = None,
) -> None:
    """Draw charts of the usage log: commands per day, duration per command, failures.

    Examples:

      anklume telemetry report

      anklume telemetry report --html usage.html
    """
    from anklume.telemetry import store  # noqa: PLC0415 -- keep CLI start fast
    from anklume.telemetry.html_page import page  # noqa: PLC0415 -- keep CLI start fast
    from anklume.telemetry.report import (  # noqa: PLC0415 -- imports plotext
        render_fragments,
        render_text,
        summary,
    )

    events = store.read_events(log)
    columns = width or shutil.get_terminal_size(fallback=(100, 24)).columns
    _present.raw(render_text(events, width=min(columns, 160), color=sys.stdout.isatty()))
    if html is not None:
        doc = page("anklume usage", summary(events), render_fragments(events))
        html.write_text(doc, encoding="utf-8")
        _present.info(f"wrote {html}")
