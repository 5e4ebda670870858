"""End-to-end: the package proxy serves a ``nat: false`` domain that opts in, and nothing else.

One infra (``px_infra``) applied once for the module: ``domain apply`` sets
the proxy up and ``base_system`` points apt, pip and npm at it. The probes
aim only at containers and bridges created here (``px-out`` on incusbr0,
the test bridges' gateways).
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from anklume.proxy.layout import state_root
from anklume.proxy.spec import APT_PORT, PORTS
from tests.e2e import px_infra as px

pytestmark = pytest.mark.incus

TIMINGS: dict[str, float] = {}
"""Seconds of each install (first, then again from the cache); printed at the end of the module."""


def _env(root: Path) -> dict[str, str]:
    env = dict(os.environ)
    env |= {"ANKLUME_SKIP_HOST_SUBNET_CHECK": "1", "ANKLUME_LOCK_FILE": str(root / "apply.lock")}
    env["ANKLUME_ETC"] = str(root / "etc")
    return env


def _anklume(directory: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    argv = [px.ANKLUME, "-C", str(directory), *args]
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=900, check=False)


@pytest.fixture(scope="module", name="infra")
def infra_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, str], str]]:
    """The applied infra, its environment and px-out's address; everything removed afterwards."""
    root = tmp_path_factory.mktemp("px")
    directory, env = root / "infra", _env(root)
    px.cleanup(None, env)  # leftovers of an interrupted run
    directory.mkdir()
    try:
        (directory / "infra.yml").write_text(px.INFRA, encoding="utf-8")
        for args in (("sync",), ("domain", "apply")):
            done = _anklume(directory, env, *args)
            assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        yield directory, env, px.outside_up()
    finally:
        px.cleanup(directory, env)
        print(f"\npackage proxy timings (s): {TIMINGS}")  # noqa: T201 -- the figures the report quotes


def _timed(name: str, script: str) -> str:
    start = time.monotonic()
    done = px.sh("pxa-1", "pxa", script, timeout=600)
    TIMINGS[name] = round(time.monotonic() - start, 1)
    assert done.returncode == 0, f"{name}: {done.stdout[-2000:]}{done.stderr[-2000:]}"
    return done.stdout


APT = "DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends"
PIP = "rm -rf /tmp/py && python3 -m pip install --no-cache-dir --target /tmp/py six && ls /tmp/py"
NPM = "rm -rf /tmp/js /tmp/npmc && mkdir /tmp/js && cd /tmp/js && npm install --cache /tmp/npmc is-number"
NPM += " && ls node_modules"


def test_a_nat_false_domain_installs_from_debian_pypi_and_npm_through_the_proxy(
    infra: tuple[Path, dict[str, str], str],
) -> None:
    conf = px.sh("pxa-1", "pxa", "cat /etc/apt/apt.conf.d/01anklume-proxy /etc/pip.conf /usr/etc/npmrc").stdout
    assert f"http://{px.PXA_GW}:{APT_PORT}" in conf and f"registry=http://{px.PXA_GW}:4873/" in conf
    assert "Hello, world!" in _timed("apt first", f"apt-get update -q && {APT} hello python3-pip nodejs && hello")
    assert "six.py" in _timed("pip first", PIP)
    px.sh("pxa-1", "pxa", "cat > /tmp/get_npm.py <<'EOF'\n" + px.GET_NPM + "EOF\n")
    get_npm = f"python3 /tmp/get_npm.py http://{px.PXA_GW}:4873/ && ln -sf /opt/npm-cli/package/bin/npm-cli.js "
    _timed("npm client", get_npm + "/usr/local/bin/npm")
    assert "is-number" in _timed("npm first", NPM)


def test_the_second_install_comes_from_the_cache(infra: tuple[Path, dict[str, str], str]) -> None:
    cache = state_root() / px.TABLE / "var"
    assert list((cache / "apt").rglob("hello_*.deb")), "the .deb is not in apt-cacher-ng's cache"
    assert list((cache / "pip").rglob("six-*.whl")), "the wheel is not in proxpi's cache"
    assert list((cache / "npm").rglob("is-number*.tgz")), "the tarball is not in verdaccio's storage"
    _timed("apt again", f"apt-get remove -y -q hello && apt-get clean && {APT} hello && hello")
    _timed("pip again", PIP)
    _timed("npm again", NPM)


def test_nothing_else_goes_out_of_the_domain(infra: tuple[Path, dict[str, str], str]) -> None:
    _, _, outside = infra
    assert px.probe("pxa-1", "pxa", outside, px.LISTEN_PORT) != "open"  # a container outside the domains
    assert px.probe("pxa-1", "pxa", px.PXA_GW, 22) != "open"  # its gateway, another port
    assert px.probe("pxa-1", "pxa", px.PXB_GW, APT_PORT) != "open"  # another domain's gateway
    # the proxy itself fetches only from its upstreams: a URL towards px-out is refused
    px.sh("pxa-1", "pxa", "cat > /tmp/via_proxy.py <<'EOF'\n" + px.VIA_PROXY + "EOF\n")
    asked = px.sh("pxa-1", "pxa", f"python3 /tmp/via_proxy.py http://{px.PXA_GW}:{APT_PORT} {outside}", timeout=60)
    assert asked.stdout.startswith("refused"), asked.stdout + asked.stderr
    assert px.hits() == [], "something reached px-out"


def test_a_domain_without_package_proxy_cannot_reach_the_proxy(infra: tuple[Path, dict[str, str], str]) -> None:
    for port in PORTS:
        assert px.probe("pxb-1", "pxb", px.PXA_GW, port) != "open"
        assert px.probe("pxb-1", "pxb", px.PXB_GW, port) != "open"
    listening = subprocess.run(["ss", "-Htln"], capture_output=True, text=True, check=True).stdout
    for port in PORTS:
        bound = [line.split()[3] for line in listening.splitlines() if line.split()[3].endswith(f":{port}")]
        assert f"{px.PXA_GW}:{port}" in bound
        assert not [a for a in bound if a.split(":")[0] in ("0.0.0.0", "*", px.PXB_GW)], bound


def test_setup_again_changes_nothing_and_the_boot_command_restarts_it(
    infra: tuple[Path, dict[str, str], str],
) -> None:
    directory, env, _ = infra
    assert _anklume(directory, env, "proxy", "setup").stdout.strip().endswith("changed=false")
    assert "changed=true" in _anklume(directory, env, "proxy", "stop").stdout
    assert _anklume(directory, env, "proxy", "status").returncode == 1
    started = subprocess.run([px.ANKLUME, "proxy", "start"], env=env, capture_output=True, text=True, check=False)
    assert started.returncode == 0, started.stderr
    assert _anklume(directory, env, "proxy", "status").returncode == 0
