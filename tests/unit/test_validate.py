"""Stage 2: every invalid input gets a clear problem with file, line and key."""

from __future__ import annotations

import typing as t

import pytest

from anklume.engine.pipeline import resolve
from anklume.errors import InfraError
from tests.unit.conftest import WriteInfra

HEAD = "project_name: x\nglobal:\n  addressing: {zone_base: 100}\n"


class BadInfra(t.NamedTuple):
    test_id: str
    body: str
    where: str  # "line: key" expected in the output
    says: str


CASES = [
    BadInfra(
        "unknown-key-did-you-mean",
        "domains:\n  pro:\n    trust-level: admin\n",
        "6: domains.pro.trust-level",
        "did you mean 'trust_level'",
    ),
    BadInfra(
        "unknown-machine-key",
        "domains:\n  pro:\n    machines:\n      web: {tpye: vm}\n",
        "7: domains.pro.machines.web.tpye",
        "did you mean 'type'",
    ),
    BadInfra(
        "bad-trust",
        "domains:\n  pro: {trust_level: high}\n",
        "5: domains.pro.trust_level",
        "'admin', 'trusted'",
    ),
    BadInfra(
        "domain-name-too-long",
        "domains:\n  averyverylongname: {}\n",
        "5: domains.averyverylongname",
        "at most 11",
    ),
    BadInfra("domain-name-uppercase", "domains:\n  Pro: {}\n", "5: domains.Pro", "invalid name 'Pro'"),
    BadInfra(
        "machine-name-underscore",
        "domains:\n  pro:\n    machines:\n      my_web: {}\n",
        "7: domains.pro.machines.my_web",
        "lowercase",
    ),
    BadInfra(
        "ip-not-ipv4",
        "domains:\n  pro:\n    machines:\n      w: {ip: 10.1.2}\n",
        "7: domains.pro.machines.w.ip",
        "IPv4",
    ),
    BadInfra(
        "ip-outside-subnet",
        "domains:\n  pro:\n    machines:\n      w: {ip: 10.9.0.7}\n",
        "7: domains.pro.machines.w.ip",
        "outside the domain's subnet 10.120.0.0/24",
    ),
    BadInfra(
        "ip-is-gateway",
        "domains:\n  pro:\n    machines:\n      w: {ip: 10.120.0.254}\n",
        "7: domains.pro.machines.w.ip",
        "gateway",
    ),
    BadInfra(
        "duplicate-ip",
        "domains:\n  pro:\n    machines:\n      a: {ip: 10.120.0.5}\n      b: {ip: 10.120.0.5}\n",
        "8: domains.pro.machines.b.ip",
        "already used by machine 'a'",
    ),
    BadInfra(
        "duplicate-machine",
        "domains:\n  a:\n    machines: {web: {}}\n  b:\n    machines: {web: {}}\n",
        "8: domains.b.machines.web",
        "already used in domain 'a'",
    ),
    BadInfra(
        "machine-named-like-domain",
        "domains:\n  a:\n    machines: {b: {}}\n  b: {}\n",
        "6: domains.a.machines.b",
        "collides with domain",
    ),
    BadInfra("host-reserved", "domains:\n  host: {}\n", "5: domains.host", "reserved"),
    BadInfra("wrong-type-bool", "domains:\n  pro: {nat: maybe}\n", "5: domains.pro.nat", "valid boolean"),
    BadInfra("wrong-type-int", "domains:\n  pro: {subnet_id: '3'}\n", "5: domains.pro.subnet_id", "valid integer"),
    BadInfra(
        "subnet-id-range",
        "domains:\n  pro: {subnet_id: 300}\n",
        "5: domains.pro.subnet_id",
        "less than or equal to 254",
    ),
    BadInfra(
        "duplicate-subnet-id",
        "domains:\n  a: {subnet_id: 3}\n  b: {subnet_id: 3}\n",
        "6: domains.b.subnet_id",
        "already used by 'a'",
    ),
    BadInfra(
        "unknown-profile",
        "domains:\n  pro:\n    machines:\n      w: {profiles: [default, big]}\n",
        "7: domains.pro.machines.w.profiles[1]",
        "profile 'big' is not defined",
    ),
    BadInfra(
        "device-without-type",
        "domains:\n  pro:\n    machines:\n      w:\n        devices: {d: {path: /x}}\n",
        "8: domains.pro.machines.w.devices.d",
        "no 'type'",
    ),
    BadInfra(
        "policy-unknown-endpoint",
        "domains:\n  pro: {}\nnetwork_policies:\n  - {from: pro, to: nowhere}\n",
        "7: network_policies[0].to",
        "neither a domain, a machine nor 'host'",
    ),
    BadInfra(
        "policy-bad-port",
        "domains:\n  pro: {}\nnetwork_policies:\n  - {from: pro, to: host, ports: [0]}\n",
        "7: network_policies[0].ports[0]",
        "greater than or equal to 1",
    ),
    BadInfra(
        "policy-bad-protocol",
        "domains:\n  pro: {}\nnetwork_policies:\n  - {from: pro, to: host, protocol: icmp}\n",
        "7: network_policies[0].protocol",
        "'tcp' or 'udp'",
    ),
    BadInfra(
        "two-gpus-exclusive",
        "domains:\n  pro:\n    machines:\n      a: {gpu: true}\n      b: {gpu: true}\n",
        "8: domains.pro.machines.b.gpu",
        "more than one GPU",
    ),
    BadInfra(
        "cron",
        "domains:\n  pro:\n    machines:\n      w: {snapshots_schedule: daily}\n",
        "7: domains.pro.machines.w.snapshots_schedule",
        "cron",
    ),
    BadInfra(
        "expiry",
        "domains:\n  pro:\n    machines:\n      w: {snapshots_expiry: 1w}\n",
        "7: domains.pro.machines.w.snapshots_expiry",
        "duration",
    ),
    BadInfra(
        "boot-priority",
        "domains:\n  pro:\n    machines:\n      w: {boot_priority: 101}\n",
        "7: domains.pro.machines.w.boot_priority",
        "less than or equal to 100",
    ),
    BadInfra(
        "privileged-lxc",
        "domains:\n  pro:\n    machines:\n      w:\n        config: {security.privileged: true}\n",
        "8: domains.pro.machines.w.config.security.privileged",
        "privileged container is forbidden",
    ),
    BadInfra(
        "privileged-yes",
        "domains:\n  pro:\n    machines:\n      w:\n        config: {security.privileged: 'yes'}\n",
        "8: domains.pro.machines.w.config.security.privileged",
        "privileged container is forbidden",
    ),
    BadInfra(
        "privileged-through-profile",
        "domains:\n  pro:\n    profiles:\n      root: {config: {security.privileged: 1}}\n"
        "    machines:\n      w: {profiles: [default, root]}\n",
        "9: domains.pro.machines.w.profiles[1]",
        "privileged container is forbidden",
    ),
    BadInfra(
        "policy-empty-ports",
        "domains:\n  pro: {}\nnetwork_policies:\n  - {from: pro, to: host, ports: []}\n",
        "7: network_policies[0].ports",
        "at least 1 item",
    ),
    BadInfra(
        "missing-role",
        "domains:\n  pro:\n    machines:\n      w: {roles: [nosuchrole]}\n",
        "7: domains.pro.machines.w.roles[0]",
        "role 'nosuchrole' of machine 'w' not found",
    ),
    BadInfra(
        "sv-consumer",
        "domains:\n  pro: {}\nshared_volumes:\n  docs: {consumers: {nobody: ro}}\n",
        "7: shared_volumes.docs.consumers.nobody",
        "neither a domain nor a machine",
    ),
    BadInfra(
        "relative-path",
        "domains:\n  pro:\n    machines:\n      w:\n        persistent_data: {d: {path: data}}\n",
        "8: domains.pro.machines.w.persistent_data.d.path",
        "absolute path",
    ),
    BadInfra(
        "reserved-device-name",
        "domains:\n  pro:\n    machines:\n      w:\n        devices: {sv-x: {type: disk}}\n",
        "8: domains.pro.machines.w.devices.sv-x",
        "reserved",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.test_id for c in CASES])
