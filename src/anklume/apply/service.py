"""The three operations behind ``anklume domain apply | check | status``."""

from __future__ import annotations

import os
import sys
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from anklume.apply import freshness, lock, runner, status, workspace
from anklume.apply.framework import find_ansible_playbook, find_framework
from anklume.apply.plan import read_plan
from anklume.apply.summary import RunSummary, read_summary
from anklume.plan.action import Action


@dataclass(frozen=True)
class RunOutcome:
    """Exit code of the playbook and what it reported."""

    rc: int
    summary: RunSummary


def _run(
    infra_dir: Path,
    inventory: tuple[Path, ...],
    req: runner.PlaybookRequest,
    *,
    quiet: bool,
    keep_fd: int | None,
    what: str,
) -> tuple[RunOutcome, list[Action]]:
    fw = find_framework()
    playbook_bin = find_ansible_playbook()
    with (
        workspace.staged_inventory(infra_dir, inventory, fw.playbook) as stage,
        tempfile.TemporaryDirectory(prefix="anklume-run-") as tmp,
    ):
        summary_file = Path(tmp) / "summary.json"
        if req.plan_file is not None:
            req = replace(req, plan_file=Path(tmp) / "plan.json")
        argv = runner.playbook_argv(
            playbook_bin, fw, stage / workspace.INVENTORY, req, playbook=stage / workspace.PLAYBOOK
        )
        env = runner.playbook_env(
            os.environ, fw, infra_dir, playbook_bin, summary_file, quiet=quiet, verbose=req.verbose
        )
        keep = () if keep_fd is None else (keep_fd,)
        rc = runner.run_playbook(argv, env, infra_dir, keep)
        summary = read_summary(summary_file)
        if rc != 0:
            detail = f": {summary.failed} failed, {summary.unreachable} unreachable" if summary.complete else ""
            raise runner.PlaybookFailed(what, argv, rc, detail)
        plan: list[Action] = []
        if req.plan_file is not None and (req.plan_only or req.plan_file.exists()):
            plan = read_plan(req.plan_file)
    return RunOutcome(rc, summary), plan


def apply_infra(infra_dir: Path, req: runner.PlaybookRequest) -> tuple[RunOutcome, list[Action]]:
    """Run ``site.yml`` against the infra directory, holding the infra and apply locks.

    Raises :class:`~anklume.apply.runner.PlaybookFailed` when the playbook fails.

    Both are taken (the apply lock first) before the generated files are
    checked to be fresh; the ``anklume network deploy`` that Ansible runs
    shares the infra lock (:func:`anklume.apply.lock.infra_lock`).

    Also returns the plan the run acted on, so that what it left alone on
    purpose (``needs-recreate``, orphans) can be reported.
    """
    lock_path = lock.default_lock_path(infra_dir)
    # both locks before the freshness check: no sync may change the files between the check and the run;
    # the host-wide apply lock first, so that a second apply is told an apply is running
    with lock.apply_lock(lock_path, sys.argv) as fd, lock.infra_lock(infra_dir):
        generated = freshness.ensure_fresh(infra_dir)
        req = replace(req, disabled=generated.disabled, plan_file=Path("plan.json"), plan_only=False)
        return _run(infra_dir, generated.inventory, req, quiet=False, keep_fd=fd, what="apply")


def check_infra(infra_dir: Path, req: runner.PlaybookRequest) -> tuple[RunOutcome, list[Action]]:
    """Run ``site.yml`` in plan-only mode and return the plan (nothing is changed)."""
    generated = freshness.ensure_fresh(infra_dir)
    plan_req = replace(req, plan_file=Path("plan.json"), plan_only=True, disabled=generated.disabled, provision=False)
    return _run(infra_dir, generated.inventory, plan_req, quiet=True, keep_fd=None, what="check")


def infra_status(infra_dir: Path) -> list[status.StatusRow]:
    """Compare declared instances with one live listing of every project."""
    from anklume.engine.pipeline import resolve  # noqa: PLC0415 -- the engine is heavy to import
    from anklume.incus.run import query  # noqa: PLC0415 -- only status talks to Incus directly

    resolved = resolve(infra_dir, check_roles=False)
    disabled = {name for name, dom in resolved.domains.items() if not dom.enabled}
    live = query(["list", "--all-projects"])
    instances = live if isinstance(live, list) else []
    return status.compare(status.declared_instances(resolved), instances, disabled)
