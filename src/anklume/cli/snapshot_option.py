"""``domain apply --no-snapshot``: the option that turns off the pre-apply snapshot.

The option is added to the registered ``domain apply`` command from here, so
the apply command itself needs no knowledge of snapshots; its callback
exports ``ANKLUME_PRE_APPLY_SNAPSHOT=0``, which the ``incus_snapshots`` role
reads in the playbook.
"""

from __future__ import annotations

import functools
import inspect
import os
import typing
from collections.abc import Callable
from typing import Annotated, Any

import typer


def _no_snapshot(value: bool) -> bool:
    """Export ``--no-snapshot`` to the playbook (the incus_snapshots role reads it)."""
    if value:
        os.environ["ANKLUME_PRE_APPLY_SNAPSHOT"] = "0"
    return value


#: ``domain apply --no-snapshot``.
NoSnapshotOpt = Annotated[
    bool,
    typer.Option(
        "--no-snapshot",
        help="Do not snapshot the instances the apply updates (no 'anklume snapshot rollback' for this apply).",
        callback=_no_snapshot,
    ),
]


def _with_option(original: Callable[..., Any]) -> Callable[..., Any]:
    sig = inspect.signature(original, eval_str=True)
    extra = inspect.Parameter("no_snapshot", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=NoSnapshotOpt)

    @functools.wraps(original)
    def apply_with_snapshot_option(*args: Any, no_snapshot: bool = False, **kwargs: Any) -> Any:
        del no_snapshot  # its callback already told the playbook
        return original(*args, **kwargs)

    apply_with_snapshot_option.__signature__ = sig.replace(  # type: ignore[attr-defined]
        parameters=[*sig.parameters.values(), extra]
    )
    apply_with_snapshot_option.__annotations__ = {
        **typing.get_type_hints(original, include_extras=True),
        "no_snapshot": NoSnapshotOpt,
    }
    return apply_with_snapshot_option


def add_no_snapshot(domain_app: typer.Typer) -> None:
    """Give ``domain apply`` the ``--no-snapshot`` option (its callback tells the playbook).

    The option is added to the registered command's signature, so the apply
    command itself needs no knowledge of snapshots.
    """
    for info in domain_app.registered_commands:
        if info.name == "apply" and info.callback is not None:
            if "no_snapshot" not in inspect.signature(info.callback).parameters:
                info.callback = _with_option(info.callback)
            return
