"""What a published golden image records about where it comes from.

The infra commit is read with ``git rev-parse`` (argv, hooks and the
filesystem monitor turned off: the infra directory is untrusted input);
the roles are the template machine's ``roles:`` with the digest of each
role's files (:mod:`anklume.provision.role_digest`).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

from anklume.golden.keys import PROP_PREFIX
from anklume.paths import role_search_path
from anklume.provision.role_digest import role_digests

_COMMIT = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")
GIT_TIMEOUT_S = 20


def infra_commit(directory: Path) -> str:
    """The commit the infra directory is checked out at, or ``"none"`` outside a git repository."""
    git = shutil.which("git")
    if git is None:
        return "none"
    argv = [git, "-c", "core.fsmonitor=false", "-c", "core.hooksPath=/dev/null", "-C", str(directory)]
    try:
        proc = subprocess.run(
            [*argv, "rev-parse", "--verify", "--quiet", "HEAD"],
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return "none"
    commit = proc.stdout.strip()
    return commit if proc.returncode == 0 and _COMMIT.match(commit) else "none"


def roles_text(digests: Mapping[str, str]) -> str:
    """The roles property: ``role=digest`` pairs in provisioning order, ``none`` without roles.

    >>> roles_text({"base_system": "0123abcd", "web": "missing"})
    'base_system=0123abcd,web=missing'
    >>> roles_text({})
    'none'
    """
    return ",".join(f"{role}={digest}" for role, digest in digests.items()) or "none"


def properties(
    *, source: str, origin: str, commit: str, digests: Mapping[str, str], now: datetime | None = None
) -> dict[str, str]:
    """The provenance properties of a published image.

    >>> p = properties(source="pro/tpl", origin="pro/tpl/golden-1", commit="none", digests={},
    ...     now=datetime(2026, 12, 2, 13, 0, tzinfo=UTC))
    >>> p["anklume.golden.date"], p["anklume.golden.roles"], p["description"]
    ('2026-12-02T13:00:00Z', 'none', 'anklume golden image of pro/tpl (golden-1)')
    """
    stamp = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    snapshot = origin.rsplit("/", 1)[-1]
    return {
        PROP_PREFIX + "source": source,
        PROP_PREFIX + "origin": origin,
        PROP_PREFIX + "infra_commit": commit,
        PROP_PREFIX + "roles": roles_text(digests),
        PROP_PREFIX + "date": stamp,
        "description": f"anklume golden image of {source} ({snapshot})",
    }


def digests_of(roles: Sequence[str], directory: Path) -> dict[str, str]:
    """The digest of each role, found on the infra's roles path as Ansible finds it."""
    return role_digests(list(roles), [str(p) for p in role_search_path(directory)])
