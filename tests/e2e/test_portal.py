"""The file portal on the real daemon, through the real CLI.

One module-scoped infra (``anklume-e2e-pt``): domain ``pta`` (trusted,
10.121.0.0/24, file_portal /srv/inbox and /srv/out) and domain ``ptb``
(untrusted, 10.124.0.0/24, file_portal /srv/share), one container each,
NAT off, applied once without provisioning. The portal reads infra.yml
only, so each test writes the variant it needs (rules, read_only) without
applying again. Everything is removed at the end, even on failure.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from anklume.incus.run import run as incus_run
from tests.e2e import teardown

pytestmark = [pytest.mark.incus, pytest.mark.slow]

ANKLUME = str(Path(sys.executable).parent / "anklume")
PROJECTS = ("pta", "ptb")
TABLE = "anklume_e2e_pt"
TIMEOUT = 300

INFRA_YML = """\
project_name: anklume-e2e-pt
global:
  addressing: {{base_octet: 10, zone_base: 120, zone_step: 1}}
  default_os_image: anklume/debian-12
domains:
  pta:
    trust_level: trusted
    nat: false
    ephemeral: true
    file_portal: {{allowed_paths: [/srv/inbox, /srv/out], read_only: {read_only}}}
    machines:
      pta-box: {{}}
  ptb:
    trust_level: untrusted
    nat: false
    ephemeral: true
    file_portal: {{allowed_paths: [/srv/share]}}
    machines:
      ptb-box: {{}}
{policies}"""

RULE = "file_policies:\n  - {from: ptb, to: pta}\n"

# A tree with small and larger files, odd modes and owners, a link inside and an empty directory.
MAKE_TREE = """
set -e
mkdir -p /srv/share/tree/sub/deep /srv/share/tree/empty /srv/inbox /srv/out /srv/secret
echo secret > /srv/secret/key
printf 'hello\\n' > /srv/share/tree/a.txt
head -c 300000 /dev/urandom > /srv/share/tree/sub/big.bin
printf 'x' > /srv/share/tree/sub/deep/one
chmod 0640 /srv/share/tree/a.txt; chmod 0750 /srv/share/tree/sub
chown 1234:2345 /srv/share/tree/sub/big.bin
ln -s a.txt /srv/share/tree/link
ln -sfn /srv/secret /srv/share/escape
"""

# Every entry below a directory: path, type, mode, uid, gid, and sha256 of the regular files.
LIST_TREE = r"""
cd "$1" && find . -printf '%p %y %m %U %G\n' | sort | while read -r p y m u g; do
  if [ "$y" = f ]; then h=$(sha256sum "$p" | cut -d' ' -f1); else h=-; fi
  echo "$p $y $m $u $g $h"
