"""What the backup commands read from Incus and from infra.yml."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from anklume.errors import IncusCommandFailed
from anklume.incus.run import query, run


def instance(project: str, name: str) -> dict[str, Any] | None:
    """The live instance (with its snapshots), None when it does not exist."""
    try:
        data = query(["query", f"/1.0/instances/{name}?project={project}&recursion=1"])
    except IncusCommandFailed as exc:
        if "not found" in exc.stderr.lower():
            return None
        raise
    return data if isinstance(data, dict) else None


def versions() -> tuple[str, str]:
    """The incus client's and server's versions."""
    client = run(["--version"]).stdout.strip()
    server = query(["query", "/1.0"])
    env = server.get("environment", {}) if isinstance(server, dict) else {}
    return client, str(env.get("server_version", ""))


def default_compression() -> str:
    """zstd when the host has it (Incus compresses with the zstd binary), else gzip."""
    return "zstd" if shutil.which("zstd") else "gzip"


def declaration(directory: Path, domain: str, machine: str) -> dict[str, Any]:
    """The machine's entry as written in infra.yml (or infra/), {} when not found."""
    from anklume.engine.load import load  # noqa: PLC0415 -- the engine is heavy to import

    data = load(directory).data
    entry = ((data.get("domains") or {}).get(domain) or {}).get("machines") or {}
    found = entry.get(machine) if isinstance(entry, dict) else None
    return dict(found) if isinstance(found, dict) else {}
