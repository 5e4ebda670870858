"""Plan the domains' bridges (``net-<domain>``, in the default project)."""

from __future__ import annotations

from anklume.plan import commands as cmd
from anklume.plan.action import Action
from anklume.plan.declare import DHCP_GATEWAY, DNS_LOCAL, RAW_DNSMASQ
from anklume.plan.diff import config_changes
from anklume.plan.model import Declared, Live, PlanOptions
from anklume.plan.projects import adopt_or_conflict, mine, orphan_verdict
from anklume.plan.scope import (
    domain_of,
    doomed_instances,
    doomed_projects,
    managed_in_scope,
    used_by_refs,
)


def plan_networks(declared: Declared, live: Live, options: PlanOptions) -> list[Action]:
    """Return the bridge actions.

    Managed keys (address, DHCP range, NAT, IPv6 off, ownership, the DHCP
    gateway of ``firewall_mode: vm``, removed when no router is declared, and
    ``raw.dnsmasq: no-resolv`` of local-only DNS, removed when DNS forwards
    again) are compared; other keys are left alone. An undeclared bridge is deleted (with prune)
    only when everything using it goes away in the same run.
    """
    by_name = {str(n["name"]): n for n in live.networks}
    actions: list[Action] = []
    for dom in declared.domains:
        if not options.in_scope(dom.name):
            continue
        cur = by_name.get(dom.network)
        if cur is None:
            actions.append(
                Action(
                    "create",
                    "network",
                    dom.network,
                    domain=dom.name,
                    changes={k: (None, v) for k, v in dom.network_config.items()},
                    reason="declared domain has no bridge",
                    commands=cmd.network_create(dom),
                )
            )
            continue
        if not mine(cur.get("config"), options):
            conflict = adopt_or_conflict("network", dom.network, "default", dom.name, options)
            if conflict:
                actions.append(conflict)
                continue
        live_config = cur.get("config") or {}
        changes = config_changes(dom.network_config, live_config, remove_undeclared=False)
        if DHCP_GATEWAY not in dom.network_config and live_config.get(DHCP_GATEWAY):
            changes[DHCP_GATEWAY] = (live_config[DHCP_GATEWAY], None)  # no router any more: DHCP gives .254 again
        if RAW_DNSMASQ not in dom.network_config and live_config.get(RAW_DNSMASQ) == DNS_LOCAL:
            changes[RAW_DNSMASQ] = (DNS_LOCAL, None)  # NAT back on: DNS forwards again (a user's own value stays)
        changes = dict(sorted(changes.items()))
        if changes:
            actions.append(
                Action(
                    "update",
                    "network",
                    dom.network,
                    domain=dom.name,
                    changes=changes,
                    reason="bridge config differs",
                    commands=cmd.network_update(dom.network, {k: new for k, (_, new) in changes.items()}),
                )
            )
    wanted = {d.network for d in declared.domains}
    gone_projects = doomed_projects(declared, live, options)
    gone_instances = doomed_instances(declared, live, options)
    for cur in managed_in_scope(live.networks, options):
        name = str(cur["name"])
        if name in wanted:
            continue
        users = [
            (kind, proj, obj)
            for kind, proj, obj in used_by_refs(cur)
            if proj not in gone_projects and (proj, obj) not in gone_instances
        ]
        verb, reason = orphan_verdict(not users, options, f"still used by {len(users)} resource(s)")
        deleting = cmd.network_delete(name) if verb == "delete" else ()
        actions.append(Action(verb, "network", name, domain=domain_of(cur), reason=reason, commands=deleting))
    return actions
