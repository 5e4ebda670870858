"""Two infras on one host, the migration from the shared table, and the boot path exactly as it runs."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from anklume.network import hook
from tests.e2e.nc_infra import (  # noqa: F401 -- fixtures, by import
    BLOCKED,
    NCA_1,
    NCB_1,
    NCZ_1,
    OUTSIDE,
    PROJECT,
    PROJECT2,
    TABLE,
    TABLE2,
    Infra,
    first_layer_only,
    listen,
    nc2_fixture,
    nc_etc_fixture,
    nc_fixture,
    nft_table,
    probe,
)

pytestmark = pytest.mark.incus

NFT = shutil.which("nft") or "/usr/sbin/nft"


def test_a_second_infra_applies_with_no_configuration(nc: Infra, nc2: Infra) -> None:
    assert TABLE != TABLE2
    assert f'comment "anklume infra {PROJECT}"' in (nft_table(TABLE) or "")
    assert f'comment "anklume infra {PROJECT2}"' in (nft_table(TABLE2) or "")
    assert nc.anklume("network", "status").returncode == 0
    assert nc2.anklume("network", "status").returncode == 0
    servers = [listen("nca", "nca-1", 8082), listen("ncz", "ncz-1", 8082)]
    try:
        with first_layer_only():  # the nftables tables alone
            assert probe("ncz", "ncz-1", NCA_1, 8082) == "timeout"
            assert probe("nca", "nca-1", NCZ_1, 8082) == "timeout"
    finally:
        for server in servers:
            server.kill()
            server.wait()


def _legacy(comment: str) -> None:
    text = (
        "table inet anklume {}\ndelete table inet anklume\ntable inet anklume {\n"
        f"{comment}\n chain forward {{\n  type filter hook forward priority -5; policy accept;\n }}\n}}\n"
    )
    subprocess.run([NFT, "-f", "-"], input=text, text=True, check=True)


@pytest.mark.parametrize("comment", [f'comment "anklume infra {PROJECT}"', ""], ids=["owned", "no_owner"])
def test_the_shared_table_of_an_earlier_version_is_migrated(nc: Infra, comment: str) -> None:
    if nft_table("anklume") is not None:
        pytest.skip("this host already has a table inet anklume this test did not create: left alone")
    legacy_file = nc.etc / "nftables.nft"
    legacy_file.write_text("table inet anklume {}\n", encoding="utf-8")
    _legacy(comment)
    try:
        done = nc.deploy()
        assert f"table inet anklume of an earlier version replaced by inet {TABLE}" in done.stderr
        assert nft_table("anklume") is None
        assert nft_table(TABLE) is not None
        assert not legacy_file.exists()
        assert nc.anklume("network", "status").returncode == 0
    finally:
        subprocess.run([NFT, "delete", "table", "inet", "anklume"], capture_output=True, check=False)
        legacy_file.unlink(missing_ok=True)


def test_the_shared_table_of_another_infra_is_left_alone(nc: Infra) -> None:
    if nft_table("anklume") is not None:
        pytest.skip("this host already has a table inet anklume this test did not create: left alone")
    _legacy('comment "anklume infra someone-else"')
    try:
        nc.deploy()
        assert 'comment "anklume infra someone-else"' in (nft_table("anklume") or "")
    finally:
        subprocess.run([NFT, "delete", "table", "inet", "anklume"], capture_output=True, check=False)


def _isolated() -> None:
    """The probes that prove both infras' tables are loaded (the second layer lifted: the tables alone)."""
    servers = [listen("nca", "nca-1", 8080), listen("ncb", "ncb-1", 8080)]
    try:
        with first_layer_only():
            assert probe("default", OUTSIDE, NCA_1, 8080) == "timeout"
            assert probe("ncz", "ncz-1", NCB_1, 8080) == "timeout"
            assert probe("nca", "nca-1", NCB_1, 8080) == "open"  # the policy still holds
    finally:
        for server in servers:
            server.kill()
            server.wait()


def test_the_boot_command_restores_every_table(nc: Infra, nc2: Infra) -> None:
    files = sorted(p.name for p in (nc.etc / "nftables.d").iterdir())
    assert files == sorted([f"{TABLE}.nft", f"{TABLE2}.nft"])
    for table in (TABLE, TABLE2):  # as after a reboot
        subprocess.run([NFT, "delete", "table", "inet", table], check=True)
    with first_layer_only():  # without the tables (and the second layer), the outside gets in
        assert probe("default", OUTSIDE, NCA_1, 22) not in BLOCKED
    argv = hook.restore_argv()  # exactly what the boot sequence runs without systemd
    done = subprocess.run(argv, env=nc.env(), capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert nc.anklume("network", "status").returncode == 0
    assert nc2.anklume("network", "status").returncode == 0
    _isolated()


def test_each_boot_unit_restores_its_own_table(nc: Infra, nc2: Infra) -> None:
    for table in (TABLE, TABLE2):
        rules = nc.etc / "nftables.d" / f"{table}.nft"
        unit = hook.unit_text(table, NFT, rules)
        exec_start = next(line for line in unit.splitlines() if line.startswith("ExecStart="))
        argv = exec_start.removeprefix("ExecStart=").split()
        subprocess.run([NFT, "delete", "table", "inet", table], check=True)
        subprocess.run(argv, check=True)  # exactly what the unit runs
    assert nc.anklume("network", "status").returncode == 0
    assert nc2.anklume("network", "status").returncode == 0
    _isolated()


def test_a_missing_rules_file_fails_loudly(nc: Infra, nc2: Infra, tmp_path: Path) -> None:
    rules = nc.etc / "nftables.d" / f"{TABLE2}.nft"
    kept = tmp_path / "kept.nft"
    shutil.move(rules, kept)
    try:
        argv = hook.unit_text(TABLE2, NFT, rules).split("ExecStart=", 1)[1].splitlines()[0].split()
        assert subprocess.run(argv, capture_output=True, check=False).returncode != 0
        broken = nc.etc / "nftables.d" / "anklume_broken.nft"
        broken.write_text("table inet anklume_broken { nonsense }\n", encoding="utf-8")
        try:
            subprocess.run([NFT, "delete", "table", "inet", TABLE], check=True)
            done = subprocess.run(hook.restore_argv(), env=nc.env(), capture_output=True, text=True, check=False)
            assert done.returncode == 1
            assert "table inet anklume_broken NOT restored" in done.stderr
            assert nft_table(TABLE) is not None  # the other files were still loaded
        finally:
            broken.unlink()
    finally:
        shutil.move(kept, rules)
        nc2.deploy()
    assert nc2.anklume("network", "status").returncode == 0
