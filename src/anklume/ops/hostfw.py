"""Remove an infra's host isolation: its nftables table, its ``ip rule`` layer, their boot files and unit.

The table is the one ``anklume network deploy`` loads for this infra
(``$ANKLUME_NFT_TABLE`` honoured); it is deleted only when its comment names
this infra, so another infra's isolation is never lifted. The second layer's
rules removed are those of this infra's boot file and the live anklume rules
naming one of its bridges or subnets (unique to it); the shared ``nop`` end
rule goes only when no other anklume rule is left.
"""

from __future__ import annotations

import ipaddress
import subprocess
from dataclasses import dataclass
from pathlib import Path

from anklume.engine.host import etc_dir
from anklume.engine.resolved import Resolved


@dataclass(frozen=True)
class HostCleanup:
    """What was removed from the host (empty strings: nothing)."""

    table: str
    removed_table: bool
    removed_files: tuple[str, ...]
    note: str = ""
    removed_rules: int = 0


def remove_host_firewall(resolved: Resolved) -> HostCleanup:
    """Delete the infra's table when it is this infra's, then its boot file and unit."""
    from anklume.network import deploy, hook, nft  # noqa: PLC0415 -- only when destroying everything
    from anklume.network.owner import as_stored, owner  # noqa: PLC0415 -- imported only when used

    name = deploy.table(resolved)
    listing = nft.list_table(name)
    mine = as_stored(resolved.project_name)
    removed_table = False
    note = ""
    if listing is not None:
        if owner(listing) == mine:
            nft.run(["delete", "table", "inet", name])
            removed_table = True
        else:
            note = f"table inet {name} belongs to another infra: kept"
    files = []
    rules = deploy.rules_file(name)
    unit = hook.systemd_dir() / hook.unit_name(name)
    if unit.exists():
        if hook.systemd_running():
            subprocess.run(["systemctl", "disable", unit.name], capture_output=True, check=False, timeout=60)
        unit.unlink()
        files.append(str(unit))
        if hook.systemd_running():
            subprocess.run(["systemctl", "daemon-reload"], capture_output=True, check=False, timeout=60)
    if rules.exists() and not note:
        rules.unlink()
        files.append(str(rules))
    removed_rules, layer_file = (0, None) if note else remove_second_layer(resolved, name)
    if layer_file is not None:
        files.append(str(layer_file))
    files += _remove_empty_dirs([deploy.rules_dir(), layer_rules_dir(), etc_dir()])
    return HostCleanup(name, removed_table, tuple(files), note, removed_rules)


def layer_rules_dir() -> Path:
    """Directory of the second layer's boot files."""
    from anklume.network import layer_live  # noqa: PLC0415 -- imported only when used

    return layer_live.rules_dir()


def _remove_empty_dirs(dirs: list[Path]) -> list[str]:
    """Remove the boot directories an apply created once they hold nothing (another infra's files keep them)."""
    gone = []
    for folder in dirs:
        try:
            folder.rmdir()
        except OSError:
            continue
        gone.append(str(folder))
    return gone


def _names_infra(selector: dict[str, str], bridges: set[str], nets: list[ipaddress.IPv4Network]) -> bool:
    if selector.get("iif") in bridges:
        return True
    found = [ipaddress.ip_network(selector[k], strict=False) for k in ("from", "to") if k in selector]
    return any(a.overlaps(n) for a in found for n in nets)


def remove_second_layer(resolved: Resolved, table: str) -> tuple[int, Path | None]:
    """Delete this infra's ``ip rule`` layer and its boot file; return (rules deleted, file deleted)."""
    from anklume.network import layer, layer_live  # noqa: PLC0415 -- only when destroying everything
    from anklume.network.policy import ifname  # noqa: PLC0415 -- imported only when used

    path = layer_live.rules_file(table)
    before = set(layer.parse(path.read_text(encoding="utf-8"))) if path.exists() else set()
    bridges = {ifname(d.network_name) for d in resolved.domains.values()}
    nets = [ipaddress.IPv4Network(d.subnet, strict=False) for d in resolved.domains.values()]
    current = layer_live.live()
    mine = {
        r for r in current if r.pref != layer.END and (r in before or _names_infra(dict(r.selector), bridges, nets))
    }
    ip = layer_live.binary()
    for rule in sorted(mine):
        subprocess.run([ip, "-4", "rule", "del", *rule.args()], capture_output=True, check=False, timeout=30)
    rest = [r for r in current - mine if r.pref != layer.END]
    others = any(p for p in layer_live.rules_dir().glob("*.rules") if p != path)
    if not rest and not others:
        for end in (r for r in current if r.pref == layer.END):
            subprocess.run([ip, "-4", "rule", "del", *end.args()], capture_output=True, check=False, timeout=30)
    if path.exists():
        path.unlink()
        return len(mine), path
    return len(mine), None
