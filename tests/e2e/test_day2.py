"""Day-2 operations on the real daemon, through the real CLI entry point.

One module-scoped infra (``anklume-e2e-dp``: domains dpa, dpb, dpc; NAT
off; subnets 10.252.9.0/24, 10.254.9.0/24, 10.252.10.0/24; only dpa may
reach dpb-srv on TCP 8080) is applied once, without provisioning, and used
by every test: instances, snapshots, pre-apply snapshot and rollback,
disposables (address, policies, cleanup) and finally destroy, which must
leave nothing of this infra and nothing else changed: a project and a
bridge marked as another infra's, created here, survive it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from anklume.errors import IncusError
from anklume.incus.run import query as incus_query
from anklume.incus.run import run as incus_run
from tests.e2e import teardown

pytestmark = [pytest.mark.incus, pytest.mark.slow]

ANKLUME = str(Path(sys.executable).parent / "anklume")
INFRA = "anklume-e2e-dp"
PROJECTS = ("dpa", "dpb", "dpc")
TABLE = "anklume_e2e_dp"
FOREIGN_PROJECT = "dpz-foreign"
FOREIGN_NET = "net-dpz"
OURS = ("net-dpa", "net-dpb", "net-dpc", "10.252.9.", "10.254.9.", "10.252.10.")
TIMEOUT = 600

INFRA_YML = """\
project_name: anklume-e2e-dp
global:
  addressing: {{base_octet: 10, zone_base: 244, zone_step: 2}}
  default_os_image: anklume/debian-12
domains:
  dpa:
    trust_level: untrusted
    subnet_id: 9
    nat: false
    machines:
      dpa-one:
        config: {{user.e2e.v: "{value}"}}
      dpa-two: {{ephemeral: true}}
  dpb:
    trust_level: disposable
    subnet_id: 9
    nat: false
    ephemeral: true
    machines:
      dpb-srv: {{}}
  dpc:
    trust_level: untrusted
    subnet_id: 10
    nat: false
    ephemeral: true
    machines:
      dpc-x: {{}}
network_policies:
  - {{from: dpa, to: dpb-srv, ports: [8080], protocol: tcp}}
"""

# A TCP connect to dpb-srv:8080 (python3 of the image), exit 0 only when it is accepted.
PROBE = "import socket,sys; socket.create_connection((sys.argv[1], 8080), timeout=3); print('connected')"


@dataclass
class Run:
    """One finished command."""

    rc: int
    out: str
    err: str


@dataclass
class DP:
    """The applied infra of this module."""

    directory: Path
    state: Path

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["ANKLUME_SKIP_HOST_SUBNET_CHECK"] = "1"
        env["ANKLUME_LOCK_FILE"] = str(self.state / "apply.lock")
        env["ANKLUME_NFT_TABLE"] = TABLE
        env["ANKLUME_ETC"] = str(self.state / "etc")
        env["ANKLUME_SYSTEMD_DIR"] = str(self.state / "systemd")
        env["COLUMNS"] = "250"  # tables are not cut to 80 columns when piped
        return env

    def cli(self, *args: str, stdin: str | None = None) -> Run:
        proc = subprocess.run(
            [ANKLUME, "-C", str(self.directory), *args],
            env=self.env(),
            capture_output=True,
            text=True,
            input=stdin,
            timeout=TIMEOUT,
            check=False,
        )
        return Run(proc.returncode, proc.stdout, proc.stderr)

    def ok(self, *args: str) -> Run:
        done = self.cli(*args)
        assert done.rc == 0, f"anklume {' '.join(args)}: rc {done.rc}\n{done.out[-3000:]}\n{done.err[-3000:]}"
        return done

    def write(self, value: str) -> None:
        (self.directory / "infra.yml").write_text(INFRA_YML.format(value=value), encoding="utf-8")
        self.ok("sync")

    def sh(self, project: str, name: str, script: str) -> str:
        return incus_run(["exec", name, "--", "sh", "-c", script], project=project).stdout

    def snapshots(self, project: str, name: str) -> list[str]:
        data = incus_query(["query", f"/1.0/instances/{name}/snapshots?project={project}"])
        return sorted(str(u).rsplit("/", 1)[-1].split("?")[0] for u in data or [])


def _existing(argv: list[str]) -> list[dict[str, Any]]:
    try:
        data = incus_query(argv)
    except IncusError:
        return []
    return data if isinstance(data, list) else []


def _cleanup() -> None:
    """Remove every resource this module may have created (and only those)."""
    bridges = [*(f"net-{p}" for p in PROJECTS), FOREIGN_NET]
    teardown.remove((*PROJECTS, FOREIGN_PROJECT), bridges=bridges, tables=[TABLE])
    for rule in _our_ip_rules():
        subprocess.run(["ip", "-4", "rule", "del", *rule], capture_output=True, check=False)


def _our_ip_rules() -> list[list[str]]:
    """The live second-layer rules (protocol 173) naming this module's bridges or subnets, as ``ip rule del`` args."""
    if not shutil.which("ip"):
        return []
    shown = subprocess.run(["ip", "-4", "-j", "rule", "show"], capture_output=True, text=True, check=False).stdout
    found = []
    for item in json.loads(shown or "[]"):
        where = " ".join(str(item.get(k, "")) for k in ("iif", "src", "dst"))
        if str(item.get("protocol")) == "173" and any(m in where for m in OURS):
            found.append(["pref", str(item["priority"]), *_selector(item), "protocol", "173"])
    return found


