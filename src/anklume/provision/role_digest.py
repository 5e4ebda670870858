"""Digest the code of the roles a machine is provisioned with.

The provisioning fingerprint covers a machine's role list and the variables
its roles read; the digest of each role's files makes it cover the roles'
code too, so editing a task, template or default re-provisions the machines
that use the role at the next apply, without ``--force-provision``.

A role is found the way Ansible finds it: the first directory of the roles
path that holds a folder of that name. Files that do not change what the
role does on a machine (Molecule scenarios, tests, Markdown, caches) are left
out. A role found nowhere digests to ``"missing"``.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

SKIPPED_DIRS = frozenset({"molecule", "tests", "__pycache__", ".pytest_cache"})
SKIPPED_SUFFIXES = (".md", ".pyc")


def _role_dir(role: str, roles_path: Sequence[str]) -> Path | None:
    for base in roles_path:
        candidate = Path(base) / role
        if candidate.is_dir():
            return candidate
    return None


def _files(root: Path) -> Iterable[Path]:
    for current, dirs, files in os.walk(root, followlinks=True):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS and not d.startswith("."))
        for name in sorted(files):
            if not name.endswith(SKIPPED_SUFFIXES) and not name.startswith("."):
                yield Path(current) / name


def role_digest(root: Path) -> str:
    """Return a short hash of the relevant files under ``root`` (names and contents).

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     (Path(d) / "tasks").mkdir()
    ...     _ = (Path(d) / "tasks" / "main.yml").write_text("- debug: {}\\n")
    ...     first = role_digest(Path(d))
    ...     _ = (Path(d) / "README.md").write_text("docs change nothing\\n")
    ...     same = role_digest(Path(d))
    ...     _ = (Path(d) / "tasks" / "main.yml").write_text("- debug: {msg: hi}\\n")
    ...     (first == same, first == role_digest(Path(d)))
    (True, False)
    """
    digest = hashlib.sha256()
    for path in _files(root):
        digest.update(str(path.relative_to(root)).encode("utf-8", "surrogateescape") + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def role_digests(roles: Sequence[str], roles_path: str | Sequence[str]) -> dict[str, str]:
    """Return ``role -> digest`` for ``roles`` looked up in ``roles_path`` (a list or ``a:b`` string).

    >>> role_digests(["no-such-role"], "/nonexistent")
    {'no-such-role': 'missing'}
    """
    bases = roles_path.split(os.pathsep) if isinstance(roles_path, str) else list(roles_path)
    out: dict[str, str] = {}
    for role in roles:
        found = _role_dir(str(role), [str(b) for b in bases if b])
        out[str(role)] = role_digest(found) if found is not None else "missing"
    return out
