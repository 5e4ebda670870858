"""``anklume domain apply`` and ``check`` end to end against a stand-in framework.

A small ``site.yml`` (connection local, no Incus) records what each run saw:
the extra variables, the generated group_vars/host_vars, the roles path. The
real ansible-playbook, callbacks, lock and freshness check are exercised.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from anklume.cli.main import main

REPO = Path(__file__).resolve().parents[2]

INFRA = """\
project_name: clitest
global:
  addressing: {base_octet: 10, zone_base: 200, zone_step: 10}
  default_os_image: anklume/debian-12
domains:
  ua:
    trust_level: admin
    nat: false
    machines:
      ua-one: {}
      ua-two: {ip: 10.200.0.20}
"""

SITE = """\
---
- name: Record
  hosts: all
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
    out: "{{ lookup('ansible.builtin.env', 'TEST_OUT') }}"
  tasks:
    - name: Record | Provision
      ansible.builtin.copy:
        dest: "{{ out }}/{{ inventory_hostname }}.provisioned"
        content: "yes"
        mode: "0644"
      tags: [provision]
    - name: Record | Fail on request
      ansible.builtin.fail:
        msg: asked to fail
      when: lookup('ansible.builtin.env', 'TEST_FAIL') == '1'
    - name: Record | Write what the run saw
      ansible.builtin.copy:
        dest: "{{ out }}/{{ inventory_hostname }}.json"
        content: "{{ seen | to_json }}"
        mode: "0644"
      vars:
        seen:
          project: "{{ incus_project }}"
          project_name: "{{ project_name }}"
          ip: "{{ instance_ip }}"
          domains: "{{ anklume_domains }}"
          prune: "{{ anklume_prune }}"
          adopt: "{{ anklume_adopt }}"
          plan_only: "{{ anklume_plan_only }}"
          roles_path: "{{ lookup('ansible.builtin.env', 'ANSIBLE_ROLES_PATH') }}"
          yolo: "{{ lookup('ansible.builtin.env', 'ANKLUME_YOLO') }}"
      when: not anklume_plan_only
    - name: Record | Write the plan
      ansible.builtin.copy:
        dest: "{{ anklume_plan_file }}"
        content: "{{ lookup('ansible.builtin.env', 'TEST_PLAN') }}"
        mode: "0644"
      run_once: true
      when: anklume_plan_file is defined and lookup('ansible.builtin.env', 'TEST_PLAN') | length > 0
