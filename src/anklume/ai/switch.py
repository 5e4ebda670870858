"""``anklume ai switch``: move the exclusive AI access to another domain, live.

The order protects the previous holder's data, then opens the new path:

1. check the target against infra.yml (exclusive policy, a declared and
   enabled domain other than ``ai-tools``, no policy of infra.yml fixing
   the access);
2. stop the GPU workloads that may hold the previous holder's data in
   video memory: the running ``gpu: true`` instances of the previous
   holder and of ``ai-tools`` (stopping an instance ends its processes,
   which frees their VRAM);
3. record the new holder, rewrite the generated files (``sync``: only the
   policy anklume adds changes) and redeploy the host table: ``nft -f``
   replaces the whole table in one transaction, so no moment exists where
   both domains, or neither by mistake, reach ``ai-tools``;
4. start again the ``ai-tools`` GPU instances stopped in step 2 (fresh
   processes, empty VRAM) for the new holder. The previous holder's own
   GPU instances stay stopped; ``anklume instance start`` brings them back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from anklume.ai import holder as holders
from anklume.engine.load import load
from anklume.engine.references import AI_DOMAIN
from anklume.engine.resolved import Resolved
from anklume.engine.validate import validate
from anklume.errors import UsageError
from anklume.ops.targets import check_name

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class GpuInstance:
    """A ``gpu: true`` instance in Incus terms."""

    name: str
    project: str
    domain: str


@dataclass(frozen=True, slots=True)
class Switched:
    """What a switch did."""

    previous: str | None
    holder: str
    stopped: list[GpuInstance] = field(default_factory=list)
    restarted: list[GpuInstance] = field(default_factory=list)
    table: str = ""
    loaded: bool = False
    unchanged: bool = False


def gpu_instances(resolved: Resolved, domains: Sequence[str]) -> list[GpuInstance]:
    """The ``gpu: true`` instances of ``domains`` (enabled ones), in declaration order."""
    found = []
    for name in domains:
        dom = resolved.domains.get(name)
        if dom is None or not dom.enabled:
            continue
        found += [GpuInstance(m.instance_name, dom.incus_project, name) for m in dom.machines.values() if m.gpu]
    return found


def check_target(directory: Path, domain: str) -> tuple[str | None, str]:
    """Return (current holder, target) or raise :class:`UsageError` saying why the switch is refused."""
    check_name(domain, "domain")
    infra = validate(load(directory))
    if infra.global_.ai_access_policy != "exclusive":
        msg = "ai switch needs global.ai_access_policy: exclusive in infra.yml (with ai_access_default)"
        raise UsageError(msg)
    reason = holders.stale_reason(infra, domain)
    if reason is not None:
        known = sorted(n for n, d in infra.domains.items() if d.enabled and n != AI_DOMAIN)
        msg = f"cannot give the AI access to '{domain}': {reason} (domains that can hold it: {', '.join(known)})"
        raise UsageError(msg)
    current, _ = holders.current(infra, directory)
    return current, domain


@dataclass(frozen=True, slots=True)
class Steps:
    """The side effects of a switch, injectable for tests of the order."""

    resolve: Callable[[Path], Resolved]
    running: Callable[[GpuInstance], bool]
    stop: Callable[[GpuInstance], None]
    start: Callable[[GpuInstance], None]
    sync: Callable[[Path], None]
    deploy: Callable[[Resolved], tuple[str, bool]]


def switch(directory: Path, domain: str, steps: Steps) -> Switched:
    """Move the access to ``domain`` (see the module's docstring for the order)."""
    previous, target = check_target(directory, domain)
    if previous == target:
        resolved = steps.resolve(directory)
        table, loaded = steps.deploy(resolved)  # make sure the live table says so (a no-op when it does)
        return Switched(previous, target, table=table, loaded=loaded, unchanged=True)
    before = steps.resolve(directory)
    served = gpu_instances(before, [AI_DOMAIN])
    owned = gpu_instances(before, [previous] if previous else [])
    stopped = [g for g in served + owned if steps.running(g)]
    for inst in stopped:
        log.info("stopping gpu instance", extra={"anklume_domain": inst.domain, "instance": inst.name})
        steps.stop(inst)
    before_record = holders.read(directory)
    holders.write(directory, target, previous)
    try:
        steps.sync(directory)
        table, loaded = steps.deploy(steps.resolve(directory))
    except BaseException:  # the table still holds the previous access: say so in the record too
        holders.restore(directory, before_record)
        raise
    restarted = [g for g in stopped if g.domain == AI_DOMAIN]
    for inst in restarted:
        steps.start(inst)
    return Switched(previous, target, stopped, restarted, table, loaded)


def is_running(live: Mapping[str, Any] | None) -> bool:
    """Say whether a live instance (``incus list`` JSON) is running.

    >>> is_running({"status": "Running"}), is_running({"status": "Stopped"}), is_running(None)
    (True, False, False)
    """
    return bool(live) and str((live or {}).get("status", "")).lower() == "running"
