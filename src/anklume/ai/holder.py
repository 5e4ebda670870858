"""Which domain holds the exclusive AI access, recorded in the infra directory.

With ``global.ai_access_policy: exclusive``, one domain at a time reaches
the domain ``ai-tools``. infra.yml names the first one
(``ai_access_default``); ``anklume ai switch DOMAIN`` records another in
``<infra>/.anklume/ai-access.json`` (directory 0700, file 0600). Every
command that resolves the infra (``sync``, ``network deploy``, ``domain
apply``) honours the record through :func:`honour`: the policy anklume adds
then starts from the recorded domain instead of the default.

A record that no longer fits infra.yml (the domain was removed or
disabled, the policy is no longer exclusive, infra.yml declares its own
policy to ``ai-tools``) is ignored with a warning: infra.yml wins.
"""

from __future__ import annotations

import json
import logging
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from anklume.engine import safeio
from anklume.engine.model import Infra
from anklume.engine.references import AI_DOMAIN

log = logging.getLogger(__name__)

RECORD = Path(".anklume") / "ai-access.json"
_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
_MAX_RECORD = 4096


@dataclass(frozen=True, slots=True)
class Record:
    """What ``ai switch`` wrote: the holder, the one before it, and when."""

    holder: str
    previous: str | None = None
    switched_at: str = ""


def explicit_policy(infra: Infra) -> int | None:
    """Index of a policy of infra.yml targeting ``ai-tools`` (anklume then adds none), else None."""
    for index, p in enumerate(infra.network_policies or []):
        if p.to == AI_DOMAIN:
            return index
    return None


def read(directory: Path) -> Record | None:
    """The record of ``directory``, or None when absent or unreadable (a warning says why)."""
    try:
        data = safeio.read_bytes(directory, RECORD, _MAX_RECORD)
    except (OSError, safeio.UnsafeFileError) as exc:
        log.warning("ignoring %s: %s", RECORD, exc)
        return None
    if data is None:
        return None
    record = _parse(data)
    if record is None:
        log.warning("ignoring %s: not a record written by 'anklume ai switch'", RECORD)
    return record


def _name(value: object) -> str | None:
    return value if isinstance(value, str) and _NAME.fullmatch(value) else None


def _parse(data: bytes) -> Record | None:
    """The record in ``data``, or None when it is not one.

    >>> _parse(b'{"holder": "pro", "previous": null}')
    Record(holder='pro', previous=None, switched_at='')
    >>> _parse(b'{"holder": "x; rm"}') is None
    True
    """
    try:
        raw = json.loads(data.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(raw, dict) or _name(raw.get("holder")) is None:
        return None
    previous = raw.get("previous")
    if previous is not None and _name(previous) is None:
        return None
    when = raw.get("switched_at", "")
    return Record(raw["holder"], previous, when if isinstance(when, str) and when.isprintable() else "")


def write(directory: Path, holder: str, previous: str | None) -> Record:
    """Record ``holder`` (0600 file in a 0700 ``.anklume/``, never through a link)."""
    record = Record(holder, previous, datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    fd = safeio.open_dir(directory, RECORD.parts[:-1], create=True)
    try:
        os.fchmod(fd, 0o700)
    finally:
        os.close(fd)
    body = {"holder": record.holder, "previous": record.previous, "switched_at": record.switched_at}
    safeio.write_atomic(directory, RECORD, (json.dumps(body, indent=1) + "\n").encode(), 0o600, None)
    return record


def restore(directory: Path, record: Record | None) -> None:
    """Put back ``record`` (None: remove the record), after a switch that could not finish."""
    if record is None:
        safeio.unlink(directory, RECORD)
        return
    body = {"holder": record.holder, "previous": record.previous, "switched_at": record.switched_at}
    safeio.write_atomic(directory, RECORD, (json.dumps(body, indent=1) + "\n").encode(), 0o600, None)


def stale_reason(infra: Infra, holder: str) -> str | None:
    """Why ``holder`` cannot hold the access under this infra.yml, or None when it can.

    >>> from anklume.engine.model import Domain, Global, Infra
    >>> g = Global(ai_access_policy="exclusive", ai_access_default="pro")
    >>> infra = Infra(project_name="x", global_=g, domains={"pro": Domain(), "ai-tools": Domain()})
    >>> stale_reason(infra, "pro") is None
    True
    >>> stale_reason(infra, "perso")
    "'perso' is not a domain of infra.yml"
    """
    if infra.global_.ai_access_policy != "exclusive":
        return "global.ai_access_policy is not exclusive"
    if holder == AI_DOMAIN:
        return f"'{AI_DOMAIN}' cannot hold its own access"
    domain = infra.domains.get(holder)
    if domain is None:
        return f"'{holder}' is not a domain of infra.yml"
    if not domain.enabled:
        return f"domain '{holder}' is disabled"
    index = explicit_policy(infra)
    if index is not None:
        return f"infra.yml declares the policy to '{AI_DOMAIN}' itself (network_policies[{index}])"
    return None


def current(infra: Infra, directory: Path) -> tuple[str | None, Record | None]:
    """The domain holding the access now, and the record it comes from (None: infra.yml's default)."""
    if infra.global_.ai_access_policy != "exclusive":
        return None, None
    record = read(directory)
    if record is not None and record.holder != infra.global_.ai_access_default:
        reason = stale_reason(infra, record.holder)
        if reason is not None:
            log.warning("ignoring the AI access recorded for '%s' in %s: %s", record.holder, RECORD, reason)
            return infra.global_.ai_access_default, None
    if record is not None:
        return record.holder, record
    return infra.global_.ai_access_default, None


def honour(infra: Infra, directory: Path) -> Infra:
    """``infra`` with ``ai_access_default`` set to the recorded holder (unchanged without a valid record)."""
    holder, _ = current(infra, directory)
    if holder is None or holder == infra.global_.ai_access_default:
        return infra
    glob = infra.global_.model_copy(update={"ai_access_default": holder})
    return infra.model_copy(update={"global_": glob})
