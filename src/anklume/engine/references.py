"""Cross-reference checks that need the whole document.

The model checks each value on its own; here we check what values say about
each other: names that must be unique or must exist, and the global policies
(GPU, AI access, firewall VM) that constrain several domains at once.
"""

from __future__ import annotations

from anklume.engine.load import SourceMap
from anklume.engine.model import Infra
from anklume.errors import Problem
from anklume.vocab import HOST_DIR_PREFIXES

AI_DOMAIN = "ai-tools"
#: Names Ansible gives a meaning of its own (implicit groups and host) or that
#: collide with a generated file (``group_vars/all.yml``); ``host`` is the host.
RESERVED = {
    "all": "Ansible's implicit group of every host (and group_vars/all.yml)",
    "ungrouped": "Ansible's implicit group of hosts without a group",
    "localhost": "Ansible's implicit host (the machine running Ansible)",
    "host": "the host itself in policies and shared volumes",
}


def check_references(infra: Infra, sm: SourceMap, /) -> list[Problem]:
    """Return every cross-reference problem of ``infra`` (empty when consistent)."""
    problems: list[Problem] = []
    problems += _names(infra, sm)
    problems += _profiles_and_devices(infra, sm)
    problems += _policies(infra, sm)
    problems += _shared_volumes(infra, sm)
    problems += _globals(infra, sm)
    return problems


def _names(infra: Infra, sm: SourceMap) -> list[Problem]:
    problems = []
    owner: dict[str, str] = {}
    for dname, domain in infra.domains.items():
        if dname in RESERVED:
            problems.append(sm.problem(("domains", dname), f"'{dname}' is reserved: {RESERVED[dname]}"))
        for mname in domain.machines or {}:
            path = ("domains", dname, "machines", mname)
            if mname in RESERVED:
                problems.append(sm.problem(path, f"'{mname}' is reserved: {RESERVED[mname]}"))
            elif mname in owner:
                msg = f"machine name already used in domain '{owner[mname]}' (names are global)"
                problems.append(sm.problem(path, msg))
            elif mname in infra.domains:
                problems.append(sm.problem(path, f"machine name collides with domain '{mname}'"))
            owner.setdefault(mname, dname)
    return problems


def _profiles_and_devices(infra: Infra, sm: SourceMap) -> list[Problem]:
    problems = []
    for dname, domain in infra.domains.items():
        known = {"default", *(domain.profiles or {})}
        for pname, profile in (domain.profiles or {}).items():
            for dev, conf in (profile.devices or {}).items():
                if "type" not in conf:
                    path = ("domains", dname, "profiles", pname, "devices", dev)
                    problems.append(sm.problem(path, "device has no 'type' (disk, nic, gpu, ...)"))
        for mname, machine in (domain.machines or {}).items():
            base = ("domains", dname, "machines", mname)
            for index, pname in enumerate(machine.profiles or []):
                if pname not in known:
                    allowed = ", ".join(sorted(known))
                    msg = f"profile '{pname}' is not defined in domain '{dname}' (defined: {allowed})"
                    problems.append(sm.problem((*base, "profiles", index), msg))
            for dev, conf in (machine.devices or {}).items():
                if "type" not in conf:
                    msg = "device has no 'type' (disk, nic, gpu, ...)"
                    problems.append(sm.problem((*base, "devices", dev), msg))
                if dev.startswith(HOST_DIR_PREFIXES):
                    msg = "names starting with sv- or pd- are reserved (shared volumes, persistent data)"
                    problems.append(sm.problem((*base, "devices", dev), msg))
    return problems


def endpoints(infra: Infra) -> set[str]:
    """Every name a policy or a consumer may use: domains, machines and ``host``."""
    machines = {m for d in infra.domains.values() for m in d.machines or {}}
    return {"host", *infra.domains, *machines}


