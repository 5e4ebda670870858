"""The real side effects of ``ai switch``: Incus, the generated files, the host table."""

from __future__ import annotations

from pathlib import Path

from anklume.ai.switch import GpuInstance, Steps, is_running
from anklume.engine.resolved import Resolved
from anklume.incus.run import query, run

STOP_TIMEOUT = 120
"""Seconds given to a GPU instance to stop cleanly before ``incus stop --force``."""


def _resolve(directory: Path) -> Resolved:
    from anklume.engine.pipeline import resolve  # noqa: PLC0415 -- the engine is heavy to import

    return resolve(directory, check_roles=False)


def _running(inst: GpuInstance) -> bool:
    found = query(["list", f"^{inst.name}$"], project=inst.project)
    return any(is_running(i) for i in found or [] if i.get("name") == inst.name)


def _stop(inst: GpuInstance) -> None:
    done = run(["stop", inst.name, f"--timeout={STOP_TIMEOUT}"], project=inst.project, check=False)
    if done.returncode != 0:  # a workload that ignores the shutdown request still has to free the GPU
        run(["stop", inst.name, "--force"], project=inst.project)


def _start(inst: GpuInstance) -> None:
    run(["start", inst.name], project=inst.project)


def _sync(directory: Path) -> None:
    from anklume.engine.pipeline import sync  # noqa: PLC0415 -- the engine is heavy to import

    sync(directory)


def _deploy(resolved: Resolved) -> tuple[str, bool]:
    from anklume.network import deploy, layer_live  # noqa: PLC0415 -- nft helpers import on demand

    done = deploy.deploy(resolved)
    layer_live.apply(resolved, done.table, layer_live.fenced(resolved))
    return done.table, done.loaded


def steps() -> Steps:
    """The steps that act on this host."""
    return Steps(_resolve, _running, _stop, _start, _sync, _deploy)
