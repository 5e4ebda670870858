"""The one place that prints: user output on stdout, errors on stderr (rich)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich.console import Console
from rich.table import Table

_out = Console(highlight=False, soft_wrap=True)
_err = Console(stderr=True, highlight=False, soft_wrap=True)


def out(text: str = "", *, style: str | None = None) -> None:
    """Print plain text (no markup interpretation) to stdout."""
    _out.print(text, style=style, markup=False)


def raw(text: str) -> None:
    """Write text to stdout exactly as given (diffs, rulesets, JSON)."""
    _out.file.write(text)
    _out.file.flush()


def error(text: str) -> None:
    """Print an error message on stderr."""
    _err.print(f"error: {text}", style="red", markup=False)


def warn(text: str) -> None:
    """Print a warning on stderr."""
    _err.print(f"warning: {text}", style="yellow", markup=False)


def info(text: str) -> None:
    """Print a progress or status line on stderr (keeps stdout for data)."""
    _err.print(text, style="dim", markup=False)


def table(title: str, columns: Sequence[str], rows: Iterable[Sequence[str]]) -> None:
    """Print a table on stdout."""
    tab = Table(title=title, title_justify="left", show_edge=False)
    for col in columns:
        tab.add_column(col)
    for row in rows:
        tab.add_row(*row)
    _out.print(tab)
