"""A cloned infra directory is untrusted: sync never writes, reads or prints outside it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from anklume.cli.main import main
from anklume.engine.managed import merge, render_block
from tests.unit.conftest import MINIMAL, WriteInfra

SECRET = b"export SECRET=do-not-print\n"


@pytest.fixture
def outside(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A file outside the infra directory standing for ~/.bashrc."""
    path = tmp_path_factory.mktemp("home") / ".bashrc"
    path.write_bytes(SECRET)
    return path


def _sync(root: Path, *args: str) -> int:
    return main(["-C", str(root), "sync", *args])


@pytest.mark.parametrize("args", [(), ("--dry-run",), ("--check",)])
def test_a_link_at_a_generated_path_is_refused_never_written_nor_printed(
    write_infra: WriteInfra, outside: Path, capsys: pytest.CaptureFixture[str], args: tuple[str, ...]
) -> None:
    root = write_infra(MINIMAL)
    (root / "host_vars").mkdir()
    (root / "host_vars" / "pro-a.yml").symlink_to(outside)
    assert _sync(root, *args) == 2
    captured = capsys.readouterr()
    assert "host_vars/pro-a.yml: is a symbolic link" in captured.err
    assert "SECRET" not in captured.out + captured.err
    assert outside.read_bytes() == SECRET
    assert "Traceback" not in captured.err


@pytest.mark.parametrize("directory", ["group_vars", "inventory", "host_vars"])
def test_a_linked_generated_directory_is_refused(
    write_infra: WriteInfra,
    tmp_path_factory: pytest.TempPathFactory,
    capsys: pytest.CaptureFixture[str],
    directory: str,
) -> None:
    root = write_infra(MINIMAL)
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    (root / directory).symlink_to(elsewhere, target_is_directory=True)
    assert _sync(root) == 2
    assert f"{directory}: is a symbolic link" in capsys.readouterr().err
    assert list(elsewhere.iterdir()) == []


@pytest.mark.parametrize("layout", ["infra.yml", "infra/base.yml", "infra/domains/pro.yml", "infra/policies.yml"])
def test_a_linked_source_file_is_refused_and_not_printed(
    tmp_path: Path, outside: Path, capsys: pytest.CaptureFixture[str], layout: str
) -> None:
    root = tmp_path / "infra-dir"
    root.mkdir()
    if layout != "infra.yml":
        (root / "infra" / "domains").mkdir(parents=True)
        (root / "infra" / "base.yml").write_text("project_name: x\nglobal: {addressing: {}}\n")
        (root / "infra" / "domains" / "a.yml").write_text("a: {trust_level: trusted}\n")
        (root / layout).unlink(missing_ok=True)
    outside.write_text("project_name: stolen\nSECRET: 1\n")
    (root / layout).symlink_to(outside)
    assert _sync(root, "--dry-run") == 2
    captured = capsys.readouterr()
    assert f"{layout}: is a symbolic link" in captured.err
    assert "SECRET" not in captured.out + captured.err
    assert "stolen" not in captured.out + captured.err


def test_a_linked_infra_directory_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    real = tmp_path / "real"
    (real / "domains").mkdir(parents=True)
    (real / "base.yml").write_text("project_name: x\nglobal: {}\n")
    root = tmp_path / "root"
    root.mkdir()
    (root / "infra").symlink_to(real, target_is_directory=True)
    assert _sync(root) == 2
    assert "infra: is a symbolic link" in capsys.readouterr().err


def test_clean_orphans_never_follows_nor_reports_a_link(write_infra: WriteInfra, outside: Path) -> None:
    root = write_infra(MINIMAL)
    assert _sync(root) == 0
    outside.write_text(merge(None, render_block("instance_ephemeral: true\n")))
    before = outside.read_bytes()
    link = root / "host_vars" / "gone.yml"
    link.symlink_to(outside)
    assert _sync(root, "--check") == 0  # a link is not an orphan: it is not anklume's
    assert _sync(root, "--clean-orphans") == 0
    assert link.is_symlink()
    assert outside.read_bytes() == before


@pytest.mark.parametrize("kind", ["dangling", "loop"])
def test_a_dangling_or_looping_link_under_inventory_is_a_clear_error(
    write_infra: WriteInfra, capsys: pytest.CaptureFixture[str], kind: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    root = write_infra(MINIMAL)
    (root / "inventory").mkdir()
    link = root / "inventory" / "pro.yml"
    gone = tmp_path_factory.mktemp("gone") / "created-by-sync.yml"
    link.symlink_to(gone if kind == "dangling" else link)
    assert _sync(root) == 2
    err = capsys.readouterr().err
    assert "inventory/pro.yml: is a symbolic link" in err
    assert "Traceback" not in err
    assert not gone.exists()
    assert os.path.islink(link)


def test_a_generated_directory_that_is_a_file_is_a_clear_error(
    write_infra: WriteInfra, capsys: pytest.CaptureFixture[str]
) -> None:
    root = write_infra(MINIMAL)
    (root / "host_vars").write_text("not a directory\n")
    assert _sync(root) == 2
    err = capsys.readouterr().err
    assert "host_vars: is not a directory" in err
    assert "Traceback" not in err


def test_a_hard_link_at_a_generated_path_is_refused_and_not_printed(
    write_infra: WriteInfra, outside: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = write_infra(MINIMAL)
    (root / "host_vars").mkdir()
    try:
        os.link(outside, root / "host_vars" / "pro-a.yml")
    except OSError as exc:  # another filesystem: a hard link cannot be made there
        pytest.skip(f"cannot hard-link across {outside.parent} and {root}: {exc.strerror}")
    assert _sync(root, "--dry-run") == 2
    captured = capsys.readouterr()
    assert "host_vars/pro-a.yml: has other hard links" in captured.err
    assert "SECRET" not in captured.out + captured.err
    assert outside.read_bytes() == SECRET
