"""What needs --yolo: every guarded key and device is an error naming file, line and key, and a warning with --yolo."""

from __future__ import annotations

import typing as t

import pytest

from anklume.engine.pipeline import resolve
from anklume.engine.resolved import Resolved
from anklume.errors import InfraError
from tests.unit.conftest import WriteInfra

HEAD = "project_name: x\nglobal:\n  addressing: {zone_base: 100}\n"
M = "domains:\n  pro:\n    machines:\n      w:\n"  # the machine's own keys go on line 8
P = "domains:\n  pro:\n    profiles:\n      p:\n"  # the profile's own keys go on line 8


@pytest.fixture(autouse=True)
def _no_yolo_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANKLUME_YOLO", "")  # recorded, so the undo removes what --yolo exports
    monkeypatch.delenv("ANKLUME_YOLO")


class Guarded(t.NamedTuple):
    test_id: str
    body: str  # appended to HEAD
    where: str  # "line: key" expected after "infra.yml:"
    says: str
    head: str = HEAD


def _cfg(key: str, value: str, *, vm: bool = False) -> str:
    return M + ("        type: vm\n" if vm else "") + f"        config: {{{key}: {value}}}\n"


def _dev(spec: str, name: str = "eth0") -> str:
    return M + f"        devices: {{{name}: {spec}}}\n"


def _disk(source: str) -> str:
    return _dev(f"{{type: disk, source: '{source}', path: /mnt/x}}", "d")


KEY = "domains.pro.machines.w"
CONFIG = [
    Guarded("raw-lxc", _cfg("raw.lxc", "'lxc.apparmor.profile=unconfined'"), f"8: {KEY}.config.raw.lxc", "raw LXC"),
    Guarded("raw-idmap", _cfg("raw.idmap", "'both 0 0'"), f"8: {KEY}.config.raw.idmap", "raw LXC"),
    Guarded("raw-apparmor", _cfg("raw.apparmor", "'mount,'"), f"8: {KEY}.config.raw.apparmor", "AppArmor"),
    Guarded("raw-seccomp", _cfg("raw.seccomp", "'2\\nallowlist'"), f"8: {KEY}.config.raw.seccomp", "seccomp"),
    Guarded("raw-qemu", _cfg("raw.qemu", "'-device x'", vm=True), f"9: {KEY}.config.raw.qemu", "QEMU"),
    Guarded("raw-qemu-conf", _cfg("raw.qemu.conf", "'[x]'", vm=True), f"9: {KEY}.config.raw.qemu.conf", "QEMU"),
    Guarded("idmap-base", _cfg("security.idmap.base", "0"), f"8: {KEY}.config.security.idmap.base", "host IDs"),
    Guarded(
        "kernel-modules", _cfg("linux.kernel_modules", "overlay"), f"8: {KEY}.config.linux.kernel_modules", "kernel"
    ),
    Guarded(
        "syscalls-allow", _cfg("security.syscalls.allow", "mount"), f"8: {KEY}.config.security.syscalls.allow", "allow"
    ),
    Guarded(
        "syscalls-deny-default-off",
        _cfg("security.syscalls.deny_default", "false"),
        f"8: {KEY}.config.security.syscalls.deny_default",
        "deny list off",
    ),
    Guarded(
        "intercept-mount",
        _cfg("security.syscalls.intercept.mount", "true"),
        f"8: {KEY}.config.security.syscalls.intercept.mount",
        "mount file systems",
    ),
    Guarded(
        "intercept-mount-allowed",
        _cfg("security.syscalls.intercept.mount.allowed", "ext4"),
        f"8: {KEY}.config.security.syscalls.intercept.mount.allowed",
        "mount file systems",
    ),
    Guarded(
        "intercept-bpf-devices",
        _cfg("security.syscalls.intercept.bpf.devices", "true"),
        f"8: {KEY}.config.security.syscalls.intercept.bpf.devices",
        "BPF",
    ),
    Guarded(
        "intercept-sched",
        _cfg("security.syscalls.intercept.sched_setscheduler", "'1'"),
        f"8: {KEY}.config.security.syscalls.intercept.sched_setscheduler",
        "scheduling",
    ),
    Guarded(
        "privileged-machine", _cfg("security.privileged", "'on'"), f"8: {KEY}.config.security.privileged", "privileged"
    ),
    Guarded(
        "privileged-default-profile",
        "domains:\n  pro:\n    profiles:\n      default:\n        config: {security.privileged: true}\n"
        "    machines:\n      w: {}\n",
        "8: domains.pro.profiles.default.config.security.privileged",
        "privileged container is forbidden",
    ),
    Guarded(
        "privileged-named-profile",
        "domains:\n  pro:\n    profiles:\n      root: {config: {security.privileged: 'yes'}}\n"
        "    machines:\n      w: {profiles: [default, root]}\n",
        f"9: {KEY}.profiles[1]",
        "profile 'root'",
    ),
    Guarded(
        "profile-raw-lxc", P + "        config: {raw.lxc: 'x=y'}\n", "8: domains.pro.profiles.p.config.raw.lxc", "raw"
    ),
    Guarded(
        "default-profile-kernel-modules",
        "domains:\n  pro:\n    profiles:\n      default:\n        config: {linux.kernel_modules: zfs}\n",
        "8: domains.pro.profiles.default.config.linux.kernel_modules",
        "kernel modules",
    ),
]

