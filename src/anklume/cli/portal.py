"""``anklume portal``: copy files between instances and the host, as infra.yml allows; show the audit log."""

from __future__ import annotations

import json
import time
from typing import Annotated

import typer

from anklume.cli import _present
from anklume.cli.context import options
from anklume.errors import printable

app = typer.Typer(
    help=(
        "Copy files and directories between instances (and the host), only where infra.yml allows it "
        "(domains' file_portal, file_policies); every copy is logged in .anklume/portal.log."
    ),
    no_args_is_help=True,
)


def _size(n: float) -> str:
    """A byte count for people.

    >>> _size(0), _size(1536), _size(3 * 2**30)
    ('0 B', '1.5 KiB', '3.0 GiB')
    """
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"  # pragma: no cover -- the loop always returns


@app.command("copy")
def copy(
    ctx: typer.Context,
    source: Annotated[str, typer.Argument(help="instance:/path (a machine of infra.yml), or a host path.")],
    destination: Annotated[
        str, typer.Argument(help="instance:/path or a host path; an existing directory receives SOURCE inside it.")
    ],
    force: Annotated[
        bool,
        typer.Option("--force", help="Copy even where infra.yml does not allow it (administrators; logged as forced)."),
    ] = False,
) -> None:
    """Copy a file or a directory, streamed, between instances or between an instance and the host.

    Each instance side needs its domain's file_portal (allowed_paths, read_only);
    two domains also need a file_policies rule. Paths are resolved inside
    their instance ('..' and links included) before they are checked. The
    copy keeps modes and numeric owners inside the destination's idmap; it
    never overwrites: an existing DESTINATION directory receives SOURCE
    inside it, otherwise DESTINATION is the new name. Every copy, allowed,
    denied or forced, is logged with the sha256 of each file
    (anklume portal log). Exit 1 when infra.yml refuses it, 2 for bad
    arguments or a missing path.

    Examples:

      anklume portal copy perso-web:/srv/share/report.pdf pro-dev:/srv/inbox

      anklume portal copy ./photos pro-dev:/home/user/photos

      anklume portal copy pro-dev:/srv/out/build .

      anklume -C ~/my-infra portal copy --force ai-box:/srv/models admin-ws:/srv/in
    """
    from anklume.portal import copy as portal_copy  # noqa: PLC0415 -- keep CLI start fast
    from anklume.portal.stream import Summary  # noqa: PLC0415

    last = [time.monotonic()]

    def progress(summary: Summary) -> None:
        if time.monotonic() - last[0] >= 2:
            last[0] = time.monotonic()
            _present.info(f"… {len(summary.files)} files, {_size(summary.bytes)}")

    start = time.monotonic()
    done = portal_copy.copy(
        options(ctx).directory, source, destination, force=force, progress=progress, warn=_present.warn
    )
    summary = done.summary
    seconds = time.monotonic() - start
    if summary.skipped:
        shown = printable(", ".join(summary.skipped[:5]))
        _present.warn(f"{len(summary.skipped)} special files (devices, FIFOs) not copied: {shown}")
    if summary.setid_cleared:
        _present.warn(f"setuid/setgid bits cleared on {summary.setid_cleared} files (never kept upwards in trust)")
    _present.out(
        printable(
            f"copied {done.source.label} → {done.destination.label}: {len(summary.files)} files, "
            f"{_size(summary.bytes)} in {seconds:.1f} s ({done.decision}; sha256 of each file in .anklume/portal.log)"
        )
    )


@app.command("log")
def log(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="The entries as a JSON array, every field.")] = False,
    last: Annotated[int, typer.Option("--last", "-n", min=0, help="Only the last N entries (0: all).")] = 0,
) -> None:
    """Show the portal's audit log: every copy, allowed, denied or forced.

    The table shows when, who, the decision, both sides, the files and bytes;
    --json gives every field, with the sha256 of each file.

    Examples:

      anklume portal log

      anklume portal log --last 5

      anklume portal log --json | jq '.[] | select(.decision != "allowed")'
    """
    from collections import deque  # noqa: PLC0415

    from anklume.portal import audit  # noqa: PLC0415 -- keep CLI start fast

    entries = list(deque(audit.read(options(ctx).directory), maxlen=last or None))
    if as_json:
        _present.raw(json.dumps(entries, indent=1) + "\n")
        return
    rows = [
        [printable(str(x)) for x in (
            e.get("time", "?"), e.get("sudo_user") or e.get("user", "?"), e.get("decision", "?"),
            _label(e.get("source")), _label(e.get("destination")), len(e.get("files") or []),
            _size(float(e.get("bytes") or 0)), str(e.get("result", "?"))[:60],
        )]
        for e in entries
    ]  # fmt: skip
    _present.table("Portal log", ["time", "who", "decision", "source", "destination", "files", "bytes", "result"], rows)


def _label(side: object) -> str:
    """``machine:/path`` or the host path of a logged side.

    >>> _label({"instance": "pro-dev", "path": "/srv/a"}), _label({"host": True, "path": "/root/a"})
    ('pro-dev:/srv/a', '/root/a')
    """
    if not isinstance(side, dict):
        return "?"
    path = str(side.get("path", "?"))
    return f"{side['instance']}:{path}" if side.get("instance") else path
