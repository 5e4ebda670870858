"""``domain apply --no-snapshot``: the option that turns off the pre-apply snapshot."""

from __future__ import annotations

from typing import Annotated

import typer

#: ``domain apply --no-snapshot`` (site.yml then skips the incus_snapshots role).
NoSnapshotOpt = Annotated[
    bool,
    typer.Option(
        "--no-snapshot",
        help="Do not snapshot the instances the apply updates (no 'anklume snapshot rollback' for this apply).",
    ),
]
