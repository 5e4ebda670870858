"""Stage 3: addresses, derived machines and devices, limits, policies."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from anklume.engine.enrich import enrich
from anklume.engine.host import HostFacts
from anklume.engine.load import load
from anklume.engine.resolved import Resolved
from anklume.engine.validate import validate
from anklume.errors import InfraError
from tests.unit.conftest import MINIMAL


def run(tmp_path: Path, text: str, host: HostFacts | None = None) -> Resolved:
    (tmp_path / "infra.yml").write_text(textwrap.dedent(text))
    doc = load(tmp_path)
    return enrich(validate(doc), host or HostFacts(), doc.source)


def test_zone_addressing_matches_the_documented_example(tmp_path: Path) -> None:
    res = run(tmp_path, MINIMAL)
    assert res.domains["perso"].subnet == "10.110.0.0/24"
    pro = res.domains["pro"]
    assert (pro.subnet, pro.gateway, pro.subnet_id) == ("10.110.1.0/24", "10.110.1.254", 1)
    assert res.domains["perso"].machines["perso-a"].ip == "10.110.0.1"
    # pro-b holds .1 explicitly, so pro-a (declared first) takes the next free number
    assert [m.ip for m in pro.machines.values()] == ["10.110.1.2", "10.110.1.1"]


def test_zone_step_is_honoured(tmp_path: Path) -> None:
    res = run(
        tmp_path,
        """\
        project_name: x
        global: {addressing: {zone_base: 20, zone_step: 3}}
        domains:
          a: {trust_level: admin}
          u: {trust_level: untrusted}
          d: {trust_level: disposable}
          s: {}
        """,
    )
    assert {n: d.subnet for n, d in res.domains.items()} == {
        "a": "10.20.0.0/24",
        "u": "10.32.0.0/24",
        "d": "10.35.0.0/24",
        "s": "10.26.0.0/24",
    }


def test_legacy_addressing_uses_base_subnet_and_gives_no_auto_ip(tmp_path: Path) -> None:
    res = run(
        tmp_path,
        """\
        project_name: x
        global: {base_subnet: "10.100"}
        domains:
          pro:
            subnet_id: 7
            machines: {a: {ip: 10.100.7.5}, b: {}}
        """,
    )
    pro = res.domains["pro"]
    assert pro.subnet == "10.100.7.0/24"
    assert pro.machines["a"].ip == "10.100.7.5"
    assert pro.machines["b"].ip is None
    assert res.addressing is None
    assert res.base_subnet == "10.100"


def test_more_than_99_automatic_addresses_is_an_error(tmp_path: Path) -> None:
    machines = "\n".join(f"      m{i}: {{}}" for i in range(100))
    text = f"project_name: x\nglobal: {{addressing: {{}}}}\ndomains:\n  big:\n    machines:\n{machines}\n"
    with pytest.raises(InfraError, match="more than 99 machines"):
        run(tmp_path, text)


def test_host_subnet_conflict_is_an_error_unless_on_own_bridge(tmp_path: Path) -> None:
    host = HostFacts(addresses=[("eth0", "10.110.1.20/24")], check_subnets=True)
    with pytest.raises(InfraError) as info:
        run(tmp_path, MINIMAL, host)
    assert "overlaps 10.110.1.20/24 on host interface eth0" in str(info.value)
    assert "domains.pro" in str(info.value)
    own = HostFacts(addresses=[("net-pro", "10.110.1.254/24")], check_subnets=True)
    assert run(tmp_path, MINIMAL, own).domains["pro"].network_name == "net-pro"


def test_nesting_prefix_applies_to_incus_names_only(tmp_path: Path) -> None:
    res = run(tmp_path, MINIMAL, HostFacts(absolute_level=1))
    pro = res.domains["pro"]
    assert (pro.incus_project, pro.network_name) == ("001-pro", "001-net-pro")
    assert pro.machines["pro-a"].instance_name == "001-pro-a"
    assert pro.machines["pro-a"].name == "pro-a"
    off = run(
        tmp_path,
        MINIMAL.replace("addressing:", "nesting_prefix: false\n  addressing:"),
        HostFacts(absolute_level=1),
    )
    assert off.domains["pro"].incus_project == "pro"


def test_firewall_vm_is_added_with_its_defaults(tmp_path: Path) -> None:
    res = run(
        tmp_path,
        """\
        project_name: x
        global: {addressing: {}, firewall_mode: vm}
        domains:
          anklume: {trust_level: admin}
          pro: {}
        """,
    )
    fw = res.domains["anklume"].machines["anklume-firewall"]
    assert (fw.type, fw.ip, fw.ephemeral) == ("vm", "10.100.0.253", False)
    assert fw.config == {"limits.cpu": "2", "limits.memory": "2GiB"}
    assert fw.roles == ["base_system", "firewall_router"]


def test_a_declared_firewall_wins(tmp_path: Path) -> None:
    res = run(
        tmp_path,
        """\
        project_name: x
        global: {addressing: {}, firewall_mode: vm}
        domains:
          anklume:
            trust_level: admin
            machines: {anklume-firewall: {type: lxc, ip: 10.100.0.253}}
        """,
    )
    assert res.domains["anklume"].machines["anklume-firewall"].type == "lxc"


def test_shared_volumes_and_persistent_data_become_disk_devices(tmp_path: Path) -> None:
    res = run(
        tmp_path,
        """\
        project_name: x
        global: {addressing: {}}
        domains:
          pro:
            machines:
              a: {}
              b:
                persistent_data: {db: {path: /var/lib/db, readonly: true}}
                devices: {sv-docs-x: {type: none}}
        shared_volumes:
          docs:
            consumers: {pro: ro, b: rw}
        """.replace("sv-docs-x", "extra"),
    )
    a = res.domains["pro"].machines["a"].devices
    b = res.domains["pro"].machines["b"].devices
    assert a == {
        "sv-docs": {
            "type": "disk",
            "source": "/srv/anklume/shares/docs",
            "path": "/shared/docs",
            "shift": "true",
            "readonly": "true",
        }
    }
    assert b is not None
    assert "readonly" not in b["sv-docs"]  # the machine entry overrides its domain's
    assert b["pd-db"] == {
        "type": "disk",
        "source": "/srv/anklume/data/pro/b/db",
        "path": "/var/lib/db",
        "shift": "true",
        "readonly": "true",
    }
    assert b["extra"] == {"type": "none"}


def test_config_values_become_the_strings_incus_stores(tmp_path: Path) -> None:
    res = run(
        tmp_path,
        """\
        project_name: x
        global: {addressing: {}}
        domains:
          pro:
            machines:
              a: {config: {boot.autostart: true, limits.cpu: 2}}
        """,
    )
    assert res.domains["pro"].machines["a"].config == {"boot.autostart": "true", "limits.cpu": "2"}


def test_resource_policy_shares_by_weight(tmp_path: Path) -> None:
    text = """\
        project_name: x
        global:
          addressing: {}
          resource_policy: {cpu_mode: count, host_reserve: {cpu: 2, memory: 4GiB}}
        domains:
          pro:
            machines:
              a: {weight: 3}
              b: {}
              c: {config: {limits.cpu: "1", limits.memory: 1GiB}}
        """
    res = run(tmp_path, text, HostFacts(cpus=10, memory_bytes=20 * 1024**3))
    m = res.domains["pro"].machines
    assert m["a"].config is not None
    assert m["b"].config is not None
    assert (m["a"].config["limits.cpu"], m["b"].config["limits.cpu"]) == ("5", "1")
    assert m["a"].config["limits.memory"] == "11520MiB"
    assert m["c"].config == {"limits.cpu": "1", "limits.memory": "1GiB", "limits.memory.enforce": "soft"}


def test_resource_overcommit_is_an_error(tmp_path: Path) -> None:
    text = """\
        project_name: x
        global: {addressing: {}, resource_policy: true}
        domains:
          pro:
            machines:
              a: {config: {limits.cpu: "64"}}
        """
    with pytest.raises(InfraError, match="resources overcommitted"):
        run(tmp_path, text, HostFacts(cpus=4, memory_bytes=8 * 1024**3))


def test_exclusive_ai_access_adds_one_policy(tmp_path: Path) -> None:
    res = run(
        tmp_path,
        """\
        project_name: x
        global: {addressing: {}, ai_access_policy: exclusive, ai_access_default: pro}
        domains:
          pro: {}
          ai-tools: {}
        """,
    )
    (policy,) = res.policies
    assert (policy.source, policy.target, policy.ports, policy.bidirectional) == (
        "pro",
        "ai-tools",
        "all",
        True,
    )
    assert res.raw_policies is not None
    assert res.raw_policies[0]["to"] == "ai-tools"


def test_privileged_container_allowed_under_a_vm_or_yolo(tmp_path: Path) -> None:
    text = """\
        project_name: x
        global: {addressing: {}}
        domains:
          pro:
            machines:
              a: {config: {security.privileged: "true"}}
        """
    assert run(tmp_path, text, HostFacts(vm_nested=True)).domains["pro"].machines["a"].config
    res = run(tmp_path, text, HostFacts(yolo=True))
    assert any("--yolo" in w for w in res.warnings)


def test_disabled_domains_keep_their_addresses(tmp_path: Path) -> None:
    text = MINIMAL.replace("    subnet_id: 0\n", "    subnet_id: 0\n    enabled: false\n")
    res = run(tmp_path, text)
    assert res.domains["perso"].enabled is False
    assert res.domains["pro"].subnet == "10.110.1.0/24"