NICS = [
    Guarded(
        "nic-other-domain-bridge",
        "domains:\n  perso: {}\n" + _dev("{type: nic, network: net-perso}")[9:],
        f"9: {KEY}.devices.eth0.network",
        "not on the domain's bridge 'net-pro'",
    ),
    Guarded(
        "nic-foreign-network", _dev("{type: nic, network: incusbr0}"), f"8: {KEY}.devices.eth0.network", "'incusbr0'"
    ),
    Guarded(
        "nic-foreign-parent",
        _dev("{type: nic, nictype: bridged, parent: incusbr0}"),
        f"8: {KEY}.devices.eth0.parent",
        "bypasses the host table",
    ),
    *(
        Guarded(
            f"nic-{kind}",
            _dev(f"{{type: nic, nictype: {kind}, parent: enp1s0}}"),
            f"8: {KEY}.devices.eth0.nictype",
            kind,
        )
        for kind in ("macvlan", "ipvlan", "physical", "sriov", "routed", "p2p")
    ),
    *(
        Guarded(
            f"nic-{key}-off",
            _dev(f"{{type: nic, security.{key}: false}}"),
            f"8: {KEY}.devices.eth0.security.{key}",
            "off",
        )
        for key in ("mac_filtering", "ipv4_filtering", "ipv6_filtering", "port_isolation")
    ),
    Guarded("nic-extra", _dev("{type: nic, network: net-pro}", "eth1"), f"8: {KEY}.devices.eth1", "extra NIC 'eth1'"),
    Guarded(
        "nic-in-profile",
        "domains:\n  pro:\n    profiles:\n      default:\n        devices: {eth0: {type: nic, network: net-pro}}\n",
        "8: domains.pro.profiles.default.devices.eth0",
        "a NIC in a profile",
    ),
    Guarded(
        "nic-legacy-machine-without-address",
        "domains:\n  pro:\n    subnet_id: 3\n    machines:\n      w:\n        devices: {eth0: {type: nic}}\n",
        f"8: {KEY}.devices.eth0",
        "extra NIC 'eth0'",
        "project_name: x\nglobal: {}\n",
    ),
]

PASSTHROUGH = [
    Guarded(f"device-{kind}", _dev(f"{{type: {kind}}}", "x"), f"8: {KEY}.devices.x.type", f"a {kind} device")
    for kind in ("unix-char", "unix-block", "unix-hotplug", "usb", "pci", "infiniband", "proxy")
] + [
    Guarded("device-gpu", _dev("{type: gpu}", "x"), f"8: {KEY}.devices.x.type", "use 'gpu: true'"),
    Guarded(
        "profile-usb",
        P + "        devices: {u: {type: usb, vendorid: '1234'}}\n",
        "8: domains.pro.profiles.p.devices.u.type",
        "usb",
    ),
]

SYSTEM = [
    "/",
    "/etc",
    "/etc/cron.d",
    "/root",
    "/home",
    "/home/alice",
    "/boot",
    "/var",
    "/var/lib",
    "/var/lib/incus",
    "/var/run",
    "/run",
    "/run/user/1000",
    "/proc",
    "/sys",
    "/dev",
    "/dev/sda",
    "/tmp",
    "/usr",
    "/bin",
    "/sbin",
    "/lib",
    "/lib64",
    "/srv",
    "//etc",
    "/etc/",
    "/srv/../etc",
    "../up",
]
DISKS = [Guarded(f"disk-{src}", _disk(src), f"8: {KEY}.devices.d.source", "host system path") for src in SYSTEM] + [
    Guarded(
        "disk-other-machines-data",
        _disk("/srv/anklume/data/perso"),
        f"8: {KEY}.devices.d.source",
        "reaches the persistent data",
    ),
    Guarded("disk-all-shares", _disk("/srv/anklume"), f"8: {KEY}.devices.d.source", "reaches the shared volumes"),
    Guarded(
        "profile-disk",
        P + "        devices: {d: {type: disk, source: /root, path: /r}}\n",
        "8: domains.pro.profiles.p.devices.d.source",
        "host system path (/root)",
    ),
    Guarded(
        "share-source",
        "domains:\n  pro: {}\nshared_volumes:\n  s: {source: /etc, consumers: {pro: ro}}\n",
        "7: shared_volumes.s.source",
        "host system path (/etc)",
    ),
    Guarded(
        "share-source-persistent-data",
        "domains:\n  pro: {}\nshared_volumes:\n  s: {source: /srv/anklume/data, consumers: {pro: ro}}\n",
        "7: shared_volumes.s.source",
        "persistent data",
    ),
    Guarded(
        "shared-volumes-base",
        "  shared_volumes_base: /var/lib\ndomains:\n  pro: {}\n",
        "4: global.shared_volumes_base",
        "host system path (/var/lib)",
    ),
    Guarded(
        "persistent-data-base",
        "  persistent_data_base: /home\ndomains:\n  pro: {}\n",
        "4: global.persistent_data_base",
        "host system path (/home)",
    ),
]

