"""The boot hook: anklume's own systemd unit that loads only table ``inet anklume``.

Debian's ``nftables.service`` is never used: its stop and reload run
``flush ruleset``, which would also wipe Incus's tables. The unit runs
``nft -f <rules file>``; the file replaces anklume's table and nothing else.
Where systemd is not PID 1, the rules file is still written and whatever
starts the machine's services can run :func:`boot_argv`.
"""

from __future__ import annotations

import logging
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

UNIT = "anklume-nftables.service"


def systemd_dir() -> Path:
    """Directory of local units (``$ANKLUME_SYSTEMD_DIR`` overrides it)."""
    return Path(os.environ.get("ANKLUME_SYSTEMD_DIR", "/etc/systemd/system"))


def systemd_running(run_dir: Path = Path("/run/systemd/system")) -> bool:
    """Return True when systemd is the init system (the test sd_booted() uses)."""
    return run_dir.is_dir()


def boot_argv(nft: str, rules: Path) -> list[str]:
    """The exact command the boot hook runs.

    >>> boot_argv("/usr/sbin/nft", Path("/etc/anklume/nftables.nft"))
    ['/usr/sbin/nft', '-f', '/etc/anklume/nftables.nft']
    """
    return [nft, "-f", str(rules)]


def unit_text(nft: str, rules: Path) -> str:
    """Return the unit file: load the table early, before Incus starts its instances.

    >>> text = unit_text("/usr/sbin/nft", Path("/etc/anklume/nftables.nft"))
    >>> "ExecStart=/usr/sbin/nft -f /etc/anklume/nftables.nft" in text
    True
    """
    return "\n".join(
        [
            "# Installed by anklume: loads table inet anklume at boot (and only that table).",
            "[Unit]",
            "Description=anklume host firewall table (inet anklume)",
            "DefaultDependencies=no",
            "After=local-fs.target",
            "Before=network-pre.target incus.service incus-startup.service",
            "Wants=network-pre.target",
            f"ConditionPathExists={rules}",
            "",
            "[Service]",
            "Type=oneshot",
            "RemainAfterExit=yes",
            f"ExecStart={' '.join(boot_argv(nft, rules))}",
            f"ExecReload={' '.join(boot_argv(nft, rules))}",
            "",
            "[Install]",
            "WantedBy=sysinit.target",
            "",
        ]
    )


@dataclass(frozen=True, slots=True)
class HookResult:
    """What installing the hook did."""

    unit: Path | None
    changed: bool
    note: str


def install(nft: str, rules: Path, *, run_dir: Path = Path("/run/systemd/system")) -> HookResult:
    """Install and enable the unit where systemd runs; otherwise say how boot should load the file."""
    if not systemd_running(run_dir):
        note = f"systemd is not PID 1: have the boot sequence run '{' '.join(boot_argv(nft, rules))}'"
        return HookResult(None, False, note)
    path = systemd_dir() / UNIT
    text = unit_text(nft, rules)
    changed = not path.exists() or path.read_text(encoding="utf-8") != text
    if changed:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        subprocess.run(["systemctl", "daemon-reload"], check=True, capture_output=True, timeout=60)
    enabled = subprocess.run(["systemctl", "is-enabled", UNIT], check=False, capture_output=True, text=True, timeout=60)
    if enabled.stdout.strip() != "enabled":
        subprocess.run(["systemctl", "enable", UNIT], check=True, capture_output=True, timeout=60)
        changed = True
    log.debug("boot hook installed", extra={"unit": str(path), "changed": changed})
    return HookResult(path, changed, f"{UNIT} enabled")
