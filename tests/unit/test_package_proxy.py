"""The package proxy at sync time (group_vars, host table, policy oracle) and its daemons' configuration."""

from __future__ import annotations

import os
import shutil
import subprocess
import typing as t
from pathlib import Path

import pytest

from anklume.engine.render import render as render_files
from anklume.network.policy import allows
from anklume.network.ruleset import render
from anklume.proxy.daemons import unit_text
from anklume.proxy.layout import USER, daemons
from anklume.proxy.spec import PORTS, plan
from tests.unit.network_infra import resolved

INFRA = """\
project_name: pxunit
global:
  addressing: {{base_octet: 10, zone_base: 60, zone_step: 10}}{glob}
domains:
  tna:
    trust_level: admin
    nat: false{tna}
    machines:
      tna-1: {{}}
  tnb:
    trust_level: trusted
    machines:
      tnb-1: {{}}
"""
NFT = shutil.which("nft")


class Case(t.NamedTuple):
    test_id: str
    glob: str
    tna: str
    proxied: tuple[str, ...]


CASES = [
    Case("domain_opts_in", "", "\n    package_proxy: true", ("tna",)),
    Case("global_default", "\n  package_proxy: true", "", ("tna", "tnb")),
    Case("domain_opts_out_of_the_global_default", "\n  package_proxy: true", "\n    package_proxy: false", ("tnb",)),
    Case("nobody", "", "", ()),
]


@pytest.mark.parametrize("case", CASES, ids=[c.test_id for c in CASES])
def test_only_domains_that_opt_in_get_the_variable_and_the_rule(case: Case, tmp_path: Path) -> None:
    res = resolved(tmp_path, INFRA.format(glob=case.glob, tna=case.tna))
    files = render_files(res)
    table = render(res).text
    for dom, gw in (("tna", "10.60.0.254"), ("tnb", "10.70.0.254")):
        body = files[Path(f"group_vars/{dom}.yml")]
        rule = f'iifname "net-{dom}" ip daddr {gw} tcp dport {{ 3141, 3142, 4873 }} accept'
        if dom in case.proxied:
            assert f"anklume_package_proxy:\n  apt: http://{gw}:3142\n  pip: http://{gw}:3141/index/\n" in body
            assert rule in table
        else:
            assert "anklume_package_proxy" not in body and "3142" not in body
            assert f'iifname "net-{dom}" ip daddr {gw} tcp dport' not in table
        for port in PORTS:
            assert allows(res, (dom, "10.0.0.1"), ("host", None), "tcp", port) == (dom in case.proxied)


def test_a_domain_without_the_proxy_renders_as_before(tmp_path: Path) -> None:
    before = render_files(resolved(tmp_path, INFRA.format(glob="", tna="")))
    after = render_files(resolved(tmp_path, INFRA.format(glob="", tna="\n    package_proxy: false")))
    assert before == after


@pytest.mark.skipif(NFT is None, reason="nft is not installed (apt-get install nftables)")
@pytest.mark.skipif(os.geteuid() != 0, reason="nft -c needs root (CAP_NET_ADMIN)")
def test_the_table_with_proxy_rules_passes_nft_check(tmp_path: Path) -> None:
    assert NFT is not None
    text = render(resolved(tmp_path, INFRA.format(glob="\n  package_proxy: true", tna=""))).text
    proc = subprocess.run([NFT, "-c", "-f", "-"], input=text, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr


def test_the_daemons_listen_only_on_the_gateways_and_fetch_only_from_the_allowlist(tmp_path: Path) -> None:
    res = resolved(tmp_path, INFRA.format(glob="\n  package_proxy: true", tna=""))
    found = {d.name: d for d in daemons(plan(res, "anklume_pxunit_1"), "/usr/bin/node")}
    assert sorted(found) == ["apt", "npm-tna", "npm-tnb", "pip"]
    acng = found["apt"].files["apt/acng.conf"]
    assert "BindAddress: 10.60.0.254 10.70.0.254\n" in acng
    assert "ForceManaged: 1\n" in acng and "PassThroughPattern: ^$\n" in acng
    remaps = [line for line in acng.splitlines() if line.startswith("Remap-")]
    assert [r.rsplit(" ; ", 1)[1] for r in remaps] == [
        "http://deb.debian.org/debian/",
        "http://deb.debian.org/debian-security/",
    ]
    pip = found["pip"]
    binds = [pip.argv[i + 1] for i, a in enumerate(pip.argv) if a == "--bind"]
    assert binds == ["10.60.0.254:3141", "10.70.0.254:3141"]
    assert pip.env["PROXPI_INDEX_URL"] == "https://pypi.org/simple/"
    npm = found["npm-tna"].files["npm-tna.yaml"]
    assert '"listen": "10.60.0.254:4873"' in npm and '"url": "https://registry.npmjs.org/"' in npm
    assert '"max_users": -1' in npm  # nobody can register, so nobody can publish


def test_the_boot_unit_runs_the_exact_command_as_the_proxy_user(tmp_path: Path) -> None:
    res = resolved(tmp_path, INFRA.format(glob="", tna="\n    package_proxy: true"))
    for d in daemons(plan(res, "anklume_pxunit_1"), "/usr/bin/node"):
        unit = unit_text("anklume_pxunit_1", d)
        assert f"ExecStart={' '.join(d.argv)}\n" in unit
        assert f"User={USER}\n" in unit and "Restart=on-failure\n" in unit