done
"""


@dataclass
class Run:
    """One finished command."""

    rc: int
    out: str
    err: str


@dataclass
class PT:
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
        env["COLUMNS"] = "250"
        return env

    def cli(self, *args: str) -> Run:
        proc = subprocess.run(
            [ANKLUME, "-C", str(self.directory), *args],
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
            cwd=self.state,
        )
        return Run(proc.returncode, proc.stdout, proc.stderr)

    def ok(self, *args: str) -> Run:
        done = self.cli(*args)
        assert done.rc == 0, f"anklume {' '.join(args)}: rc {done.rc}\n{done.out[-3000:]}\n{done.err[-3000:]}"
        return done

    def write(self, *, rule: bool, read_only: bool = False) -> None:
        text = INFRA_YML.format(policies=RULE if rule else "", read_only="true" if read_only else "false")
        (self.directory / "infra.yml").write_text(text, encoding="utf-8")

    def sh(self, machine: str, script: str, *args: str) -> str:
        return incus_run(["exec", machine, "--", "sh", "-c", script, "sh", *args], project=machine[:3]).stdout

    def log(self) -> list[dict[str, Any]]:
        """The audit log, read from its file (``portal log`` itself is checked once: each CLI run costs a second)."""
        text = (self.directory / ".anklume" / "portal.log").read_text(encoding="utf-8")
        return [json.loads(line) for line in text.splitlines()]


def _cleanup() -> None:
    teardown.remove(PROJECTS, bridges=[f"net-{p}" for p in PROJECTS], tables=[TABLE])


@pytest.fixture(scope="module")
def pt(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PT]:
    """The infra of this module, synced and applied once (no provisioning), with a tree to copy."""
    _cleanup()
    root = tmp_path_factory.mktemp("pt")
    infra = PT(root / "infra", root / "state")
    infra.directory.mkdir()
    infra.state.mkdir()
    try:
        infra.write(rule=True)
        infra.ok("sync")
        infra.ok("domain", "apply", "--no-provision")
        for machine in ("pta-box", "ptb-box"):
            infra.sh(machine, MAKE_TREE)
        yield infra
    finally:
        _cleanup()


def _tree(pt: PT, machine: str, path: str) -> list[str]:
    return pt.sh(machine, LIST_TREE, path).splitlines()


def test_a_directory_crosses_two_domains_byte_identical_and_is_logged(pt: PT) -> None:
    pt.write(rule=True)
    done = pt.ok("portal", "copy", "ptb-box:/srv/share/tree", "pta-box:/srv/inbox")
    assert "copied ptb-box:/srv/share/tree → pta-box:/srv/inbox/tree" in done.out
    # lower → higher trust: warned, naming both levels
    assert "from domain 'ptb' (untrusted) to domain 'pta' (trusted)" in done.err
    sent, arrived = _tree(pt, "ptb-box", "/srv/share/tree"), _tree(pt, "pta-box", "/srv/inbox/tree")
    assert arrived == sent  # every entry: type, mode, owner, sha256
    assert any(" 1234 2345 " in line and "big.bin" in line for line in arrived)
    assert any(line.startswith("./link l ") for line in arrived)
    entry = pt.log()[-1]
    assert entry["decision"] == "allowed" and entry["result"] == "ok"
    assert entry["source"] == {"instance": "ptb-box", "domain": "ptb", "trust": "untrusted", "path": "/srv/share/tree"}
    assert entry["destination"]["path"] == "/srv/inbox/tree"
    hashes = {f["path"]: f["sha256"] for f in entry["files"]}
    expected = {"tree/" + line.split()[0][2:]: line.split()[5] for line in sent if line.split()[1] == "f"}
    assert hashes == expected
    assert entry["bytes"] == 300000 + 6 + 1
    assert stat.S_IMODE((pt.directory / ".anklume" / "portal.log").stat().st_mode) == 0o600


def test_the_same_copy_without_a_rule_is_refused_and_logged_as_denied(pt: PT) -> None:
    pt.write(rule=False)
    refused = pt.cli("portal", "copy", "ptb-box:/srv/share/tree", "pta-box:/srv/out")
    assert refused.rc == 1
    assert "no file_policies rule lets files go from ptb-box (domain 'ptb') to pta-box (domain 'pta')" in refused.err
    assert pt.sh("pta-box", "ls -A /srv/out") == ""
    entry = pt.log()[-1]
    assert (entry["decision"], entry["files"], entry["bytes"]) == ("denied", [], 0)
    table = pt.ok("portal", "log").out
    assert "denied" in table and "ptb-box:/srv/share/tree" in table
    assert json.loads(pt.ok("portal", "log", "--json", "--last", "1").out) == [entry]


def test_force_copies_what_is_denied_and_is_logged_as_forced(pt: PT) -> None:
    pt.write(rule=False)
    forced = pt.ok("portal", "copy", "--force", "ptb-box:/srv/share/tree/a.txt", "pta-box:/srv/out/forced.txt")
    assert "--force" in forced.err
    assert pt.sh("pta-box", "cat /srv/out/forced.txt") == "hello\n"
    entry = pt.log()[-1]
    assert (entry["decision"], entry["force"], entry["result"]) == ("forced", True, "ok")
    assert entry["reasons"] and entry["files"][0]["sha256"] == hashlib.sha256(b"hello\n").hexdigest()


def test_read_only_domains_are_never_written(pt: PT) -> None:
    pt.write(rule=True, read_only=True)
    refused = pt.cli("portal", "copy", "ptb-box:/srv/share/tree/a.txt", "pta-box:/srv/inbox/ro.txt")
    assert refused.rc == 1 and "read_only" in refused.err
    assert pt.sh("pta-box", "ls /srv/inbox/ro.txt 2>/dev/null || echo absent").strip() == "absent"
    out = pt.state / "from-pta"
    pt.ok("portal", "copy", "pta-box:/srv/inbox/tree/a.txt", str(out))  # reading out of it is fine
    assert out.read_text() == "hello\n"


@pytest.mark.parametrize(
    ("source", "destination", "why"),
    [
        ("ptb-box:/srv/share/../secret/key", "pta-box:/srv/inbox", "/srv/secret/key (resolved inside ptb-box)"),
        ("ptb-box:/srv/share/escape/key", "pta-box:/srv/inbox", "/srv/secret/key (resolved inside ptb-box)"),
        ("ptb-box:/srv/share/tree/a.txt", "pta-box:/srv/inbox/../../etc", "/etc/a.txt (resolved inside pta-box)"),
        ("ptb-box:/srv/share/tree/a.txt", "pta-box:/srv/inbox/up", "/srv/a.txt (resolved inside pta-box)"),
    ],
    ids=["dotdot-source", "symlink-source", "dotdot-destination", "symlink-destination"],
)
def test_allowed_paths_hold_against_dotdot_and_links_inside_the_instance(
    pt: PT, source: str, destination: str, why: str
) -> None:
    pt.write(rule=True)
    pt.sh("pta-box", "ln -sfn /srv /srv/inbox/up")
    refused = pt.cli("portal", "copy", source, destination)
    assert refused.rc == 1, refused.out + refused.err
    assert why in refused.err and "file_portal.allowed_paths" in refused.err
    assert pt.sh("pta-box", "ls /etc/a.txt /srv/a.txt /srv/inbox/key 2>/dev/null; true") == ""
    assert pt.log()[-1]["decision"] == "denied"


def test_a_hostile_sender_cannot_write_outside_the_copy(pt: PT) -> None:
    """The sending instance's tar is replaced by one that emits '..' and through-link members."""
    pt.write(rule=True)
    evil = (
        "#!/usr/bin/python3\n"
        "import io, sys, tarfile\n"
        "t = tarfile.open(fileobj=sys.stdout.buffer, mode='w|')\n"
        "d = tarfile.TarInfo('evil'); d.type = tarfile.DIRTYPE; t.addfile(d)\n"
        "l = tarfile.TarInfo('evil/x'); l.type = tarfile.SYMTYPE; l.linkname = '/srv/out'; t.addfile(l)\n"
        "f = tarfile.TarInfo(MEMBER); f.size = 4; t.addfile(f, io.BytesIO(b'pwnd'))\n"
        "t.close()\n"
    )
    pt.sh("ptb-box", "mkdir -p /srv/share/evil")
    for member in ("evil/x/planted", "evil/../planted"):
        script = evil.replace("MEMBER", repr(member))
        pt.sh("ptb-box", 'printf %s "$1" > /usr/local/bin/tar && chmod +x /usr/local/bin/tar', script)
        try:
            failed = pt.cli("portal", "copy", "ptb-box:/srv/share/evil", "pta-box:/srv/inbox")
        finally:
            pt.sh("ptb-box", "rm -f /usr/local/bin/tar")
        assert failed.rc == 1 and "refused member" in failed.err, failed.err
        assert pt.sh("pta-box", "ls -A /srv/inbox/evil /srv/out/planted /srv/inbox/planted 2>/dev/null; true") == ""
        assert pt.sh("pta-box", "ls -A /srv/inbox | grep -c anklume-portal; true").strip() == "0"
        assert pt.log()[-1]["result"].startswith("failed: refused member")


def test_host_to_instance_and_back(pt: PT) -> None:
    pt.write(rule=False)
    src = pt.state / "hostdir"
    (src / "in").mkdir(parents=True)
    (src / "in" / "f.txt").write_text("from host\n")
    pt.ok("portal", "copy", str(src), "pta-box:/srv/out")
    assert pt.sh("pta-box", "cat /srv/out/hostdir/in/f.txt") == "from host\n"
    pt.sh("ptb-box", "printf s > /srv/share/suid && chmod 4755 /srv/share/suid")
    back = pt.ok("portal", "copy", "ptb-box:/srv/share/suid", str(pt.state / "suid"))
    assert "setuid/setgid bits cleared" in back.err
    assert "from domain 'ptb' (untrusted) to the host (admin)" in back.err
    assert stat.S_IMODE((pt.state / "suid").stat().st_mode) == 0o755
    again = pt.cli("portal", "copy", str(src), "pta-box:/srv/out")
    assert again.rc == 2 and "never overwrites" in again.err
