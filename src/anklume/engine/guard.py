"""What needs ``--yolo``: privilege and isolation escapes, wherever infra.yml declares them.

A cloned infra repository is untrusted input, so anything in it that would
weaken the confinement of an instance or its network isolation is an error
naming file, line and key, unless the user passes ``--yolo`` for that run
(then each becomes a warning). Checked in machines' ``config`` and
``devices``, in every profile's ``config`` and ``devices`` (a machine
without ``profiles:`` uses its domain's ``default`` profile), and in the
host paths of shared volumes and persistent data. The list is in
docs/SPEC.md, "What needs --yolo".
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from anklume.engine import addressing as addr
from anklume.engine.enrich_firewall import firewall_home, nic_name
from anklume.engine.enrich_rules import FIREWALL
from anklume.engine.guard_devices import Escape, Owner, device_escapes
from anklume.engine.guard_paths import inside, system_path
from anklume.engine.host import HostFacts
from anklume.engine.load import KeyPath, SourceMap
from anklume.engine.model import ConfigValue, Domain, Infra, Machine
from anklume.errors import Problem
from anklume.vocab import text

PRIVILEGED_HINT = "use type: vm, or run inside a VM (/etc/anklume/vm_nested: true), or pass --yolo"
PRIVILEGED = "security.privileged"

#: Config keys (exact, or a prefix ending in '.') and what setting them does.
CONFIG_KEYS = {
    "raw.": "passes raw LXC, QEMU, AppArmor, seccomp or idmap settings past anklume's confinement",
    "security.idmap.base": "picks the host IDs of the instance (another instance's, or the host's)",
    "linux.kernel_modules": "loads kernel modules into the host kernel",
    "security.syscalls.allow": "replaces the default syscall deny list with an allow list",
    "security.syscalls.intercept.mount": "lets the container mount file systems through the host kernel",
    "security.syscalls.intercept.bpf": "lets the container load BPF programs through the host",
    "security.syscalls.intercept.sched_setscheduler": "lets the container change host scheduling priorities",
}
#: Config keys whose default protects, and which are reported when turned off.
CONFIG_OFF = {"security.syscalls.deny_default": "turns the default syscall deny list off"}


def _text(value: ConfigValue) -> str:
    return text(value).strip().lower()


def truthy(value: ConfigValue) -> bool:
    """Whether Incus reads a configuration value as true.

    >>> [truthy(v) for v in (True, 1, "yes", "ON", "TRUE", "false", 0, "")]
    [True, True, True, True, True, False, False, False]
    """
    return _text(value) in {"true", "1", "yes", "on"}


def config_escape(key: str, value: ConfigValue) -> str | None:
    """Return what a config key does to the confinement, or ``None`` when it is harmless.

    >>> config_escape("raw.lxc", "lxc.apparmor.profile=unconfined")
    "passes raw LXC, QEMU, AppArmor, seccomp or idmap settings past anklume's confinement"
    >>> config_escape("security.syscalls.intercept.mount.allowed", "ext4")
    'lets the container mount file systems through the host kernel'
    >>> config_escape("security.idmap.base", 0)
    "picks the host IDs of the instance (another instance's, or the host's)"
    >>> bpf = "security.syscalls.intercept.bpf"
    >>> config_escape("raw.lxc", ""), config_escape("limits.cpu", 2), config_escape(bpf, 0)
    (None, None, None)
    """
    off = _text(value) in {"false", "0", "no", "off"}
    if key in CONFIG_OFF:
        return CONFIG_OFF[key] if off else None
    boolean = key.startswith("security.syscalls.intercept.") and not key.endswith((".allowed", ".fuse"))
    if _text(value) == "" or (boolean and off):
        return None  # unset, or a switch turned off (security.idmap.base 0 is no switch: it is host root)
    for known, what in CONFIG_KEYS.items():
        if key == known or key.startswith(known if known.endswith(".") else known + "."):
            return what
    return None


def _config(config: Mapping[str, ConfigValue] | None, at: KeyPath) -> Iterator[Escape]:
    for key, value in (config or {}).items():
        what = config_escape(key, value)
        if what is not None:
            yield Escape((*at, "config", key), what)


def _privileged(dname: str, dom: Domain, mname: str, m: Machine) -> Escape | None:
    """Where a container becomes privileged: its config, or the first profile that says so."""
    msg = (
        f"privileged container is forbidden unless a VM is in the parent chain (root in '{mname}' is root on the host)"
    )
    at: KeyPath = ("domains", dname, "machines", mname)
    own = (m.config or {}).get(PRIVILEGED)
    if own is not None:
        return Escape((*at, "config", PRIVILEGED), msg, PRIVILEGED_HINT) if truthy(own) else None
    names = m.profiles if m.profiles is not None else ["default"]
    for index, name in enumerate(names):
        profile = (dom.profiles or {}).get(name)
        if profile is None or not truthy((profile.config or {}).get(PRIVILEGED, "")):
            continue
        if m.profiles is None:  # the domain's default profile, used implicitly
            return Escape(("domains", dname, "profiles", name, "config", PRIVILEGED), msg, PRIVILEGED_HINT)
        return Escape((*at, "profiles", index), f"profile '{name}': {msg}", PRIVILEGED_HINT)
    return None


def _paths(infra: Infra) -> Iterator[Escape]:
    g = infra.global_
    for key in ("shared_volumes_base", "persistent_data_base"):
        hit = system_path(getattr(g, key))
        if hit is not None:
            yield Escape(("global", key), f"{getattr(g, key)} is a host system path ({hit})")
    for vname, volume in (infra.shared_volumes or {}).items():
        if volume.source is None:
            continue
        hit = system_path(volume.source)
        at = ("shared_volumes", vname, "source")
        if hit is not None:
            yield Escape(at, f"{volume.source} is a host system path ({hit})")
        elif inside(volume.source, g.persistent_data_base) or inside(g.persistent_data_base, volume.source):
            yield Escape(at, f"{volume.source} reaches the persistent data of machines ({g.persistent_data_base})")


def escapes(infra: Infra, host: HostFacts) -> list[Escape]:
    """Return every privilege or isolation escape the infra declares."""
    g = infra.global_
    prefix = f"{host.absolute_level:03d}-" if g.nesting_prefix and host.absolute_level is not None else ""
    bases = {"the shared volumes": g.shared_volumes_base, "the persistent data": g.persistent_data_base}
    found = list(_paths(infra))
    home = firewall_home(infra)
    routes = {nic_name(d): addr.bridge_name(d, prefix) for d in infra.domains if d != home}
    for dname, dom in infra.domains.items():
        bridge = addr.bridge_name(dname, prefix)
        for pname, profile in (dom.profiles or {}).items():
            at: KeyPath = ("domains", dname, "profiles", pname)
            found += _config(profile.config, at)
            found += device_escapes(profile.devices or {}, Owner(at, bridge, profile=True), bases)
        for mname, m in (dom.machines or {}).items():
            at = ("domains", dname, "machines", mname)
            found += _config(m.config, at)
            has_ip = m.ip is not None or g.addressing is not None
            owner = Owner(at, bridge, has_ip=has_ip, routes=routes if (dname, mname) == (home, FIREWALL) else {})
            found += device_escapes(m.devices or {}, owner, bases)
            priv = _privileged(dname, dom, mname, m) if m.type == "lxc" and not host.vm_nested else None
            found += [priv] if priv is not None else []
    return found


def guard(infra: Infra, host: HostFacts, sm: SourceMap, warnings: list[str]) -> list[Problem]:
    """Return the escapes as problems, or, with ``--yolo``, add them to ``warnings`` and return none."""
    problems: dict[KeyPath, Problem] = {}
    for escape in escapes(infra, host):
        if escape.path not in problems:
            problems[escape.path] = sm.problem(escape.path, escape.message, escape.hint)
    if not host.yolo:
        return list(problems.values())
    for problem in problems.values():
        shown = Problem(problem.file, problem.line, problem.key, f"{problem.message} (allowed by --yolo)")
        warnings.append(str(shown))
    return []