def _policies(infra: Infra, sm: SourceMap) -> list[Problem]:
    problems = []
    known = endpoints(infra)
    without_ip = {m for d in infra.domains.values() for m, mach in (d.machines or {}).items() if mach.ip is None}
    for index, policy in enumerate(infra.network_policies or []):
        for key, name in (("from", policy.from_), ("to", policy.to)):
            if name not in known:
                msg = f"'{name}' is neither a domain, a machine nor 'host'"
                problems.append(sm.problem(("network_policies", index, key), msg))
        if policy.from_ == policy.to:
            problems.append(sm.problem(("network_policies", index), "'from' and 'to' are the same"))
        if infra.global_.addressing is None:
            for key, name in (("from", policy.from_), ("to", policy.to)):
                if name in without_ip:
                    msg = f"machine '{name}' has no ip: a machine in a policy means its single address"
                    hint = "give the machine an ip (legacy addressing assigns none), or name its domain"
                    problems.append(sm.problem(("network_policies", index, key), msg, hint))
    return problems


def _shared_volumes(infra: Infra, sm: SourceMap) -> list[Problem]:
    problems = []
    known = endpoints(infra) - {"host"}
    for vname, volume in (infra.shared_volumes or {}).items():
        for consumer in volume.consumers:
            if consumer not in known:
                msg = f"consumer '{consumer}' is neither a domain nor a machine"
                problems.append(sm.problem(("shared_volumes", vname, "consumers", consumer), msg))
    return problems


def _globals(infra: Infra, sm: SourceMap) -> list[Problem]:
    problems = []
    g = infra.global_
    gpus = [(d, m) for d, dom in infra.domains.items() for m, mach in (dom.machines or {}).items() if mach.gpu]
    if g.gpu_policy == "exclusive" and len(gpus) > 1:
        names = ", ".join(m for _, m in gpus)
        hint = "set global.gpu_policy: shared to let several instances share the GPU"
        for d, m in gpus[1:]:
            msg = f"more than one GPU instance under gpu_policy exclusive ({names})"
            problems.append(sm.problem(("domains", d, "machines", m, "gpu"), msg, hint))
    if g.firewall_mode == "vm" and "anklume" not in infra.domains:
        hint = "add a domain named 'anklume' (trust_level: admin) to host the firewall VM"
        problems.append(sm.problem(("global", "firewall_mode"), "firewall_mode vm needs a domain 'anklume'", hint))
    if g.ai_access_policy == "exclusive":
        problems += _ai_access(infra, sm)
    return problems


def _ai_access(infra: Infra, sm: SourceMap) -> list[Problem]:
    problems = []
    default = infra.global_.ai_access_default
    if AI_DOMAIN not in infra.domains:
        problems.append(sm.problem(("global", "ai_access_policy"), f"exclusive AI access needs a domain '{AI_DOMAIN}'"))
    if default is None:
        msg = "exclusive AI access needs global.ai_access_default (the domain that has access first)"
        problems.append(sm.problem(("global", "ai_access_policy"), msg))
    elif default == AI_DOMAIN or default not in infra.domains:
        msg = f"'{default}' must be a declared domain other than '{AI_DOMAIN}'"
        problems.append(sm.problem(("global", "ai_access_default"), msg))
    reaching = reaching_ai_tools(infra)
    if len(reaching) > 1:
        msg = (
            f"exclusive AI access allows one policy reaching '{AI_DOMAIN}' or its machines, "
            f"found {len(reaching)} (network_policies {', '.join(str(i) for i in reaching)})"
        )
        problems.append(sm.problem(("network_policies", reaching[1]), msg))
    return problems


def reaching_ai_tools(infra: Infra) -> list[int]:
    """Indexes of the policies that let a domain reach ``ai-tools`` or one of its machines."""
    domain = infra.domains.get(AI_DOMAIN)
    targets = {AI_DOMAIN, *((domain.machines or {}) if domain else {})}
    return [
        index
        for index, p in enumerate(infra.network_policies or [])
        if p.to in targets or (p.bidirectional and p.from_ in targets)
    ]