"""


@pytest.fixture
def framework(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    fw = tmp_path / "fw"
    (fw / "roles").mkdir(parents=True)
    (fw / "site.yml").write_text(SITE, encoding="utf-8")
    (fw / "callback_plugins").symlink_to(REPO / "callback_plugins")
    # the framework checkout may hold its own (demo) infra: it must never leak into another infra
    (fw / "group_vars").mkdir()
    (fw / "group_vars" / "all.yml").write_text("project_name: framework-demo\n", encoding="utf-8")
    monkeypatch.setenv("ANKLUME_HOME", str(fw))
    monkeypatch.setenv("ANKLUME_LOCK_FILE", str(tmp_path / "apply.lock"))
    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.setenv("TEST_OUT", str(out))
    return out


@pytest.fixture
def infra(tmp_path: Path) -> Path:
    directory = tmp_path / "infra"
    directory.mkdir()
    (directory / "infra.yml").write_text(INFRA, encoding="utf-8")
    assert main(["-C", str(directory), "sync"]) == 0
    return directory


def _seen(out: Path, host: str) -> dict[str, object]:
    data = json.loads((out / f"{host}.json").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_apply_reads_generated_vars_and_reports_changes(
    framework: Path, infra: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    assert main(["-C", str(infra), "domain", "apply", "ua", "--prune", "--no-provision"]) == 0
    seen = _seen(framework, "ua-two")
    assert seen["project"] == "ua"
    assert seen["project_name"] == "clitest"  # not the framework's own group_vars
    assert seen["ip"] == "10.200.0.20"
    assert seen["domains"] == ["ua"]
    assert seen["prune"] is True
    assert seen["adopt"] is False
    assert str(seen["roles_path"]).startswith(str(infra / "roles_custom"))
    assert not list(framework.glob("*.provisioned"))
    first = capfd.readouterr()
    assert "2 changes" in first.err
    assert main(["-C", str(infra), "domain", "apply", "ua", "--prune", "--no-provision"]) == 0
    again = capfd.readouterr()
    assert "0 changes" in again.err
    assert "Nothing changed." in again.out


def test_adopt_reaches_ansible(framework: Path, infra: Path) -> None:
    assert main(["-C", str(infra), "domain", "apply", "--adopt", "--no-provision"]) == 0
    assert _seen(framework, "ua-one")["adopt"] is True


def test_limit_and_tags_reach_ansible(framework: Path, infra: Path) -> None:
    assert main(["-C", str(infra), "domain", "apply", "--limit", "ua-one", "--tags", "provision"]) == 0
    assert sorted(p.name for p in framework.iterdir()) == ["ua-one.provisioned"]


def test_apply_refuses_stale_generated_files(framework: Path, infra: Path) -> None:
    text = (infra / "infra.yml").read_text(encoding="utf-8")
    (infra / "infra.yml").write_text(text.replace("ip: 10.200.0.20", "ip: 10.200.0.21"), encoding="utf-8")
    assert main(["-C", str(infra), "domain", "apply"]) == 2
    assert not list(framework.iterdir())


def test_apply_fails_with_exit_1_and_names_the_failure(
    framework: Path, infra: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TEST_FAIL", "1")
    assert main(["-C", str(infra), "domain", "apply"]) == 1
    captured = capfd.readouterr()
    assert "asked to fail" in captured.out
    assert "apply failed" in captured.err


def test_concurrent_apply_is_refused(framework: Path, infra: Path, capfd: pytest.CaptureFixture[str]) -> None:
    from anklume.apply.lock import apply_lock

    with apply_lock(Path(os.environ["ANKLUME_LOCK_FILE"]), ["anklume", "domain", "apply"]):
        assert main(["-C", str(infra), "domain", "apply"]) == 1
    assert "another anklume apply is running" in capfd.readouterr().err
    assert not list(framework.iterdir())


def test_unknown_domain_is_a_usage_error(framework: Path, infra: Path) -> None:
    assert main(["-C", str(infra), "domain", "apply", "nope"]) == 2
    assert main(["-C", str(infra), "domain", "apply", "--no-provision", "--force-provision"]) == 2


def test_check_prints_the_plan_and_exits_3(
    framework: Path, infra: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    plan = {
        "actions": [
            {
                "action": "update",
                "resource": "instance",
                "name": "ua-one",
                "project": "ua",
                "changes": {"limits.cpu": ["1", "2"]},
            }
        ]
    }
    monkeypatch.setenv("TEST_PLAN", json.dumps(plan))
    assert main(["-C", str(infra), "domain", "check"]) == 3
    out = capfd.readouterr().out
    assert "ua-one" in out
    assert "limits.cpu: 1 → 2" in out
    monkeypatch.setenv("TEST_PLAN", json.dumps({"actions": []}))
    assert main(["-C", str(infra), "domain", "check"]) == 0
    assert not list(framework.iterdir())


def test_apply_reports_what_its_plan_leaves_alone(
    framework: Path, infra: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    plan = {
        "actions": [
            {
                "action": "needs-recreate",
                "resource": "instance",
                "name": "ua-one",
                "project": "ua",
                "changes": {"image": ["anklume/debian-12", "anklume/debian-13"]},
            },
            {
                "action": "orphan",
                "resource": "instance",
                "name": "ua-old",
                "project": "ua",
                "reason": "no longer declared; delete with prune",
            },
        ]
    }
    monkeypatch.setenv("TEST_PLAN", json.dumps(plan))
    assert main(["-C", str(infra), "domain", "apply", "--no-provision"]) == 0
    err = capfd.readouterr().err
    assert "needs-recreate: instance ua/ua-one (image: anklume/debian-12 → anklume/debian-13)" in err
    assert "--recreate" in err
    assert "orphan: instance ua/ua-old (no longer declared; delete with prune)" in err
    assert "--prune" in err


def test_yolo_lets_an_escape_through_apply_and_reaches_the_playbook(
    framework: Path, infra: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ANKLUME_YOLO", "")  # recorded, so the undo removes what --yolo exports
    monkeypatch.delenv("ANKLUME_YOLO")
    text = (infra / "infra.yml").read_text(encoding="utf-8")
    text = text.replace("ua-one: {}", "ua-one: {config: {raw.lxc: 'lxc.apparmor.profile=unconfined'}}")
    (infra / "infra.yml").write_text(text, encoding="utf-8")
    assert main(["-C", str(infra), "sync"]) == 2
    assert main(["-C", str(infra), "sync", "--yolo"]) == 0
    monkeypatch.delenv("ANKLUME_YOLO")  # what sync --yolo exported: each command is its own process
    capfd.readouterr()
    assert main(["-C", str(infra), "domain", "apply", "--no-provision"]) == 2
    assert "infra.yml:10: domains.ua.machines.ua-one.config.raw.lxc" in capfd.readouterr().err
    assert not list(framework.iterdir())
    assert main(["-C", str(infra), "domain", "apply", "--no-provision", "--yolo"]) == 0
    assert "allowed by --yolo" in capfd.readouterr().err
    # the playbook, and the 'anklume network deploy' its nftables role runs, inherit it
    assert _seen(framework, "ua-one")["yolo"] == "1"
