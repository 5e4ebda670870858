"""nat: false means no way out, DNS included: generated variables and the bridge config they give."""

from __future__ import annotations

import re
import typing as t
from collections.abc import Mapping
from pathlib import Path

import pytest

from anklume.engine.render import domain_vars
from anklume.errors import PlanError
from anklume.plan.declare import DNS_LOCAL, RAW_DNSMASQ, network_config
from tests.unit.network_infra import resolved

NET = {"name": "net-pro", "subnet": "10.120.0.0/24", "gateway": "10.120.0.254"}


def test_sync_writes_local_dns_for_nat_false_domains_only(tmp_path: Path) -> None:
    res = resolved(tmp_path)
    assert domain_vars(res.domains["tna"])["incus_network"]["dns"] == "local"
    assert "dns" not in domain_vars(res.domains["tnb"])["incus_network"]  # NAT on: unchanged files


class Bridge(t.NamedTuple):
    test_id: str
    net: Mapping[str, object]
    nat: object
    raw: str | None


CASES = [
    Bridge("new_files", {**NET, "nat": False, "dns": "local"}, False, DNS_LOCAL),
    Bridge("files_written_before_the_dns_key", {**NET, "nat": False}, False, DNS_LOCAL),
    Bridge("legacy_domain_nat_false", NET, False, DNS_LOCAL),
    Bridge("nat_on", NET, None, None),
    Bridge("explicit_forward", {**NET, "nat": False, "dns": "forward"}, False, None),
]


@pytest.mark.parametrize("case", CASES, ids=[c.test_id for c in CASES])
def test_bridge_config(case: Bridge) -> None:
    assert network_config("pro", case.net, case.nat).get(RAW_DNSMASQ) == case.raw


def test_unknown_dns_mode_is_an_error() -> None:
    with pytest.raises(PlanError, match=re.escape("incus_network.dns is 'upstream', expected local or forward")):
        network_config("pro", {**NET, "dns": "upstream"}, False)
