"""``anklume doctor``: check that this host can run anklume, and say how to fix what cannot.

Each check is a small function returning a :class:`Check`; the list runs in
order and one failing check never hides the others. Nothing here changes
the host.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from anklume.errors import AnklumeError

if TYPE_CHECKING:
    from anklume.engine.resolved import Resolved

Level = Literal["ok", "warn", "fail"]


@dataclass(frozen=True)
class Check:
    """The outcome of one check."""

    name: str
    level: Level
    detail: str
    fix: str = ""


def _incus_server() -> dict[str, Any]:
    from anklume.incus.run import query  # noqa: PLC0415 -- only when Incus is checked

    data = query(["query", "/1.0"])
    return data if isinstance(data, dict) else {}


def check_root() -> Check:
    if os.geteuid() == 0:
        return Check("privileges", "ok", "running as root")
    return Check("privileges", "warn", "not root", "domain apply and network deploy need root (sudo)")


def check_ansible() -> Check:
    playbook = Path(sys.executable).parent / "ansible-playbook"
    if playbook.exists() or shutil.which("ansible-playbook"):
        return Check("ansible", "ok", "ansible-playbook found")
    return Check("ansible", "fail", "ansible-playbook not found", "run 'make venv' (installs Ansible into .venv)")


INOTIFY = Path("/proc/sys/fs/inotify/max_user_instances")
INOTIFY_WANTED = 1024


def check_inotify(path: Path = INOTIFY) -> Check:
    """Every container's systemd takes inotify instances from one per-user budget."""
    try:
        live = int(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return Check("inotify", "warn", f"cannot read {path}")
    if live >= INOTIFY_WANTED:
        return Check("inotify", "ok", f"fs.inotify.max_user_instances = {live}")
    return Check(
        "inotify",
        "warn",
        f"fs.inotify.max_user_instances = {live}: containers past about {live // 8} may exit at boot",
        "run 'make incus' as root (raises it to 1024)",
    )


def check_incus() -> list[Check]:
    """The client, the daemon, VM support and a storage pool."""
    try:
        server = _incus_server()
    except AnklumeError as exc:
        return [Check("incus", "fail", str(exc).splitlines()[0], "run 'make incus' as root")]
    env = server.get("environment", {})
    out = [Check("incus", "ok", f"daemon {env.get('server_version', '?')} answers")]
    drivers = str(env.get("driver", ""))
    if "qemu" in drivers:
        out.append(Check("virtual machines", "ok", "qemu driver available"))
    else:
        fix = "machines with type: vm will not start; use type: lxc or a host with KVM and vhost_vsock"
        out.append(Check("virtual machines", "warn", f"drivers: {drivers or 'none'} (no qemu)", fix))
    from anklume.incus.run import query  # noqa: PLC0415 -- imported only when used

    pools = query(["storage", "list"])
    if pools:
        out.append(Check("storage", "ok", f"{len(pools)} storage pool(s)"))
    else:
        out.append(Check("storage", "fail", "no storage pool", "run 'make incus' as root"))
    return out


def check_images(images: list[str]) -> list[Check]:
    """Every image the infra names must be local (no image server is assumed reachable)."""
    from anklume.incus.run import query  # noqa: PLC0415 -- imported only when used

    try:
        local = {a["name"] for img in query(["image", "list"]) for a in img.get("aliases") or []}
    except AnklumeError:
        return []
    out = []
    for image in images:
        if image in local:
            out.append(Check(f"image {image}", "ok", "present"))
        elif ":" in image:
            out.append(Check(f"image {image}", "warn", "on a remote server", "needs Internet; or anklume image build"))
        else:
            out.append(Check(f"image {image}", "fail", "missing", "run 'anklume image build'"))
    return out


def check_firewall() -> list[Check]:
    """nft, anklume's table, and foreign drop chains that would block allowed flows."""
    if shutil.which("nft") is None:
        return [Check("nftables", "fail", "nft not found", "apt-get install nftables")]
    from anklume.network import deploy, foreign, nft  # noqa: PLC0415 -- imported only when used

    try:
        items = nft.ruleset_json()
    except AnklumeError as exc:
        return [Check("nftables", "warn", str(exc).splitlines()[0], "run as root to read the ruleset")]
    tables = deploy.loaded_tables(items)
    out = [
        Check("nftables", "ok", f"anklume tables loaded: {', '.join(tables)}")
        if tables
        else Check("nftables", "warn", "no anklume table loaded", "run 'anklume domain apply'")
    ]
    for chain in foreign.find(items, *tables):
        out.append(Check("foreign firewall", "warn", chain.where, foreign.explain(chain, [])))
    return out


def check_isolation(resolved: Resolved) -> list[Check]:
    """Once the infra's bridges exist, both isolation layers must be in place: a missing one fails."""
    from anklume.incus.run import query  # noqa: PLC0415 -- imported only when used
    from anklume.network import deploy, layer_live, nft  # noqa: PLC0415 -- imported only when used

    try:
        live = {str(n.get("name")) for n in query(["network", "list"]) or []}
        name = deploy.intended(resolved).table
        present = nft.list_table(name) is not None
        lost = layer_live.missing(resolved, layer_live.fenced(resolved))
    except AnklumeError as exc:
        return [Check("isolation", "warn", str(exc).splitlines()[0], "run as root to read the ruleset and rules")]
    bridges = sorted(d.network_name for d in resolved.domains.values() if d.network_name in live)
    if not bridges:
        return [Check("isolation", "ok", "no bridge of this infra exists yet (nothing to isolate)")]
    fix = "sudo anklume network deploy (or anklume domain apply)"
    what = f"{len(bridges)} domain bridge(s) exist"
    out = [
        Check("host table", "ok", f"table inet {name} loaded")
        if present
        else Check("host table", "fail", f"table inet {name} absent while {what}: domains are not isolated", fix)
    ]
    if lost:
        out.append(Check("second layer", "fail", f"{len(lost)} ip rule(s) missing while {what}", fix))
    else:
        out.append(Check("second layer", "ok", "every ip rule loaded"))
    return out


def check_infra(directory: Path) -> list[Check]:
    """The infra of ``directory`` is valid and its generated files are up to date."""
    from anklume.engine.pipeline import sync  # noqa: PLC0415 -- imported only when used
    from anklume.engine.write import stale  # noqa: PLC0415 -- imported only when used

    try:
        result = sync(directory, write=False)
    except AnklumeError as exc:
        first = str(exc).splitlines()[0]
        return [Check("infra", "fail", first, "run 'anklume sync' to see every problem")]
    out = [Check("infra", "ok", f"{len(result.resolved.domains)} domains, {len(result.resolved.machines())} machines")]
    if stale(result.plan) or result.orphans:
        out.append(Check("generated files", "warn", "out of date", "run 'anklume sync'"))
    return [*out, *check_images(result.resolved.images()), *check_isolation(result.resolved)]


def check_disposables() -> Check:
    """Disposables left by a killed ``anklume disp`` (see docs/disposables.md)."""
    from anklume.ops.disp import doctor_check  # noqa: PLC0415 -- reads Incus

    return doctor_check()


def run_checks(directory: Path, *, with_infra: bool) -> list[Check]:
    """Every check, in order."""
    steps: list[Callable[[], Check | list[Check]]] = [
        check_root,
        check_ansible,
        check_incus,
        check_inotify,
        check_firewall,
        check_disposables,
    ]
    if with_infra:
        steps.append(lambda: check_infra(directory))
    out: list[Check] = []
    for step in steps:
        result = step()
        out += result if isinstance(result, list) else [result]
    return out
