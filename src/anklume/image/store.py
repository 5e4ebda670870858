"""The images of the local Incus: find an alias, import, replace atomically."""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any
from urllib.parse import quote

from anklume import incus
from anklume.errors import IncusCommandFailed, IncusError

log = logging.getLogger(__name__)


def alias_target(alias: str) -> str | None:
    """Return the fingerprint ``alias`` points to in the default project, or None."""
    entries: list[dict[str, Any]] = incus.query(["image", "alias", "list"]) or []
    for entry in entries:
        if entry.get("name") == alias:
            return str(entry["target"])
    return None


def fingerprint(*files: Path) -> str:
    """Return the fingerprint Incus gives an image made of ``files`` (sha256 of all)."""
    digest = hashlib.sha256()
    for path in files:
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def alias_url(alias: str) -> str:
    """Return the API path of ``alias`` (its slashes escaped).

    >>> alias_url("anklume/debian-12")
    '/1.0/images/aliases/anklume%2Fdebian-12'
    """
    return f"/1.0/images/aliases/{quote(alias, safe='')}"


def import_image(meta: Path, rootfs: Path, alias: str, previous: str | None) -> str:
    """Import ``meta`` + ``rootfs`` under ``alias`` and return the fingerprint.

    When ``alias`` already points to ``previous``, the new image is imported
    without alias, the alias is switched to it in one API call (so a launch
    never sees the alias missing), and the previous image is deleted when no
    other alias uses it.
    """
    new = fingerprint(meta, rootfs)
    if previous is None:
        incus.run(["image", "import", str(meta), str(rootfs), "--alias", alias])
        return new
    if new == previous:
        return new
    incus.run(["image", "import", str(meta), str(rootfs)])
    try:
        _point_alias(alias, new)
    except IncusError:
        incus.run(["image", "delete", new], check=False)
        raise
    log.debug("alias switched", extra={"image_alias": alias, "old": previous, "new": new})
    try:
        remaining = incus.query(["query", f"/1.0/images/{previous}"]) or {}
    except IncusCommandFailed:
        return new  # the previous image is already gone
    if not remaining.get("aliases"):
        incus.run(["image", "delete", previous], check=False)
    return new


def _point_alias(alias: str, target: str) -> None:
    """Point ``alias`` at ``target`` in one API call; create it if it vanished meanwhile."""
    body = json.dumps({"target": target, "description": ""})
    try:
        incus.run(["query", "--wait", "-X", "PUT", alias_url(alias), "--data", body])
    except IncusCommandFailed:
        if alias_target(alias) is not None:
            raise
        incus.run(["image", "alias", "create", alias, target])
