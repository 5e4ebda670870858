"""anklume doctor: each check says what is wrong and how to fix it."""

from __future__ import annotations

import importlib
import typing as t
from pathlib import Path
from typing import Any

import pytest

from anklume import doctor
from anklume.cli.main import main
from anklume.errors import IncusNotFound
from tests.unit.conftest import MINIMAL, WriteInfra

incus_run = importlib.import_module("anklume.incus.run")


def test_missing_incus_fails_with_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    def absent() -> dict[str, Any]:
        binary = "incus"
        raise IncusNotFound(binary)

    monkeypatch.setattr(doctor, "_incus_server", absent)
    (check,) = doctor.check_incus()
    assert (check.name, check.level) == ("incus", "fail")
    assert "make incus" in check.fix


def test_no_qemu_is_a_warning_about_vms(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(doctor, "_incus_server", lambda: {"environment": {"driver": "lxc", "server_version": "6.0"}})
    monkeypatch.setattr(incus_run, "query", lambda argv, **_: [{"name": "default"}])
    checks = {c.name: c for c in doctor.check_incus()}
    assert checks["virtual machines"].level == "warn"
    assert "type: vm" in checks["virtual machines"].fix
    assert checks["storage"].level == "ok"


def test_images_local_remote_and_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(incus_run, "query", lambda argv, **_: [{"aliases": [{"name": "anklume/debian-12"}]}])
    checks = doctor.check_images(["anklume/debian-12", "images:debian/13", "anklume/debian-13"])
    assert [c.level for c in checks] == ["ok", "warn", "fail"]
    assert "anklume image build" in checks[2].fix


def test_invalid_infra_fails(write_infra: WriteInfra) -> None:
    root = write_infra("project_name: x\n")
    (check,) = doctor.check_infra(root)
    assert check.level == "fail"
    assert "anklume sync" in check.fix


def test_stale_generated_files_warn(write_infra: WriteInfra, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(doctor, "check_images", lambda images: [])
    monkeypatch.setattr(doctor, "check_isolation", lambda resolved: [])
    root = write_infra(MINIMAL)
    checks = {c.name: c.level for c in doctor.check_infra(root)}
    assert checks == {"infra": "ok", "generated files": "warn"}


def test_cli_exits_1_when_a_check_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(doctor, "check_incus", lambda: [doctor.Check("incus", "fail", "down", "start it")])
    monkeypatch.setattr(doctor, "check_firewall", lambda: [])
    assert main(["-C", str(tmp_path), "doctor"]) == 1
    monkeypatch.setattr(doctor, "check_incus", lambda: [doctor.Check("incus", "ok", "up")])
    assert main(["-C", str(tmp_path), "doctor"]) == 0


def test_low_inotify_limit_is_a_warning_with_the_fix(tmp_path: Path) -> None:
    limit = tmp_path / "max_user_instances"
    limit.write_text("128\n", encoding="utf-8")
    check = doctor.check_inotify(limit)
    assert (check.name, check.level) == ("inotify", "warn")
    assert "128" in check.detail
    assert "make incus" in check.fix
    limit.write_text("1024\n", encoding="utf-8")
    assert doctor.check_inotify(limit).level == "ok"


class Isolation(t.NamedTuple):
    test_id: str
    bridges: list[str]
    table: bool
    missing: int
    levels: dict[str, str]


ISOLATION = [
    Isolation("not_applied_yet", [], False, 5, {"isolation": "ok"}),
    Isolation("both_layers", ["net-pro"], True, 0, {"host table": "ok", "second layer": "ok"}),
    Isolation("table_flushed", ["net-pro"], False, 0, {"host table": "fail", "second layer": "ok"}),
    Isolation("rules_lost", ["net-pro"], True, 2, {"host table": "ok", "second layer": "fail"}),
]


@pytest.mark.parametrize("case", ISOLATION, ids=[c.test_id for c in ISOLATION])
def test_isolation_layers_of_live_domains(
    case: Isolation, write_infra: WriteInfra, monkeypatch: pytest.MonkeyPatch
) -> None:
    from anklume.engine.pipeline import resolve
    from anklume.network import layer_live, nft

    res = resolve(write_infra(MINIMAL), check_roles=False)
    bridges = [{"name": b} for b in case.bridges] if case.bridges else [{"name": "incusbr0"}]
    monkeypatch.setattr(incus_run, "query", lambda argv, **_: bridges)
    monkeypatch.setattr(nft, "list_table", lambda name: "table inet x {}\n" if case.table else None)
    monkeypatch.setattr(layer_live, "missing", lambda resolved, fenced: ["rule"] * case.missing)
    monkeypatch.setattr(layer_live, "fenced", lambda resolved: [])
    checks = {c.name: c for c in doctor.check_isolation(res)}
    assert {k: c.level for k, c in checks.items()} == case.levels
    for check in checks.values():
        if check.level == "fail":
            assert "network deploy" in check.fix
    if not case.table and case.bridges:
        assert "absent while 1 domain bridge(s) exist" in checks["host table"].detail
