"""Set up, start, stop and report an infra's package proxy (host side, root).

``setup`` installs what is missing, writes the configuration for the
gateways of the domains that opt in, and (re)starts exactly the daemons
whose command or configuration changed; with no domain opting in it stops
the infra's daemons. A second setup with nothing changed starts nothing.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field

from anklume.engine.resolved import Resolved
from anklume.proxy import daemons as run
from anklume.proxy.install import ensure_all, node_binary
from anklume.proxy.layout import Daemon, daemons, state_root
from anklume.proxy.spec import plan


@dataclass(slots=True)
class Outcome:
    """What a setup or stop did."""

    table: str
    installed: list[str] = field(default_factory=list)
    started: list[str] = field(default_factory=list)
    stopped: list[str] = field(default_factory=list)
    serving: list[str] = field(default_factory=list)  # "<domain> <gateway>"

    @property
    def changed(self) -> bool:
        """Whether anything on the host changed."""
        return bool(self.installed or self.started or self.stopped)


def setup(resolved: Resolved, table: str) -> Outcome:
    """Make the infra's proxy serve the domains that opt in, and only them."""
    wanted = plan(resolved, table)
    if not wanted.gateways:
        return stop(table)
    done = Outcome(table, installed=ensure_all())
    new = daemons(wanted, node_binary())
    old = {d.name: d for d in run.load(table)}
    changed = {d.name for d in new if d.name not in old or old[d.name] != d}
    kept = {d.name for d in new}
    for name, d in old.items():
        if (name in changed or name not in kept) and run.stop(table, d):
            done.stopped.append(name)
    run.write(table, new)
    done.started = [d.name for d in new if run.start(table, d, restart=d.name in changed)]
    done.serving = [f"{dom} {gw}" for dom, gw in zip(wanted.domains, wanted.gateways, strict=True)]
    return done


def stop(table: str, *, remove: bool = False) -> Outcome:
    """Stop the infra's proxy; ``remove`` also deletes its configuration and caches."""
    done = Outcome(table)
    done.stopped = [d.name for d in run.load(table) if run.stop(table, d)]
    base = state_root() / table
    if remove and base.is_dir():
        shutil.rmtree(base)
        done.stopped.append("(configuration and caches removed)")
    return done


def start_all() -> list[str]:
    """Start every recorded proxy of this host (the boot command without systemd); return what started."""
    return [f"{t} {d.name}" for t in run.tables() for d in run.load(t) if run.start(t, d)]


def status(table: str) -> list[tuple[Daemon, bool]]:
    """Each recorded daemon of the infra's proxy and whether it answers on its address."""
    return [(d, run.answers(d.listen)) for d in run.load(table)]


def in_use(project_name: str) -> bool:
    """Say whether the infra ``project_name`` has a proxy set up on this host (its state directory exists).

    ``site.yml`` runs ``proxy setup`` only when a domain opts in or this is true
    (to stop a proxy no domain uses any more): an infra that never used the
    proxy pays nothing for it, even on a host where another infra does.
    """
    from anklume.network.deploy import overridden  # noqa: PLC0415 -- imported only when used
    from anklume.network.nftsafe import table_for  # noqa: PLC0415

    return (state_root() / (overridden() or table_for(project_name))).is_dir()
