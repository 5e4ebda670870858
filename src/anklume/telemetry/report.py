"""Charts of the usage log, drawn with plotext (terminal text or HTML fragments).

Rendering never needs a terminal: every size is explicit, so the report
works in pipes, cron jobs and tests alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from anklume.telemetry._log import Event
from anklume.telemetry.stats import per_command, per_day

EMPTY = "no telemetry event recorded (turn it on with: anklume telemetry on)"


@dataclass(frozen=True)
class Chart:
    """One bar chart: a title, bar labels and their values."""

    title: str
    labels: list[str]
    values: list[float]
    horizontal: bool = False


def charts(events: Sequence[Event]) -> list[Chart]:
    """Return the charts of the report: commands per day, duration per command, failures.

    >>> [c.title for c in charts([{"ts": "2025-01-01T00:00:00Z", "command": "sync",
    ...     "domain": None, "duration_s": 1.0, "exit_code": 0}])]
    ['Commands per day', 'Mean duration per command (s)', 'Failures per command']
    >>> charts([])
    []
    """
    if not events:
        return []
    days = per_day(events)
    stats = per_command(events)
    return [
        Chart("Commands per day", [d for d, _ in days], [float(n) for _, n in days]),
        Chart(
            "Mean duration per command (s)",
            [s.command for s in stats],
            [s.mean_s for s in stats],
            horizontal=True,
        ),
        Chart(
            "Failures per command",
            [s.command for s in stats],
            [float(s.failures) for s in stats],
            horizontal=True,
        ),
    ]


def _build(chart: Chart, width: int, *, colorless: bool) -> Any:
    # plotext is heavy and ships no type hints; only the report needs it
    import plotext  # type: ignore[import-untyped]  # noqa: PLC0415 -- imported only when used

    fig = plotext.figure
    fig.clear()
    if colorless:
        fig.theme("colorless")
    height = max(8, min(30, 4 + 3 * len(chart.labels))) if chart.horizontal else 15
    fig.plot_size(width, height)
    fig.title(chart.title)
    orientation = "horizontal" if chart.horizontal else "vertical"
    fig.draw(fig.bar(chart.labels, chart.values, orientation=orientation))
    return fig.build()


def summary(events: Sequence[Event]) -> list[str]:
    """Return the text lines that head the report.

    >>> summary([{"ts": "2025-01-01T00:00:00Z", "command": "sync", "domain": None,
    ...           "duration_s": 1.0, "exit_code": 2}])
    ['1 command from 2025-01-01 to 2025-01-01, 1 failed', '  sync: 1 run, 1 failed, mean 1.0 s, max 1.0 s']
    """
    if not events:
        return [EMPTY]
    failed = sum(1 for e in events if e["exit_code"] != 0)
    count = len(events)
    first, last = min(e["ts"] for e in events)[:10], max(e["ts"] for e in events)[:10]
    lines = [f"{count} command{'s' if count != 1 else ''} from {first} to {last}, {failed} failed"]
    lines.extend(
        f"  {s.command}: {s.runs} run{'s' if s.runs != 1 else ''}, {s.failures} failed, "
        f"mean {s.mean_s} s, max {s.max_s} s"
        for s in per_command(events)
    )
    return lines


def render_text(events: Sequence[Event], *, width: int = 80, color: bool = False) -> str:
    """Return the terminal report: summary lines then the charts."""
    parts = ["\n".join(summary(events))]
    for chart in charts(events):
        built = _build(chart, width, colorless=not color)
        parts.append(str(built.string(colorless=not color)))
    return "\n\n".join(parts) + "\n"


def render_fragments(events: Sequence[Event], *, width: int = 100) -> list[str]:
    """Return each chart as an HTML ``<pre>`` fragment (inline styles, no external asset)."""
    return [str(_build(c, width, colorless=False).html()) for c in charts(events)]
