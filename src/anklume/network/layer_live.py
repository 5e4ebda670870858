"""Install, compare and restore the second isolation layer (:mod:`.layer`) with ``ip rule``.

:func:`apply` adds the rules that are missing (the ``nop`` target first),
then removes the rules this infra installed before and no longer wants
(read from its boot file), then writes the boot file
``<etc>/iprules.d/<table>.rules``. Rules of other infras (other boot
files) are never removed. :func:`boot_argv` is the command that loads a boot
file on a host without the rules (at boot, before Incus creates its
bridges); :func:`restore` loads every boot file idempotently (a reload, or
a boot sequence without systemd).
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from anklume.engine.host import etc_dir
from anklume.engine.resolved import Resolved
from anklume.errors import IncusError
from anklume.incus.run import query
from anklume.network.bootfile import write_if_changed
from anklume.network.errors import NetworkError
from anklume.network.layer import END, Rule, from_json, parse, rules, text

log = logging.getLogger(__name__)


def binary() -> str:
    """The ``ip`` binary (``$ANKLUME_IP`` overrides it)."""
    return os.environ.get("ANKLUME_IP") or shutil.which("ip") or "/usr/sbin/ip"


def rules_dir() -> Path:
    """Directory of the boot files: ``<etc>/iprules.d``."""
    return etc_dir() / "iprules.d"


def rules_file(table: str) -> Path:
    """The boot file of an infra (named after its nftables table)."""
    return rules_dir() / f"{table}.rules"


def boot_argv(path: Path) -> list[str]:
    """The boot command of a boot file: add its missing rules (idempotent, exit 1 on failure).

    ``ip -batch <file>`` does the same on a host without the rules, but fails on rules already there.

    >>> boot_argv(Path("/etc/anklume/iprules.d/anklume.rules"))[1:]
    ['-m', 'anklume.network.layer_live', '/etc/anklume/iprules.d/anklume.rules']
    """
    return [sys.executable, "-m", "anklume.network.layer_live", str(path)]


def _ip(*args: str) -> subprocess.CompletedProcess[str]:
    argv = [binary(), "-4", *args]
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        msg = f"{' '.join(argv)}: {exc}"
        raise NetworkError(msg) from None
    if proc.returncode != 0:
        msg = f"{' '.join(argv)} failed: {proc.stderr.strip()[-300:]}"
        raise NetworkError(msg)
    return proc


def live() -> set[Rule]:
    """Every anklume rule loaded in the kernel (any infra)."""
    items = json.loads(_ip("-j", "rule", "show").stdout or "[]")
    return {r for r in (from_json(i) for i in items if isinstance(i, dict)) if r is not None}


@dataclass(frozen=True, slots=True)
class Layered:
    """What an apply did."""

    path: Path
    added: int
    removed: int
    written: bool

    @property
    def changed(self) -> bool:
        """Whether a rule or the boot file changed."""
        return bool(self.added or self.removed or self.written)


def _ends_first(found: Iterable[Rule]) -> list[Rule]:
    return sorted(found, key=lambda r: (r.pref != END, r.pref, r.selector, r.action))


def _add_missing(wanted: Iterable[Rule], current: set[Rule]) -> int:
    added = 0
    for rule in _ends_first(wanted):
        if rule not in current:
            _ip("rule", "add", *rule.args())
            current.add(rule)
            added += 1
    return added


def _names_this_infra(rule: Rule, resolved: Resolved, fenced: Iterable[tuple[str, str | None]]) -> bool:
    """Whether a rule names a bridge or subnet of this infra (no other infra's rule can: both are unique)."""
    bridges = {d.network_name for d in resolved.domains.values()} | {b for b, _ in fenced}
    subnets = [d.subnet for d in resolved.domains.values()] + [n for _, n in fenced if n]
    nets = [ipaddress.ip_network(n, strict=False) for n in subnets]
    sel = dict(rule.selector)
    if sel.get("iif") in bridges:
        return True
    found = [ipaddress.ip_network(sel[k], strict=False) for k in ("from", "to") if k in sel]
    return any(a.overlaps(n) for a in found for n in nets)


def apply(resolved: Resolved, table: str, fenced: Iterable[tuple[str, str | None]] = ()) -> Layered:
    """Converge the live rules of this infra and write its boot file (root).

    Rules this infra no longer wants are removed: those of its previous boot
    file, and any anklume rule naming one of its bridges or subnets (left by
    a lost boot file or an earlier ``$ANKLUME_ETC``).
    """
    fenced = list(fenced)
    wanted = rules(resolved, fenced)
    path = rules_file(table)
    before = parse(path.read_text(encoding="utf-8")) if path.exists() else []
    current = live()
    added = _add_missing(wanted, current)
    keep = set(wanted)
    removed = 0
    mine = set(before) | {r for r in current if _names_this_infra(r, resolved, fenced)}
    for rule in sorted(mine):
        if rule not in keep and rule in current and rule.pref != END:
            _ip("rule", "del", *rule.args())
            removed += 1
    written = write_if_changed(path, text(wanted, table))
    log.debug("second layer applied", extra={"added": added, "removed": removed})
    return Layered(path, added, removed, written)


def missing(resolved: Resolved, fenced: Iterable[tuple[str, str | None]] = ()) -> list[Rule]:
    """The rules of this infra that are not loaded (empty: the layer is in place)."""
    current = live()
    return [r for r in rules(resolved, fenced) if r not in current]


def fenced(resolved: Resolved) -> list[tuple[str, str | None]]:
    """(bridge, subnet) of the bridges this infra owns and no longer declares ([] when Incus cannot be read)."""
    declared = {d.network_name for d in resolved.domains.values()}
    try:
        networks = query(["network", "list"]) or []
    except IncusError as exc:
        log.debug("incus unreachable", extra={"error": str(exc)})
        return []
    out: list[tuple[str, str | None]] = []
    for net in networks:
        cfg = net.get("config") or {}
        mine = str(cfg.get("user.anklume.managed", "")).lower() == "true"
        if not mine or cfg.get("user.anklume.infra", "") not in ("", resolved.project_name):
            continue
        if net.get("type") == "bridge" and net.get("name") not in declared:
            address = str(cfg.get("ipv4.address") or "")
            out.append((str(net["name"]), address if "/" in address else None))
    return sorted(out)


def gap(resolved: Resolved) -> str | None:
    """A line for ``network status`` when rules of the second layer are missing (None: all loaded)."""
    lost = missing(resolved, fenced(resolved))
    if not lost:
        return None
    return f"second layer (ip rule): {len(lost)} rule(s) missing (run 'anklume network deploy')"


def restore(directory: Path | None = None) -> int:
    """Load every boot file of ``directory`` (default :func:`rules_dir`), adding only missing rules."""
    folder = directory or rules_dir()
    if not folder.is_dir():
        return 0
    current = live()
    added = 0
    for path in sorted(folder.glob("*.rules")):
        added += _add_missing(parse(path.read_text(encoding="utf-8")), current)
    return added


def main(argv: list[str] | None = None) -> int:
    """``python -m anklume.network.layer_live FILE...``: add the missing rules of each boot file."""
    try:
        current = live()
        added = sum(_add_missing(parse(Path(f).read_text(encoding="utf-8")), current) for f in argv or sys.argv[1:])
    except (OSError, NetworkError) as exc:
        sys.stderr.write(f"anklume second layer NOT restored: {exc}\n")
        return 1
    sys.stdout.write(f"anklume second layer: {added} rule(s) added\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