def _selector(item: dict[str, Any]) -> list[str]:
    out = []
    for key, arg in (("src", "from"), ("dst", "to")):
        if key in item and item[key] != "all":
            length = item.get(f"{key}len")
            out += [arg, f"{item[key]}/{length}" if length is not None else str(item[key])]
    for key in ("iif", "ipproto"):
        if key in item:
            out += [key, str(item[key])]
    for key in ("sport", "dport"):
        if key in item:
            out += [key, str(item[key])]
    return out


@pytest.fixture(scope="module")
def dp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DP]:
    """The infra of this module, synced and applied once (no provisioning)."""
    _cleanup()
    root = tmp_path_factory.mktemp("dp")
    infra = DP(root / "infra", root / "state")
    infra.directory.mkdir()
    infra.state.mkdir()
    try:
        infra.write("1")
        infra.ok("domain", "apply", "--no-provision")
        # a resource of another infra, with one of our domain names: destroy must never touch it
        incus_run(
            [
                "project",
                "create",
                FOREIGN_PROJECT,
                "-c",
                "user.anklume.managed=true",
                "-c",
                "user.anklume.domain=dpa",
                "-c",
                "user.anklume.infra=anklume-e2e-dp-other",
            ]
        )
        incus_run(
            [
                "network",
                "create",
                FOREIGN_NET,
                "ipv4.address=10.253.9.254/24",
                "ipv4.nat=false",
                "ipv6.address=none",
                "user.anklume.managed=true",
                "user.anklume.domain=dpa",
                "user.anklume.infra=anklume-e2e-dp-other",
            ]
        )
        yield infra
    finally:
        _cleanup()


def _srv_ip(dp: DP) -> str:
    live = {i["name"]: i for i in _existing(["list", "--project", "dpb"])}
    for addr in live["dpb-srv"]["state"]["network"]["eth0"]["addresses"]:
        if addr["family"] == "inet":
            return str(addr["address"])
    msg = "dpb-srv has no IPv4 address"
    raise AssertionError(msg)


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.split("│")]


# --- instances -------------------------------------------------------------------------------


def test_instance_list_shows_domain_trust_and_protection(dp: DP) -> None:
    out = dp.ok("instance", "list").out
    rows = {cells[1]: cells for cells in (_cells(ln) for ln in out.splitlines()) if len(cells) == 8}
    domain, _, trust, kind, state, ip, protected, provisioned = rows["dpa-one"]
    assert (domain, trust, kind, state, protected, provisioned) == ("dpa", "untrusted", "lxc", "running", "yes", "no")
    assert ip.startswith("10.252.9.")
    assert rows["dpa-two"][6] == "no"  # ephemeral: true, not protected
    only = dp.ok("instance", "list", "--domain", "dpb").out
    assert "dpb-srv" in only and "dpa-one" not in only


def test_instance_exec_passes_the_exit_code_and_resolves_names(dp: DP) -> None:
    assert dp.cli("instance", "exec", "dpa-one", "--", "sh", "-c", "exit 7").rc == 7
    assert dp.ok("instance", "exec", "dpc-x", "--", "hostname").out.strip() == "dpc-x"
    wrong = dp.cli("instance", "exec", "dpa-on", "--", "true")
    assert wrong.rc == 2
    assert "unknown instance 'dpa-on'" in wrong.err and "did you mean 'dpa-one'" in wrong.err