def test_bad_infra_gets_one_clear_problem(write_infra: WriteInfra, case: BadInfra) -> None:
    root = write_infra(HEAD + case.body)
    with pytest.raises(InfraError) as info:
        resolve(root)
    text = str(info.value)
    assert f"infra.yml:{case.where}" in text, text
    assert case.says in text, text
    assert info.value.exit_code == 2


def test_all_problems_are_reported_together(write_infra: WriteInfra) -> None:
    body = "domains:\n  pro: {trust_level: high, nat: maybe}\n  lab: {tpye: x}\n"
    root = write_infra(HEAD + body)
    with pytest.raises(InfraError) as info:
        resolve(root)
    keys = [p.key for p in info.value.problems]
    assert keys == ["domains.pro.nat", "domains.pro.trust_level", "domains.lab.tpye"]
    assert str(info.value).startswith("3 problems")


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ("global: {firewall_mode: vm}\ndomains: {pro: {}}\n", "firewall_mode vm needs a domain 'anklume'"),
        ("global: {ai_access_policy: exclusive}\ndomains: {pro: {}}\n", "needs a domain 'ai-tools'"),
        (
            "global: {ai_access_policy: exclusive, ai_access_default: ai-tools}\ndomains: {ai-tools: {}}\n",
            "must be a declared domain other than 'ai-tools'",
        ),
        (
            "global: {addressing: {zone_base: 245, zone_step: 10}}\ndomains: {d: {trust_level: untrusted}}\n",
            "(> 255)",
        ),
        ("global: {}\ndomains: {d: {}}\n", "subnet_id is required in legacy addressing"),
        (
            "global: {addressing: {}, ai_access_policy: exclusive, ai_access_default: pro}\n"
            "domains:\n  ai-tools: {machines: {llm: {}}}\n  pro: {}\n  perso: {machines: {q1: {}}}\n"
            "network_policies:\n  - {from: perso, to: llm}\n  - {from: ai-tools, to: q1, bidirectional: true}\n",
            "allows one policy reaching 'ai-tools' or its machines, found 2",
        ),
        (
            "global: {}\ndomains:\n  d: {subnet_id: 1, machines: {p1: {}, q1: {ip: 10.100.1.5}}}\n"
            "network_policies:\n  - {from: q1, to: p1}\n",
            "machine 'p1' has no ip",
        ),
    ],
    ids=[
        "firewall-vm",
        "ai-no-domain",
        "ai-default-self",
        "zone-overflow",
        "legacy-needs-id",
        "ai-bypass",
        "legacy-policy-machine-without-ip",
    ],
)
def test_global_rules(write_infra: WriteInfra, body: str, says: str) -> None:
    root = write_infra("project_name: x\n" + body)
    with pytest.raises(InfraError) as info:
        resolve(root)
    assert says in str(info.value)
