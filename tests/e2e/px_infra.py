"""The infra of the package-proxy tests, applied on the real daemon, and its probes.

Infra ``anklume-e2e-px``: ``pxa`` (10.140.0.0/24, admin, ``package_proxy:
true``) and ``pxb`` (10.141.0.0/24, trusted, no proxy), both ``nat:
false``. ``px-out`` is a container on ``incusbr0`` (default project, NAT
off) with a TCP listener that counts connections: the "anything else"
every outbound probe of ``pxa`` aims at. Every packet goes to a container
or bridge these tests created; the proxy's own upstreams are the
registries the host already reaches.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from anklume.incus.run import run as incus_run
from anklume.network.nftsafe import table_for
from tests.e2e import teardown

ANKLUME = str(Path(sys.executable).parent / "anklume")
PROJECT = "anklume-e2e-px"
TABLE = table_for(PROJECT)
DOMAINS = ("pxa", "pxb")
OUTSIDE = "px-out"
LISTEN_PORT = 8080
PXA_GW, PXB_GW = "10.140.0.254", "10.141.0.254"
INFRA = f"""\
project_name: {PROJECT}
global:
  addressing: {{base_octet: 10, zone_base: 140, zone_step: 1}}
  default_os_image: anklume/debian-12
domains:
  pxa:
    trust_level: admin
    nat: false
    ephemeral: true
    package_proxy: true
    machines:
      pxa-1: {{}}
  pxb:
    trust_level: trusted
    nat: false
    ephemeral: true
    machines:
      pxb-1: {{}}
"""

PROBE = """\
import socket, sys
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=float(sys.argv[3])).close()
    print("open")
except socket.timeout:
    print("timeout")
except OSError as exc:
    print("error", exc)
"""
"""Connect once to ADDRESS PORT within SECONDS; print open, timeout or error."""

LISTENER = """\
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", {port})); s.listen(16)
while True:
    c, a = s.accept()
    open("/tmp/hits", "a").write(a[0] + "\\n"); c.close()
"""

GET_NPM = """\
import io, json, sys, tarfile, urllib.request
reg = sys.argv[1].rstrip("/")
meta = json.load(urllib.request.urlopen(reg + "/npm", timeout=300))
ok = [v for v in meta["versions"] if v.startswith("10.") and "-" not in v]
version = max(ok, key=lambda v: tuple(int(x) for x in v.split(".")))
data = urllib.request.urlopen(meta["versions"][version]["dist"]["tarball"], timeout=300).read()
tarfile.open(fileobj=io.BytesIO(data)).extractall("/opt/npm-cli")
"""
"""Fetch the npm client (10.x, for Debian 12's Node 18) through the proxy: npm itself is an npm package."""

VIA_PROXY = """\
import sys, urllib.request
opener = urllib.request.build_opener(urllib.request.ProxyHandler({"http": sys.argv[1]}))
try:
    opener.open("http://%s:8080/debian/pool/x.deb" % sys.argv[2], timeout=20)
    print("served")
except Exception as exc:
    print("refused", exc)
"""
"""Ask the apt proxy (ARGV1) for a file on px-out (ARGV2): print served or refused."""


def sh(machine: str, project: str, script: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run ``sh -c SCRIPT`` in an instance; never raises on a non-zero exit."""
    argv = ["incus", "exec", machine, "--project", project, "--", "sh", "-c", script]
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)


def probe(machine: str, project: str, address: str, port: int, seconds: float = 2.0) -> str:
    """What one TCP connection from the instance to ADDRESS:PORT gives: open, timeout or error ..."""
    done = sh(machine, project, f"python3 -c '{PROBE}' {address} {port} {seconds}", timeout=30)
    return done.stdout.strip()


def outside_up() -> str:
    """Start ``px-out`` on incusbr0 with its listener, routing pxa's subnet back through the host; return its IP."""
    incus_run(["init", "anklume/debian-12", OUTSIDE, "--no-profiles", "--storage", "default"], project="default")
    incus_run(["config", "device", "add", OUTSIDE, "eth0", "nic", "network=incusbr0"], project="default")
    incus_run(["start", OUTSIDE], project="default")
    gateway = incus_run(["network", "get", "incusbr0", "ipv4.address"]).stdout.strip().split("/")[0]
    address = ""
    for _ in range(150):
        shown = incus_run(["exec", OUTSIDE, "--", "ip", "-4", "-o", "addr", "show", "eth0"], check=False).stdout
        if " inet " in shown:
            address = shown.split(" inet ", 1)[1].split("/", 1)[0]
            break
        time.sleep(0.2)
    assert address, "px-out got no address on incusbr0"
    incus_run(["exec", OUTSIDE, "--", "ip", "route", "replace", "10.140.0.0/24", "via", gateway], project="default")
    listener = LISTENER.format(port=LISTEN_PORT)
    sh(OUTSIDE, "default", f"nohup python3 -c '{listener}' >/dev/null 2>&1 &", timeout=30)
    return address


def hits() -> list[str]:
    """The addresses that connected to px-out's listener."""
    return sh(OUTSIDE, "default", "cat /tmp/hits 2>/dev/null", timeout=30).stdout.split()


def cleanup(directory: Path | None, env: dict[str, str]) -> None:
    """Stop this infra's proxy (deleting its configuration and caches), then remove its resources."""
    if directory is not None and (directory / "infra.yml").exists():
        argv = [ANKLUME, "-C", str(directory), "proxy", "stop", "--remove"]
        subprocess.run(argv, env=env, capture_output=True, timeout=120, check=False)
    teardown.remove(DOMAINS, bridges=[f"net-{d}" for d in DOMAINS], tables=(TABLE,))
    if OUTSIDE in teardown.names(["list", "--project", "default"]):
        incus_run(["delete", "--force", OUTSIDE], project="default", check=False)