def test_instance_shell_is_a_login_shell_with_the_trust_colour_in_the_title(dp: DP) -> None:
    argv = [ANKLUME, "-C", str(dp.directory), "instance", "shell", "dpa-one"]
    proc = subprocess.run(
        ["script", "-qefc", " ".join(argv), "/dev/null"],
        input="echo marker-$((6*7)) $HOME\nexit\n",
        env=dp.env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "marker-42 /root" in proc.stdout
    assert "\x1b]0;[red] dpa/dpa-one (untrusted)\x07" in proc.stdout
    assert "\x1b]0;" not in dp.ok("instance", "exec", "dpa-one", "--", "true").out  # no TTY, no escape


def test_instance_info_stop_start_restart(dp: DP) -> None:
    assert "project: dpc" in dp.ok("instance", "info", "dpc-x").out
    dp.ok("instance", "stop", "dpc-x")
    assert _existing(["list", "--project", "dpc"])[0]["status"] == "Stopped"
    dp.ok("instance", "start", "dpc-x")
    dp.ok("instance", "restart", "dpc-x")
    assert _existing(["list", "--project", "dpc"])[0]["status"] == "Running"


def test_instance_remove_refuses_a_protected_instance(dp: DP) -> None:
    refused = dp.cli("instance", "remove", "dpa-one", "--yes")
    assert refused.rc == 1
    assert "protected" in refused.err and "--force" in refused.err
    assert any(i["name"] == "dpa-one" for i in _existing(["list", "--project", "dpa"]))


def test_domain_exec_prefixes_output_and_fails_when_one_fails(dp: DP) -> None:
    out = dp.ok("domain", "exec", "dpa", "--", "hostname").out
    assert "[dpa-one] dpa-one" in out and "[dpa-two] dpa-two" in out
    failed = dp.cli("domain", "exec", "dpa", "--", "sh", "-c", '[ "$(hostname)" = dpa-one ]')
    assert failed.rc == 1 and "dpa-two: exit 1" in failed.err


# --- snapshots -------------------------------------------------------------------------------


def test_snapshot_round_trip_restores_a_file(dp: DP) -> None:
    dp.sh("dpa", "dpa-one", "echo first > /root/note")
    dp.ok("snapshot", "create", "dpa-one", "--name", "e2e-round")
    dp.sh("dpa", "dpa-one", "echo second > /root/note")
    declined = dp.cli("snapshot", "restore", "e2e-round", "dpa-one", stdin="n\n")  # running: asks first
    assert declined.rc == 1 and "running" in declined.out
    assert dp.sh("dpa", "dpa-one", "cat /root/note").strip() == "second"
    restored = dp.ok("snapshot", "restore", "e2e-round", "dpa-one", "--yes")
    assert "restored e2e-round" in restored.out
    assert dp.sh("dpa", "dpa-one", "cat /root/note").strip() == "first"
    assert "e2e-round" in dp.ok("snapshot", "list", "dpa-one").out
    dp.ok("snapshot", "delete", "e2e-round", "dpa-one")
    assert "e2e-round" not in dp.snapshots("dpa", "dpa-one")


def test_domain_snapshot_covers_every_machine(dp: DP) -> None:
    made = dp.ok("snapshot", "create", "--domain", "dpa").out
    names = {ln.split(": snapshot ")[1] for ln in made.splitlines() if ": snapshot " in ln}
    assert len(names) == 1 and names.pop().startswith("ak-")
    for machine in ("dpa-one", "dpa-two"):
        assert any(s.startswith("ak-2") for s in dp.snapshots("dpa", machine)), machine


def test_retention_deletes_only_anklumes_own_snapshots(dp: DP) -> None:
    for name in ("mine", "ak-20200101T000000Z", "ak-20200102T000000Z", "ak-pre-20200101T000000Z"):
        incus_run(["snapshot", "create", "dpb-srv", name], project="dpb")
    dp.ok("snapshot", "create", "dpb-srv", "--keep", "1")
    left = dp.snapshots("dpb", "dpb-srv")
    assert "mine" in left and "ak-pre-20200101T000000Z" in left
    assert "ak-20200101T000000Z" not in left and "ak-20200102T000000Z" not in left
    assert len([s for s in left if s.startswith("ak-2")]) == 1


def test_pre_apply_snapshot_then_rollback(dp: DP) -> None:
    dp.sh("dpa", "dpa-one", "echo before > /root/state")
    dp.write("2")
    dp.ok("domain", "apply", "--no-provision")
    pre = [s for s in dp.snapshots("dpa", "dpa-one") if s.startswith("ak-pre-")]
    assert len(pre) == 1, pre
    assert not [s for s in dp.snapshots("dpa", "dpa-two") if s.startswith("ak-pre-")]  # unchanged: not snapshotted
    records = list((dp.directory / ".anklume" / "pre-apply").glob("*.json"))
    assert len(records) == 1
    assert json.loads(records[0].read_text())["instances"][0]["name"] == "dpa-one"
    assert incus_run(["config", "get", "dpa-one", "user.e2e.v"], project="dpa").stdout.strip() == "2"
    dp.sh("dpa", "dpa-one", "echo after > /root/state")
    back = dp.ok("snapshot", "rollback", "--yes")
    assert "undoes the apply of" in back.out and pre[0] in back.out
    assert incus_run(["config", "get", "dpa-one", "user.e2e.v"], project="dpa").stdout.strip() == "1"
    assert dp.sh("dpa", "dpa-one", "cat /root/state").strip() == "before"
    dp.ok("domain", "apply", "--no-provision", "--no-snapshot")  # converges to 2 again, without a snapshot
    assert [s for s in dp.snapshots("dpa", "dpa-one") if s.startswith("ak-pre-")] == pre


# --- disposables -----------------------------------------------------------------------------


def _disposables() -> list[str]:
    return [
        i["name"]
        for i in _existing(["list", "--all-projects"])
        if (i.get("config") or {}).get("user.anklume.disposable")
        and (i.get("config") or {}).get("user.anklume.infra") == INFRA
    ]


def test_disposable_sits_in_its_domain_and_obeys_its_policies(dp: DP) -> None:
    srv = _srv_ip(dp)
    dp.sh("dpb", "dpb-srv", "nohup python3 -m http.server 8080 >/dev/null 2>&1 &")
    probe = ["sh", "-c", f'ip -4 -o addr show eth0; python3 -c "{PROBE}" {srv}']
    allowed = dp.cli("disp", "--domain", "dpa", "--network-wait", "--", *probe)
    assert allowed.rc == 0, allowed.out + allowed.err
    assert "inet 10.252.9." in allowed.out and "connected" in allowed.out
    denied = dp.cli("disp", "--domain", "dpc", "--network-wait", "--", *probe)
    assert "inet 10.252.10." in denied.out
    assert denied.rc != 0 and "connected" not in denied.out
    assert _disposables() == []


def test_disposable_passes_the_exit_code_and_leftovers_are_cleaned(dp: DP) -> None:
    assert dp.cli("disp", "--domain", "dpc", "--", "sh", "-c", "exit 5").rc == 5
    assert dp.cli("instance", "disp", "--domain", "dpc", "--", "sh", "-c", "exit 4").rc == 4  # the alias
    gone_pid = subprocess.Popen(["true"])  # a pid that no longer runs once waited for
    gone_pid.wait()
    incus_run(
        [
            "create",
            "anklume/debian-12",
            "dpc-disp-e2e000",
            "-c",
            f"user.anklume.disposable={gone_pid.pid}",
            "-c",
            f"user.anklume.infra={INFRA}",
            "-c",
            "user.anklume.domain=dpc",
        ],
        project="dpc",
    )
    listed = dp.ok("disp", "--list").out
    assert "dpc-disp-e2e000" in listed and "leftover" in listed
    doctor = dp.cli("doctor")
    assert "leftover disposable" in doctor.out + doctor.err and "dpc/dpc-disp-e2e000" in doctor.out + doctor.err
    assert "dpc-disp-e2e000" in dp.ok("disp", "--cleanup").out
    assert _disposables() == []


# --- destroy (last: it removes the infra) ----------------------------------------------------


def test_destroy_keeps_protected_then_removes_everything_of_this_infra_only(dp: DP) -> None:
    assert "remove instance dpb/dpb-srv" in dp.ok("destroy", "--dry-run").out
    assert {i["name"] for i in _existing(["list", "--all-projects"])} >= {"dpa-one", "dpb-srv"}
    removed = dp.cli("instance", "remove", "dpc-x", "--yes")
    assert removed.rc == 0 and "lost" in removed.out
    assert _existing(["list", "--project", "dpc"]) == []
    first = dp.cli("destroy", "--yes")
    assert first.rc == 0, first.out + first.err
    left = {i["name"] for i in _existing(["list", "--all-projects"]) if i.get("project") in PROJECTS}
    assert left == {"dpa-one"}
    declined = dp.cli("destroy", "--include-protected", stdin="n\n")
    assert declined.rc == 1 and "dpa/dpa-one" in declined.out  # the confirmation lists the protected instances
    assert any(i["name"] == "dpa-one" for i in _existing(["list", "--project", "dpa"]))
    second = dp.cli("destroy", "--include-protected", "--yes")
    assert second.rc == 0, second.out + second.err
    projects = {p["name"]: p for p in _existing(["project", "list"])}
    assert not set(PROJECTS) & set(projects)
    networks = {n["name"] for n in _existing(["network", "list"])}
    assert not {f"net-{p}" for p in PROJECTS} & networks
    owned = [
        r
        for r in _existing(["list", "--all-projects"]) + _existing(["profile", "list", "--all-projects"])
        if (r.get("config") or {}).get("user.anklume.infra") == INFRA
    ]
    assert owned == []
    assert subprocess.run(["nft", "list", "table", "inet", TABLE], capture_output=True, check=False).returncode != 0
    assert not (dp.state / "etc").exists()  # boot files gone, and the directories the apply created
    assert _our_ip_rules() == []  # the second isolation layer is gone too
    # the other infra's resources, with one of our domain names, are untouched
    assert FOREIGN_PROJECT in projects and FOREIGN_NET in networks
