"""``anklume ai status``: who holds the exclusive AI access, and what the host table says."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from anklume.ai import holder as holders
from anklume.engine.load import load
from anklume.engine.references import AI_DOMAIN
from anklume.engine.resolved import Resolved
from anklume.engine.validate import validate


@dataclass(frozen=True, slots=True)
class AiStatus:
    """The access as infra.yml and the record give it, and the policy the table enforces."""

    policy: str
    default: str | None
    holder: str | None
    record: holders.Record | None
    enforced: list[str]
    """Sources of the policies that reach ``ai-tools`` in the resolved infra (what deploy loads)."""
    candidates: list[str]


def status(directory: Path, resolved: Resolved) -> AiStatus:
    """Read the access of the infra of ``directory`` (``resolved``: the same infra, record honoured)."""
    infra = validate(load(directory))
    holder, record = holders.current(infra, directory)
    targets = {AI_DOMAIN, *(resolved.domains[AI_DOMAIN].machines if AI_DOMAIN in resolved.domains else {})}
    enforced = sorted({p.source for p in resolved.policies if p.target in targets})
    enforced += sorted({p.target for p in resolved.policies if p.bidirectional and p.source in targets})
    candidates = sorted(n for n, d in infra.domains.items() if d.enabled and n != AI_DOMAIN)
    return AiStatus(
        infra.global_.ai_access_policy, infra.global_.ai_access_default, holder, record, enforced, candidates
    )
