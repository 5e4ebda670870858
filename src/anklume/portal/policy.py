"""Who may copy what where: the pure decision of the file portal.

Inputs are the two resolved sides (domain, trust, the path as resolved
*inside* its instance) and the infra's ``file_portal`` and ``file_policies``;
the output says allowed or denied, why, and the warnings. No I/O here.

Rules (docs/portal.md):

- an instance side needs its domain's ``file_portal``; its resolved path must
  be one of ``allowed_paths`` or below one (compared as written: an allowed
  path that is itself a link matches nothing);
- a destination domain whose ``file_portal`` is ``read_only`` is never written;
- two different domains need a ``file_policies`` rule from the source
  (domain or machine) to the destination (or a ``bidirectional`` one back);
- the host is the administrator: host sides need no rule;
- a copy from a lower trust level to a higher one is allowed but warned about.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from anklume.engine.model_portal import FilePolicy, FilePortal

#: Trust levels from lowest to highest; the host counts as admin.
TRUST_ORDER = ("disposable", "untrusted", "semi-trusted", "trusted", "admin")
HOST = "host"


@dataclass(frozen=True)
class Side:
    """One resolved side: ``machine`` None is the host."""

    machine: str | None
    domain: str | None
    trust: str
    path: str

    @property
    def label(self) -> str:
        """``domain/machine:path`` or the host path."""
        return f"{self.machine}:{self.path}" if self.machine else self.path

    @property
    def who(self) -> str:
        """``domain 'pro' (trusted)`` or ``the host (admin)``."""
        return f"domain '{self.domain}' ({self.trust})" if self.domain else f"the host ({self.trust})"


@dataclass(frozen=True)
class Decision:
    """Allowed or not, with the reasons it is not and the warnings."""

    allowed: bool
    reasons: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def under(path: str, allowed: Sequence[str]) -> bool:
    """Say whether the absolute ``path`` is one of ``allowed`` or below one (lexically, no ``..``).

    >>> under("/srv/share/a/b", ["/srv/share"]), under("/srv/shared", ["/srv/share"])
    (True, False)
    >>> under("/srv/share/../etc", ["/srv/share"]), under("/", ["/"])
    (False, True)
    """
    parts = PurePosixPath(path).parts
    if not path.startswith("/") or ".." in parts or "." in parts:
        return False
    return any(PurePosixPath(path).is_relative_to(PurePosixPath(a)) for a in allowed)


def _side_problems(side: Side, portal: FilePortal | None, *, writing: bool) -> list[str]:
    if side.domain is None:
        return []
    if portal is None:
        return [f"domain '{side.domain}' has no file_portal in infra.yml: the portal never touches its instances"]
    problems = []
    if writing and portal.read_only:
        problems.append(f"domain '{side.domain}' has file_portal.read_only: true: nothing is copied into it")
    if not under(side.path, portal.allowed_paths):
        allowed = ", ".join(portal.allowed_paths) or "none"
        verb = "written" if writing else "read"
        problems.append(
            f"{side.path} (resolved inside {side.machine}) is outside the paths domain '{side.domain}' "
            f"lets the portal use (file_portal.allowed_paths: {allowed}); it is never {verb}"
        )
    return problems


def _rule(src: Side, dst: Side, rules: Sequence[FilePolicy]) -> bool:
    ends_src = {src.domain, src.machine}
    ends_dst = {dst.domain, dst.machine}
    for rule in rules:
        if rule.from_ in ends_src and rule.to in ends_dst:
            return True
        if rule.bidirectional and rule.to in ends_src and rule.from_ in ends_dst:
            return True
    return False


def rank(trust: str) -> int:
    """Position of a trust level, lowest first (unknown: lowest).

    >>> rank("admin") > rank("trusted") > rank("disposable")
    True
    """
    return TRUST_ORDER.index(trust) if trust in TRUST_ORDER else 0


def decide(src: Side, dst: Side, portals: dict[str, FilePortal | None], rules: Sequence[FilePolicy]) -> Decision:
    """Decide a copy from ``src`` to ``dst`` (paths already resolved inside their instances)."""
    reasons = _side_problems(src, portals.get(src.domain or ""), writing=False)
    reasons += _side_problems(dst, portals.get(dst.domain or ""), writing=True)
    if src.domain and dst.domain and src.domain != dst.domain and not _rule(src, dst, rules):
        reasons.append(
            f"no file_policies rule lets files go from {src.machine} (domain '{src.domain}') "
            f"to {dst.machine} (domain '{dst.domain}'); add {{from: {src.domain}, to: {dst.domain}}} to file_policies"
        )
    warnings = []
    if rank(src.trust) < rank(dst.trust):
        warnings.append(
            f"copying from lower trust to higher trust: from {src.who} to {dst.who}; "
            "the files may be hostile, open them with care"
        )
    return Decision(not reasons, reasons, warnings)