CASES = CONFIG + NICS + PASSTHROUGH + DISKS


@pytest.mark.parametrize("case", CASES, ids=[c.test_id for c in CASES])
def test_guarded_is_an_error_naming_file_line_key_and_a_warning_with_yolo(
    write_infra: WriteInfra, case: Guarded
) -> None:
    root = write_infra(case.head + case.body)
    with pytest.raises(InfraError) as info:
        resolve(root, check_roles=False)
    text = str(info.value)
    assert f"infra.yml:{case.where}: " in text, text
    assert case.says in text, text
    assert "--yolo" in text  # the hint says how to accept it
    assert info.value.exit_code == 2
    resolved = resolve(root, yolo=True, check_roles=False)
    shown = [w for w in resolved.warnings if f"infra.yml:{case.where}: " in w]
    assert shown, resolved.warnings
    assert all("allowed by --yolo" in w for w in shown)


class Allowed(t.NamedTuple):
    test_id: str
    body: str


ALLOWED = [
    Allowed("eth0-extra-keys", _dev("{type: nic, hwaddr: '10:66:6a:00:00:01', security.ipv6_filtering: true}")),
    Allowed("eth0-own-bridge", _dev("{type: nic, nictype: bridged, network: net-pro, parent: net-pro}")),
    Allowed("disk-data", _disk("/srv/pro-data")),
    Allowed("disk-home-subdir", _disk("/home/alice/Documents")),
    Allowed("disk-pool-volume", _dev("{type: disk, pool: default, source: vol1, path: /v}", "d")),
    Allowed("tpm-and-none", M + "        devices: {t: {type: tpm}, n: {type: none}}\n"),
    Allowed("gpu-true", M + "        gpu: true\n"),
    Allowed("privileged-vm", _cfg("security.privileged", "true", vm=True)),
    Allowed("privileged-unused-profile", P + "        config: {security.privileged: true}\n"),
    Allowed("raw-empty", _cfg("raw.lxc", "''")),
    Allowed("nesting", _cfg("security.nesting", "true")),
    Allowed("intercept-mknod", _cfg("security.syscalls.intercept.mknod", "true")),
    Allowed("filtering-on", _dev("{type: nic, security.mac_filtering: true, security.port_isolation: true}")),
    Allowed("share-default-base", "domains:\n  pro: {}\nshared_volumes:\n  s: {consumers: {pro: rw}}\n"),
]


@pytest.mark.parametrize("case", ALLOWED, ids=[c.test_id for c in ALLOWED])
def test_confined_declarations_need_no_yolo(write_infra: WriteInfra, case: Allowed) -> None:
    resolved: Resolved = resolve(write_infra(HEAD + case.body), check_roles=False)
    assert not [w for w in resolved.warnings if "--yolo" in w]


def test_under_a_vm_a_privileged_container_is_allowed_but_other_escapes_are_not(
    write_infra: WriteInfra, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write_infra(HEAD + M + "        config: {security.privileged: true, raw.lxc: 'a=b'}\n")
    etc = root / "etc"
    etc.mkdir()
    (etc / "vm_nested").write_text("true\n", encoding="utf-8")
    monkeypatch.setenv("ANKLUME_ETC", str(etc))
    with pytest.raises(InfraError) as info:
        resolve(root, check_roles=False)
    assert f"8: {KEY}.config.raw.lxc" in str(info.value)
    assert "security.privileged" not in str(info.value)


def test_anklume_yolo_env_is_yolo(write_infra: WriteInfra, monkeypatch: pytest.MonkeyPatch) -> None:
    root = write_infra(HEAD + _dev("{type: usb}", "u"))
    monkeypatch.setenv("ANKLUME_YOLO", "1")
    assert any("allowed by --yolo" in w for w in resolve(root, check_roles=False).warnings)
