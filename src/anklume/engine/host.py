"""Facts about the host that the engine needs (the only impure input).

Read once per run and passed to the pure enrich stage, so tests can give
any host they like. ``ANKLUME_ETC`` moves ``/etc/anklume`` for tests.
``ANKLUME_YOLO=1`` has the effect of ``--yolo`` (the CLI sets it for its
children, so the ``anklume network deploy`` an apply runs sees it too).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

YOLO_ENV = "ANKLUME_YOLO"


@dataclass(frozen=True)
class HostFacts:
    """What enrich needs to know about the machine anklume runs on."""

    absolute_level: int | None = None
    vm_nested: bool | None = None
    yolo: bool = False
    addresses: list[tuple[str, str]] = field(default_factory=list)  # (interface, a.b.c.d/nn)
    cpus: int | None = None
    memory_bytes: int | None = None
    check_subnets: bool = False


def etc_dir() -> Path:
    """Return anklume's configuration directory (``/etc/anklume`` unless overridden)."""
    return Path(os.environ.get("ANKLUME_ETC", "/etc/anklume"))


def _read_level(path: Path) -> int | None:
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def _read_bool(path: Path) -> bool | None:
    try:
        return path.read_text(encoding="utf-8").strip().lower() == "true"
    except OSError:
        return None


def host_addresses() -> list[tuple[str, str]]:
    """Return the IPv4 addresses on the host's interfaces (via ``ip -j``)."""
    ip = shutil.which("ip")
    if ip is None:
        return []
    try:
        proc = subprocess.run([ip, "-j", "-4", "addr", "show"], capture_output=True, text=True, check=False)
        entries = json.loads(proc.stdout or "[]")
    except (OSError, ValueError):
        log.warning("could not read the host's addresses; subnet conflict check skipped")
        return []
    return [
        (str(e.get("ifname", "?")), f"{a['local']}/{a.get('prefixlen', 32)}")
        for e in entries
        for a in e.get("addr_info", [])
        if "local" in a
    ]


def host_resources() -> tuple[int | None, int | None]:
    """Return the host's CPU count and memory in bytes (from /proc)."""
    cpus = os.cpu_count()
    memory = None
    try:
        for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("MemTotal:"):
                memory = int(line.split()[1]) * 1024
                break
    except (OSError, ValueError, IndexError):
        memory = None
    return cpus, memory


def yolo_from_env() -> bool:
    """Whether ``ANKLUME_YOLO`` asks for ``--yolo`` (``1``, ``true`` or ``yes``)."""
    return os.environ.get(YOLO_ENV, "").strip().lower() in {"1", "true", "yes"}


def gather(*, yolo: bool = False, need_resources: bool = False) -> HostFacts:
    """Read the facts of this host (``yolo`` is also on when ``ANKLUME_YOLO`` says so)."""
    etc = etc_dir()
    check = os.environ.get("ANKLUME_SKIP_HOST_SUBNET_CHECK", "") not in {"1", "true", "yes"}
    cpus, memory = host_resources() if need_resources else (None, None)
    return HostFacts(
        absolute_level=_read_level(etc / "absolute_level"),
        vm_nested=_read_bool(etc / "vm_nested"),
        yolo=yolo or yolo_from_env(),
        addresses=host_addresses() if check else [],
        cpus=cpus,
        memory_bytes=memory,
        check_subnets=check,
    )
