"""Shell completion of domain and instance names, read from the infra of ``-C DIR``.

Completion must never fail loudly: any problem (no infra.yml, invalid file)
completes nothing.
"""

from __future__ import annotations

import os
from pathlib import Path

import typer


def _directory(ctx: typer.Context) -> Path:
    value = ctx.find_root().params.get("directory")
    return Path(value) if value else Path.cwd()


def _names(ctx: typer.Context, *, domains: bool) -> list[str]:
    try:
        from anklume.ops.targets import load  # noqa: PLC0415 -- only when completing

        resolved = load(_directory(ctx))
    except Exception:  # completion never raises
        return []
    if domains:
        return sorted(resolved.domains)
    return sorted(resolved.machines())


def instance_names(ctx: typer.Context, incomplete: str) -> list[str]:
    """Declared machine names starting with ``incomplete``."""
    return [n for n in _names(ctx, domains=False) if n.startswith(incomplete)]


def domain_names(ctx: typer.Context, incomplete: str) -> list[str]:
    """Declared domain names starting with ``incomplete``."""
    return [n for n in _names(ctx, domains=True) if n.startswith(incomplete)]


def enable() -> None:
    """Register the shells' completion classes when a shell asks for completions.

    ``eval "$(_ANKLUME_COMPLETE=source_bash anklume)"`` (``source_zsh``,
    ``source_fish``) installs completion in a shell; only then is the
    completion machinery loaded.
    """
    if os.environ.get("_ANKLUME_COMPLETE"):
        from typer._completion_classes import completion_init  # noqa: PLC0415 -- only when completing

        completion_init()


enable()
