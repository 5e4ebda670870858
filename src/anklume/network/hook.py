"""The boot hooks: one systemd unit per anklume table, each loading only its own table.

Debian's ``nftables.service`` is never used: its stop and reload run
``flush ruleset``, which would also wipe Incus's tables. Each infra's table
has its own rules file ``<etc>/nftables.d/<table>.nft`` and its own unit
``anklume-nftables-<table>.service`` running ``nft -f <file>`` before Incus
starts; a missing or broken file fails the unit (no silent skip). Where
systemd is not PID 1, the boot sequence runs :func:`restore_argv`
(``anklume network restore``), which loads every file of the directory.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from anklume.network import layer_live
from anklume.network.nftsafe import table_name

log = logging.getLogger(__name__)

LEGACY_UNIT = "anklume-nftables.service"
"""The single unit of earlier versions (it loaded whichever table was deployed last)."""
BEFORE = ("network-pre.target", "incus.socket", "incus.service", "incus-startup.service")


def unit_name(table: str) -> str:
    """Return the unit of a table.

    >>> unit_name("anklume_lab_1a2b3c4d")
    'anklume-nftables-anklume_lab_1a2b3c4d.service'
    """
    return f"anklume-nftables-{table_name(table)}.service"


def systemd_dir() -> Path:
    """Directory of local units (``$ANKLUME_SYSTEMD_DIR`` overrides it)."""
    return Path(os.environ.get("ANKLUME_SYSTEMD_DIR", "/etc/systemd/system"))


def systemd_running(run_dir: Path = Path("/run/systemd/system")) -> bool:
    """Return True when systemd is the init system (the test sd_booted() uses)."""
    return run_dir.is_dir()


def boot_argv(nft: str, rules: Path) -> list[str]:
    """The exact command a table's boot unit runs.

    >>> boot_argv("/usr/sbin/nft", Path("/etc/anklume/nftables.d/anklume_x.nft"))
    ['/usr/sbin/nft', '-f', '/etc/anklume/nftables.d/anklume_x.nft']
    """
    return [nft, "-f", str(rules)]


def restore_argv() -> list[str]:
    """The boot command without systemd: ``anklume network restore`` (every table of the rules directory)."""
    return [str(Path(sys.executable).parent / "anklume"), "network", "restore"]


def unit_text(table: str, nft: str, rules: Path) -> str:
    """Return the unit file: load the table early, before Incus starts its instances; fail when it cannot.

    >>> text = unit_text("anklume_x", "/usr/sbin/nft", Path("/etc/anklume/nftables.d/anklume_x.nft"))
    >>> "ExecStart=/usr/sbin/nft -f /etc/anklume/nftables.d/anklume_x.nft" in text, "Condition" in text
    (True, False)
    """
    before = " ".join(BEFORE)
    return "\n".join(
        [
            f"# Installed by anklume: loads table inet {table_name(table)} at boot (and only that table).",
            "[Unit]",
            f"Description=anklume host firewall table (inet {table})",
            "DefaultDependencies=no",
            "After=local-fs.target",
            f"Before={before}",
            "Wants=network-pre.target",
            "",
            "[Service]",
            "Type=oneshot",
            "RemainAfterExit=yes",
            f"ExecStart={' '.join(boot_argv(nft, rules))}",
            f"ExecStartPost={' '.join(layer_live.boot_argv(layer_live.rules_file(table)))}",  # second layer
            f"ExecReload={' '.join(boot_argv(nft, rules))}",
            "",
            "[Install]",
            "WantedBy=sysinit.target incus.service incus-startup.service",
            "",
        ]
    )


@dataclass(frozen=True, slots=True)
class HookResult:
    """What installing the hook did."""

    unit: Path | None
    changed: bool
    note: str


def _systemctl(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["systemctl", *args], check=check, capture_output=True, text=True, timeout=60)


def install(table: str, nft: str, rules: Path, *, run_dir: Path = Path("/run/systemd/system")) -> HookResult:
    """Install and enable the table's unit where systemd runs; otherwise say which command boot must run."""
    if not systemd_running(run_dir):
        note = f"systemd is not PID 1: have the boot sequence run '{' '.join(restore_argv())}'"
        return HookResult(None, False, note)
    unit = unit_name(table)
    path = systemd_dir() / unit
    text = unit_text(table, nft, rules)
    changed = not path.exists() or path.read_text(encoding="utf-8") != text
    if changed:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        _systemctl("daemon-reload")
    if _systemctl("is-enabled", unit, check=False).stdout.strip() != "enabled":
        _systemctl("enable", unit)
        changed = True
    log.debug("boot hook installed", extra={"unit": str(path), "changed": changed})
    return HookResult(path, changed, f"{unit} enabled")


def retire_legacy(old_files: list[Path], *, run_dir: Path = Path("/run/systemd/system")) -> bool:
    """Remove boot files of earlier versions that this table replaces, and the shared unit when it loads one.

    Return whether anything was removed.
    """
    changed = False
    unit = systemd_dir() / LEGACY_UNIT
    if systemd_running(run_dir) and unit.exists():
        text = unit.read_text(encoding="utf-8")
        if any(f"-f {f}\n" in text for f in old_files):
            _systemctl("disable", LEGACY_UNIT, check=False)
            unit.unlink()
            _systemctl("daemon-reload")
            changed = True
    for old in old_files:
        if old.exists():
            old.unlink()
            changed = True
    return changed
