"""``anklume doctor``: is this host ready for anklume?"""

from __future__ import annotations

import typer

from anklume.cli import _present
from anklume.cli.context import options

_MARK = {"ok": "ok", "warn": "WARN", "fail": "FAIL"}


def doctor(ctx: typer.Context) -> None:
    """Check this host: root, Ansible, Incus (daemon, VMs, storage), nftables and
    foreign firewalls, and the infra directory (valid, files up to date, images
    present). Exits 1 when something fails; warnings say what is limited.

    Examples:

      anklume doctor

      anklume -C ~/my-infra doctor
    """
    from anklume.doctor import run_checks  # noqa: PLC0415 -- keep CLI start fast
    from anklume.engine.load import find_source  # noqa: PLC0415 -- imported only when used
    from anklume.errors import UsageError  # noqa: PLC0415 -- imported only when used

    directory = options(ctx).directory
    try:
        find_source(directory)
        with_infra = True
    except UsageError:
        with_infra = False
    checks = run_checks(directory, with_infra=with_infra)
    rows = [(_MARK[c.level], c.name, c.detail, c.fix) for c in checks]
    _present.table("anklume doctor", ["", "check", "result", "how to fix"], rows)
    if not with_infra:
        _present.info(f"no infra.yml or infra/ in {directory}: infra checks skipped")
    if any(c.level == "fail" for c in checks):
        raise typer.Exit(1)
