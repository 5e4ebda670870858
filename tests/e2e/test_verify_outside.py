"""``network verify`` probes from outside every domain and from removed domains, on the real daemon.

The outside-in source is the temporary instance verify launches on
``incusbr0`` (NAT off on this host); the removed domain is ``nlc``, applied
then taken out of infra.yml without a prune, so its bridge and instance stay.
"""

from __future__ import annotations

import pytest

from anklume.incus.run import query as incus_query
from anklume.incus.run import run as incus_run
from tests.e2e.nl_infra import INFRA, NLC, NlInfra, nl_infra_fixture  # noqa: F401 -- the fixture, by import
from tests.e2e.test_isolation_layers import rows

pytestmark = pytest.mark.incus


def probe_instances() -> list[str]:
    return [
        str(i["name"]) for i in incus_query(["list"], project="default") if str(i["name"]).startswith("anklume-verify-")
    ]


def test_verify_probes_every_domain_from_outside_and_cleans_up(nl_infra: NlInfra) -> None:
    done = nl_infra.anklume("network", "verify", "--all")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "outside-in probes from anklume-verify-" in done.stdout + done.stderr
    outside = {(r[2], r[3], r[4], r[5], r[6]) for r in rows(done.stdout) if r[1] == "outside incusbr0"}
    assert outside == {(m, f"{p}/47001", "block", "blocked", "ok") for m in ("nla-1", "nlb-1") for p in ("tcp", "udp")}
    assert probe_instances() == []


def test_verify_probes_instances_of_a_removed_domain(nl_infra: NlInfra) -> None:
    with_nlc = INFRA.replace("network_policies:\n", NLC + "network_policies:\n")
    nl_infra.write(with_nlc)
    try:
        done = nl_infra.anklume("domain", "apply", "--no-provision")
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
        nl_infra.write(INFRA)  # nlc leaves infra.yml; no prune: its bridge and instance stay
        nl_infra.deploy()
        done = nl_infra.anklume("network", "verify", "--all")
        assert done.returncode == 0, done.stdout + done.stderr
        found = rows(done.stdout)
        out = {(r[2], r[3], r[6]) for r in found if r[0] == "nlc-1" and r[1] == "nlc, removed"}
        expected = {(m, f"{p}/47001", "ok") for m in ("nla-1", "nlb-1") for p in ("tcp", "udp")}
        assert out == expected | {("host", "tcp/47001", "ok")}, done.stdout
        into = {(r[0], r[3], r[6]) for r in found if r[2] == "nlc-1"}
        assert into == {(m, f"{p}/47001", "ok") for m in ("nla-1", "nlb-1") for p in ("tcp", "udp")}, done.stdout
        assert all(r[4] == "block" for r in found if "nlc-1" in (r[0], r[2]))
    finally:
        incus_run(["delete", "--force", "nlc-1"], project="nlc", check=False)
        incus_run(["project", "delete", "nlc"], check=False)
        incus_run(["network", "delete", "net-nlc"], check=False)
        nl_infra.write(INFRA)
        nl_infra.deploy()
