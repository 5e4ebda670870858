"""anklume.image.rootfs: the steps that touch the rootfs (host commands stubbed)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from anklume.image import rootfs
from anklume.image.command import ImageBuildFailed
from anklume.image.spec import NETWORK_UNIT


@pytest.fixture
def commands(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    ran: list[list[str]] = []

    def fake(step: str, argv: Sequence[str], *, timeout: float | None = 1800) -> str:
        del step, timeout
        ran.append(list(argv))
        return ""

    monkeypatch.setattr(rootfs, "command", fake)
    return ran


def _fake_root(root: Path) -> Path:
    for sub in ("etc", "usr/sbin", "var/lib/dbus", "var/lib/apt/lists/partial", "var/cache/apt/archives"):
        (root / sub).mkdir(parents=True)
    (root / "etc/machine-id").write_text("0123456789abcdef\n", encoding="utf-8")
    (root / "var/lib/dbus/machine-id").write_text("0123456789abcdef\n", encoding="utf-8")
    (root / "etc/resolv.conf").write_text("nameserver 192.0.2.1\n", encoding="utf-8")
    (root / "etc/hostname").write_text("buildhost\n", encoding="utf-8")
    return root


def test_configure_enables_dhcp_and_resets_identity(tmp_path: Path, commands: list[list[str]]) -> None:
    root = _fake_root(tmp_path / "rootfs")
    rootfs.configure(root)
    assert (root / "etc/systemd/network/eth0.network").read_text(encoding="utf-8") == NETWORK_UNIT
    assert ["chroot", str(root), "systemctl", "enable", "systemd-networkd"] in commands
    assert (root / "etc/machine-id").read_text(encoding="utf-8") == ""
    assert not (root / "var/lib/dbus/machine-id").exists()
    assert (root / "etc/resolv.conf").read_text(encoding="utf-8") == ""
    assert "buildhost" not in (root / "etc/hostname").read_text(encoding="utf-8")


def test_clean_removes_lists_logs_and_tmp(tmp_path: Path, commands: list[list[str]]) -> None:
    root = _fake_root(tmp_path / "rootfs")
    lists = root / "var/lib/apt/lists"
    (lists / "deb.debian.org_dists_bookworm_InRelease").write_text("x", encoding="utf-8")
    (lists / "lock").write_text("", encoding="utf-8")
    (root / "var/cache/apt/pkgcache.bin").write_text("x", encoding="utf-8")
    (root / "tmp/junk").mkdir(parents=True)
    rootfs.clean(root)
    assert ["chroot", str(root), "apt-get", "clean"] in commands
    assert sorted(p.name for p in lists.iterdir()) == ["lock", "partial"]
    assert not (root / "var/cache/apt/pkgcache.bin").exists()
    assert list((root / "tmp").iterdir()) == []


def test_install_exchanges_debs_with_cache(tmp_path: Path, commands: list[list[str]]) -> None:
    root = _fake_root(tmp_path / "rootfs")
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "old_1.0_amd64.deb").write_text("old", encoding="utf-8")
    archives = root / "var/cache/apt/archives"
    (archives / "new_2.0_amd64.deb").write_text("new", encoding="utf-8")
    rootfs.install_packages(root, cache)
    assert (archives / "old_1.0_amd64.deb").exists()
    assert (cache / "new_2.0_amd64.deb").exists()
    assert commands[-1] == rootfs.install_argv(root)
    assert not (root / "usr/sbin/policy-rc.d").exists()


def test_install_failure_removes_policy_rc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _fake_root(tmp_path / "rootfs")

    def failing(step: str, argv: Sequence[str], *, timeout: float | None = 1800) -> str:
        raise ImageBuildFailed(step, argv, 100, "E: Unable to locate package")

    monkeypatch.setattr(rootfs, "command", failing)
    with pytest.raises(ImageBuildFailed, match="Unable to locate package"):
        rootfs.install_packages(root, None)
    assert not (root / "usr/sbin/policy-rc.d").exists()


def test_install_argv_has_no_recommends() -> None:
    argv = rootfs.install_argv(Path("/r"))
    assert "--no-install-recommends" in argv
    assert argv.index("--no-install-recommends") < argv.index("systemd-sysv")
