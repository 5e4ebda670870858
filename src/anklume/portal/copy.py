"""``anklume portal copy``: from two arguments to a checked, streamed, logged copy."""

from __future__ import annotations

import os
import posixpath
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from anklume.engine.model import Infra
from anklume.errors import AnklumeError, UsageError
from anklume.ops.targets import Target, all_targets
from anklume.portal import audit, policy, scripts, sides, spec, transfer
from anklume.portal.stream import Summary


class PortalDenied(AnklumeError):
    """The infra does not allow this copy (exit 1: a refusal, like a protected instance)."""

    def __init__(self, reasons: list[str]) -> None:
        self.reasons = reasons
        lines = "\n  ".join(reasons)
        super().__init__(f"copy refused by infra.yml (logged as denied):\n  {lines}\n  (--force overrides, logged)")


@dataclass
class Outcome:
    """A copy that happened."""

    decision: str
    source: policy.Side
    destination: policy.Side
    summary: Summary
    warnings: list[str] = field(default_factory=list)


def _load(directory: Path) -> tuple[Infra, dict[str, Target]]:
    from anklume.engine.enrich import enrich  # noqa: PLC0415 -- the engine is heavy to import
    from anklume.engine.host import gather  # noqa: PLC0415
    from anklume.engine.load import load  # noqa: PLC0415
    from anklume.engine.validate import validate  # noqa: PLC0415

    doc = load(directory)
    infra = validate(doc)
    rp = infra.global_.resource_policy
    resolved = enrich(infra, gather(need_resources=rp is not None and rp is not False), doc.source)
    return infra, all_targets(resolved)


def _side(target: Target | None, path: str) -> policy.Side:
    if target is None:
        return policy.Side(None, None, "admin", path)
    return policy.Side(target.name, target.domain, target.trust, path)


def _entry(decision: str, src: policy.Side, dst: policy.Side, force: bool) -> dict[str, Any]:
    def side(s: policy.Side) -> dict[str, Any]:
        where = {"instance": s.machine, "domain": s.domain} if s.machine else {"host": True}
        return {**where, "trust": s.trust, "path": s.path}

    return {"time": audit.now(), **audit.who(), "decision": decision, "force": force,
            "source": side(src), "destination": side(dst)}  # fmt: skip


def copy(
    directory: Path,
    src_text: str,
    dst_text: str,
    *,
    force: bool = False,
    progress: Callable[[Summary], None] = lambda _s: None,
    warn: Callable[[str], None] = lambda _m: None,
) -> Outcome:
    """Copy ``src_text`` to ``dst_text`` when infra.yml allows it (or ``force``); log it either way."""
    infra, targets = _load(directory)
    audit.ready(directory)
    cwd = os.getcwd()
    src_spec = spec.parse(src_text, set(targets), cwd)
    dst_spec = spec.parse(dst_text, set(targets), cwd)
    if src_spec.machine is None and dst_spec.machine is None:
        msg = "both sides are host paths: the portal copies to or from an instance (use cp on the host)"
        raise UsageError(msg)
    src_t = targets[src_spec.machine] if src_spec.machine else None
    dst_t = targets[dst_spec.machine] if dst_spec.machine else None
    found, name, there = sides.probe_both(src_t, src_spec.path, dst_t, dst_spec.path, str(src_spec))
    landing, final = sides.destination(there, name, str(dst_spec))
    src = _side(src_t, found.resolved)
    dst = _side(dst_t, posixpath.join(landing, final))
    portals = {d: dom.file_portal for d, dom in infra.domains.items()}
    decision = policy.decide(src, dst, portals, infra.file_policies or [])
    entry = _entry("allowed" if decision.allowed else ("forced" if force else "denied"), src, dst, force)
    if not decision.allowed:
        entry["reasons"] = decision.reasons
        if not force:
            audit.append(directory, {**entry, "bytes": 0, "files": [], "result": "refused"})
            raise PortalDenied(decision.reasons)
        warn("--force: copying although infra.yml does not allow it (logged as forced): " + "; ".join(decision.reasons))
    entry["warnings"] = decision.warnings
    for text in decision.warnings:
        warn(text)
    send = scripts.argv(src_t.project if src_t else None, src_t.instance if src_t else None,
                        scripts.SEND, posixpath.dirname(found.resolved) or "/", name)  # fmt: skip
    options = scripts.INSTANCE_TAR if dst_t else scripts.HOST_TAR
    receive = scripts.argv(dst_t.project if dst_t else None, dst_t.instance if dst_t else None,
                           scripts.RECEIVE, landing, final, *options)  # fmt: skip
    clear = dst_t is None or policy.rank(src.trust) < policy.rank(dst.trust)
    try:
        summary = transfer.run(send, receive, name, final, clear_setid=clear, progress=progress)
    except BaseException as exc:
        audit.append(directory, {**entry, "bytes": 0, "files": [], "result": f"failed: {exc}"[:2000]})
        raise
    files = [{"path": f.path, "size": f.size, "sha256": f.sha256} for f in summary.files]
    result = {"bytes": summary.bytes, "files": files, "skipped": summary.skipped,
              "setid_cleared": summary.setid_cleared, "result": "ok"}  # fmt: skip
    audit.append(directory, {**entry, **result})
    return Outcome(entry["decision"], src, dst, summary, decision.warnings)
