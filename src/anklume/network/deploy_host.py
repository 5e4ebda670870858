"""Everything ``anklume network deploy`` does on the host, as one call.

The host table (:func:`anklume.network.deploy.deploy`), then the second
isolation layer (:func:`anklume.network.layer_live.apply`). The command line
prints the result; the ``anklume_host_firewall`` action of the
``incus_nftables`` role runs the same call inside Ansible, without a
Python process of its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from anklume.engine.resolved import Resolved
from anklume.network import deploy, layer_live


@dataclass(frozen=True, slots=True)
class HostDeployed:
    """What a deploy did: whether the host changed, its warnings, its report lines."""

    changed: bool
    warnings: list[str]
    lines: list[str]


def deploy_host(resolved: Resolved) -> HostDeployed:
    """Deploy the infra's table and its second layer; return what changed and what to report."""
    done = deploy.deploy(resolved)
    layered = layer_live.apply(resolved, done.table, layer_live.fenced(resolved))
    warnings = list(done.warnings)
    warnings += [f"bridge {g.bridge} of removed domain {g.domain} stays fenced until pruned" for g in done.fenced]
    lines = [
        f"table inet {old} of an earlier version replaced by inet {done.table} (same transaction)"
        for old in done.replaced
    ]
    state = "loaded" if done.loaded else "already up to date"
    boot = "written" if done.rules_written else "unchanged"
    lines.append(f"table inet {done.table} {state}; boot file {done.rules_file} {boot}; {done.hook.note}")
    lines.append(f"second layer: {layered.added} rule(s) added, {layered.removed} removed; boot file {layered.path}")
    return HostDeployed(done.changed or layered.changed, warnings, lines)
