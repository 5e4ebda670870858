"""``anklume dev``: maintainer tools: code graphs and dead code, lint, tests."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from anklume.cli import _present
from anklume.cli.context import options

app = typer.Typer(
    help="Maintainer tools: code graphs and dead code (graph), the project's lint and tests.",
    no_args_is_help=True,
)


class GraphType(StrEnum):
    """Which analysis ``dev graph`` runs."""

    code = "code"
    deps = "deps"
    dead = "dead"
    vars = "vars"


@app.command("graph")
def graph(
    ctx: typer.Context,
    kind: Annotated[
        list[GraphType] | None,
        typer.Option(
            "--type",
            "-t",
            help="code: call graph (pyan3); deps: module graph (pydeps); dead: vulture + shellcheck; "
            "vars: unused Ansible variables (little-timmy). Repeatable; default: all.",
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Directory for the files (default: build/graphs).", file_okay=False),
    ] = None,
) -> None:
    """Draw the code graphs and list dead code, then print a summary.

    Exit 1 when a tool is missing or fails (the message says how to install it).

    Examples:

      anklume dev graph

      anklume dev graph --type code --output /tmp/graphs
    """
    from anklume.devtools.graph import KINDS, analyse  # noqa: PLC0415 -- keep CLI start fast
    from anklume.devtools.project import source_root  # noqa: PLC0415 -- keep CLI start fast

    root = source_root(options(ctx).directory)
    out = (output or root / "build" / "graphs").resolve()
    kinds = [k.value for k in kind] if kind else list(KINDS)
    outcomes = analyse(root, out, kinds)
    rows = [
        (
            o.name,
            "ok" if o.ok else "not run",
            "" if o.findings is None else str(o.findings),
            o.message if o.ok else "see below",
            ", ".join(p.name for p in o.outputs),
        )
        for o in outcomes
    ]
    _present.table(f"dev graph ({out})", ["analysis", "status", "findings", "summary", "files"], rows)
    failed = [o for o in outcomes if not o.ok]
    for o in failed:
        _present.error(f"{o.name}: {o.message}")
    if failed:
        raise typer.Exit(1)


def _make(ctx: typer.Context, target: str) -> None:
    from anklume.devtools.project import make, source_root  # noqa: PLC0415 -- keep CLI start fast

    raise typer.Exit(make(source_root(options(ctx).directory), target))


@app.command("lint")
def lint(ctx: typer.Context) -> None:
    """Run the project's linters (make lint: ruff, mypy, yamllint, ansible-lint, shellcheck).

    Example: anklume dev lint
    """
    _make(ctx, "lint")


@app.command("test")
def run_tests(ctx: typer.Context) -> None:
    """Run the project's whole test suite (make test).

    Example: anklume dev test
    """
    _make(ctx, "test")
