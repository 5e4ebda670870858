"""``backup list``: the manifests of a backup directory, as rows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from anklume.backup import names, store
from anklume.backup.manifest import parse
from anklume.errors import AnklumeError, printable


def entries(directory: Path | None) -> tuple[list[dict[str, Any]], list[tuple[Path, str]]]:
    """Every backup of ``directory`` (oldest first) and the manifests that could not be read."""
    rows: list[dict[str, Any]] = []
    bad: list[tuple[Path, str]] = []
    base = directory or names.DEFAULT_DIR
    for path in names.manifests(base):
        try:
            m = parse(path, store.read_small(path))
        except AnklumeError as exc:
            bad.append((path, printable(str(exc))))
            continue
        rows.append(
            {
                "created": m.created,
                "infra": m.source.infra,
                "domain": m.source.domain,
                "machine": m.source.machine,
                "instance": m.source.instance,
                "bytes": m.archive.bytes,
                "encryption": m.encryption.mode,
                "recipients": m.encryption.recipients,
                "file": str(base / m.archive.file),
                "manifest": str(path),
            }
        )
    rows.sort(key=lambda r: (r["created"], r["file"]))
    return rows, bad
