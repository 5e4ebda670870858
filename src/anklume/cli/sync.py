"""``anklume sync``: write the Ansible files of infra.yml."""

from __future__ import annotations

from typing import Annotated

import typer

from anklume.cli import _present
from anklume.cli.context import YoloOpt, options
from anklume.errors import printable


def sync(
    ctx: typer.Context,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print a diff of every file that would change; write nothing.")
    ] = False,
    check: Annotated[
        bool,
        typer.Option("--check", help="Exit 3 and list stale files when the generated files are out of date."),
    ] = False,
    clean_orphans: Annotated[
        bool,
        typer.Option("--clean-orphans", help="Delete generated files nothing declares (never protected ones)."),
    ] = False,
    yolo: YoloOpt = False,
) -> None:
    """Generate inventory/, group_vars/ and host_vars/ from infra.yml (or infra/).

    Only the block between '# === MANAGED BY infra.yml ===' and
    '# === END MANAGED ===' of each file is rewritten: what you add outside
    it is kept byte for byte.

    Examples:

        anklume sync                 # write the files

        anklume sync --dry-run       # show what would change

        anklume -C ~/my-infra sync --check   # CI: fail (exit 3) on drift
    """
    from anklume.apply.lock import infra_lock  # noqa: PLC0415 -- imported only when used
    from anklume.engine.pipeline import sync as run  # noqa: PLC0415 -- keep CLI start fast
    from anklume.engine.write import Change, diff, stale  # noqa: PLC0415 -- imported only when used

    directory = options(ctx).directory
    with infra_lock(directory):  # one sync, network deploy or domain apply per infra at a time
        result = run(directory, write=not (dry_run or check), clean=clean_orphans, yolo=yolo)
    for text in result.resolved.warnings:
        _present.warn(text)
    if check:
        drift = [str(p) for p in stale(result.plan)]
        drift += [f"{printable(str(o.path))} (orphan)" for o in result.orphans]
        if drift:
            _present.out(f"{len(drift)} generated file(s) out of date; run 'anklume sync':")
            for line in drift:
                _present.out(f"  {line}")
            raise typer.Exit(3)
        _present.out(f"generated files are up to date ({len(result.plan.files)} files)")
        return
    if dry_run:
        _present.raw(diff(result.plan))
        _present.info(f"{len(result.plan.pending)} file(s) would change; nothing written")
        _report_orphans(result.orphans, deleted=[])
        return
    plan = result.plan
    counts = {c.value: plan.count(c) for c in Change}
    summary = ", ".join(f"{n} {c}" for c, n in counts.items() if n)
    _present.out(f"synced {len(plan.files)} files in {directory}: {summary}")
    _report_orphans(result.orphans, deleted=[str(p) for p in result.deleted])


def _report_orphans(orphans: list, deleted: list[str]) -> None:  # type: ignore[type-arg]  # Orphan list
    for orphan in orphans:
        shown = printable(str(orphan.path))  # a file name in a cloned infra may hold terminal escapes
        if str(orphan.path) in deleted or str(orphan.root / orphan.path) in deleted:
            _present.out(f"deleted orphan {shown}")
        elif orphan.protected:
            _present.warn(f"orphan {shown} is protected ({orphan.reason}); delete it by hand if intended")
        else:
            _present.warn(f"orphan {shown}: nothing declares it; 'anklume sync --clean-orphans' deletes it")
