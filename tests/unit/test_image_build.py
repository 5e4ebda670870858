"""anklume.image.build/.store and ``anklume image build``: orchestration, import, CLI."""

from __future__ import annotations

import json
import subprocess
import tarfile
from pathlib import Path
from typing import Any, NamedTuple

import pytest
import yaml

from anklume import incus
from anklume.cli.main import main
from anklume.errors import IncusCommandFailed, UsageError
from anklume.image import builder as build_mod
from anklume.image import rootfs, store
from anklume.image.spec import ImageSpec

SPEC = ImageSpec.make("bookworm", None, "http://deb.debian.org/debian")


class FakeIncus:
    """Stands in for anklume.incus.run/query: records argv, answers canned JSON."""

    def __init__(self, aliases: list[dict[str, Any]], image: dict[str, Any] | None = None) -> None:
        self.aliases = aliases
        self.image: dict[str, Any] | None = image or {"aliases": []}
        self.fail_put = False
        self.ran: list[list[str]] = []

    def run(self, argv: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        self.ran.append(list(argv))
        if self.fail_put and "PUT" in argv:
            raise IncusCommandFailed(argv, 1, "Error: Image alias not found")
        return subprocess.CompletedProcess(argv, 0, "", "")

    def query(self, argv: list[str], **_: Any) -> Any:
        self.ran.append(list(argv))
        if argv[:3] == ["image", "alias", "list"]:
            return self.aliases
        if self.image is None:
            raise IncusCommandFailed(argv, 1, "Error: Image not found")
        return self.image


@pytest.fixture
def fake_incus(monkeypatch: pytest.MonkeyPatch) -> FakeIncus:
    fake = FakeIncus([])
    monkeypatch.setattr(incus, "run", fake.run)
    monkeypatch.setattr(incus, "query", fake.query)
    return fake


@pytest.fixture
def stub_steps(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[str]:
    """Replace the root-only steps with recorders that write small tarballs."""
    done: list[str] = []
    monkeypatch.setattr(build_mod, "WORK_ROOT", tmp_path)
    monkeypatch.setattr(build_mod, "LOCK", tmp_path / "lock" / "build.lock")
    monkeypatch.setattr(build_mod, "preflight", lambda: done.append("preflight"))
    monkeypatch.setattr(rootfs, "bootstrap", lambda spec, root, cache: done.append("bootstrap"))
    monkeypatch.setattr(rootfs, "install_packages", lambda root, cache: done.append("install"))
    monkeypatch.setattr(rootfs, "configure", lambda root: done.append("configure"))
    monkeypatch.setattr(rootfs, "clean", lambda root: done.append("clean"))

    def pack(step: str, argv: list[str]) -> str:
        done.append(step)
        Path(argv[-2]).write_bytes(b"rootfs")
        return ""

    monkeypatch.setattr(build_mod, "command", pack)
    return done


def _files(tmp_path: Path) -> tuple[Path, Path]:
    meta, root = tmp_path / "meta.tar.gz", tmp_path / "rootfs.tar.gz"
    meta.write_bytes(b"meta")
    root.write_bytes(b"rootfs")
    return meta, root


def test_first_import_sets_alias(tmp_path: Path, fake_incus: FakeIncus) -> None:
    meta, root = _files(tmp_path)
    fp = store.import_image(meta, root, "anklume/debian-12", None)
    assert fp == store.fingerprint(meta, root)
    assert fake_incus.ran == [["image", "import", str(meta), str(root), "--alias", "anklume/debian-12"]]


class Replace(NamedTuple):
    test_id: str
    other_aliases: list[dict[str, str]]
    deletes_previous: bool


REPLACE = [
    Replace("previous image unused is deleted", [], True),
    Replace("previous image with another alias is kept", [{"name": "mine"}], False),
]


@pytest.mark.parametrize("case", REPLACE, ids=[c.test_id for c in REPLACE])
def test_rebuild_switches_alias_in_one_call(tmp_path: Path, fake_incus: FakeIncus, case: Replace) -> None:
    meta, root = _files(tmp_path)
    fake_incus.image = {"aliases": case.other_aliases}
    fp = store.import_image(meta, root, "anklume/debian-12", "oldfp")
    assert fake_incus.ran[0] == ["image", "import", str(meta), str(root)]
    put = fake_incus.ran[1]
    assert put[:5] == ["query", "--wait", "-X", "PUT", "/1.0/images/aliases/anklume%2Fdebian-12"]
    assert json.loads(put[-1])["target"] == fp
    assert (["image", "delete", "oldfp"] in fake_incus.ran) is case.deletes_previous


def test_alias_vanished_meanwhile_is_created(tmp_path: Path, fake_incus: FakeIncus) -> None:
    meta, root = _files(tmp_path)
    fake_incus.fail_put = True
    fp = store.import_image(meta, root, "anklume/debian-12", "oldfp")
    assert ["image", "alias", "create", "anklume/debian-12", fp] in fake_incus.ran


def test_failed_switch_removes_new_image(tmp_path: Path, fake_incus: FakeIncus) -> None:
    meta, root = _files(tmp_path)
    fake_incus.fail_put = True
    fake_incus.aliases = [{"name": "anklume/debian-12", "target": "oldfp"}]
    with pytest.raises(IncusCommandFailed):
        store.import_image(meta, root, "anklume/debian-12", "oldfp")
    assert fake_incus.ran[-1] == ["image", "delete", store.fingerprint(meta, root)]
    assert ["image", "delete", "oldfp"] not in fake_incus.ran


def test_previous_image_already_gone_is_fine(tmp_path: Path, fake_incus: FakeIncus) -> None:
    meta, root = _files(tmp_path)
    fake_incus.image = None
    store.import_image(meta, root, "anklume/debian-12", "oldfp")
    assert ["image", "delete", "oldfp"] not in fake_incus.ran


def test_alias_target_matches_exact_name(fake_incus: FakeIncus) -> None:
    fake_incus.aliases = [
        {"name": "anklume/debian-12x", "target": "a"},
        {"name": "anklume/debian-12", "target": "b"},
    ]
    assert store.alias_target("anklume/debian-12") == "b"
    assert store.alias_target("anklume/debian-13") is None


def test_if_missing_skips_without_building(fake_incus: FakeIncus, stub_steps: list[str]) -> None:
    fake_incus.aliases = [{"name": "anklume/debian-12", "target": "f" * 64}]
    result = build_mod.build(SPEC, if_missing=True)
    assert result.skipped
    assert stub_steps == []


def test_build_runs_steps_in_order_and_cleans_up(fake_incus: FakeIncus, stub_steps: list[str], tmp_path: Path) -> None:
    lines: list[str] = []
    result = build_mod.build(SPEC, progress=lines.append, cache=None)
    assert stub_steps == ["preflight", "bootstrap", "install", "configure", "clean", "pack rootfs"]
    assert [line.split("]")[0][:4] for line in lines] == ["[1/5", "[2/5", "[3/5", "[4/5", "[5/5"]
    assert fake_incus.ran[-1][-2:] == ["--alias", "anklume/debian-12"]
    assert result.replaced is None
    assert list(tmp_path.glob("anklume-image-*")) == []


def test_if_missing_rechecks_after_waiting_for_the_lock(
    fake_incus: FakeIncus, stub_steps: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = iter([None, "f" * 64])
    monkeypatch.setattr(store, "alias_target", lambda alias: next(answers))
    result = build_mod.build(SPEC, if_missing=True)
    assert result.skipped
    assert stub_steps == ["preflight"]


def test_failed_build_still_cleans_up(
    fake_incus: FakeIncus, stub_steps: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(root: Path) -> None:
        msg = "broken"
        raise UsageError(msg)

    monkeypatch.setattr(rootfs, "configure", boom)
    with pytest.raises(UsageError, match="broken"):
        build_mod.build(SPEC, cache=None)
    assert list(tmp_path.glob("anklume-image-*")) == []


def test_pack_meta_holds_metadata_and_templates(tmp_path: Path) -> None:
    dest = tmp_path / "meta.tar.gz"
    build_mod.pack_meta(SPEC, dest, created=1700000000)
    with tarfile.open(dest) as tar:
        names = sorted(tar.getnames())
        raw = tar.extractfile("metadata.yaml")
        assert raw is not None
        meta = yaml.safe_load(raw.read())
    assert names == ["metadata.yaml", "templates/hostname.tpl", "templates/hosts.tpl"]
    assert meta["creation_date"] == 1700000000
    assert meta["properties"]["release"] == "bookworm"
    for entry in meta["templates"].values():
        assert entry["template"] in {"hostname.tpl", "hosts.tpl"}


class Cli(NamedTuple):
    test_id: str
    argv: list[str]
    message: str


CLI = [
    Cli("invalid alias", ["image", "build", "--alias", "--bad"], "invalid image alias"),
    Cli("invalid mirror", ["image", "build", "--mirror", "mirror.lan"], "invalid mirror"),
]


@pytest.mark.parametrize("case", CLI, ids=[c.test_id for c in CLI])
def test_cli_rejects_bad_input_with_exit_2(
    case: Cli, fake_incus: FakeIncus, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(case.argv) == 2
    assert case.message in capsys.readouterr().err
    assert fake_incus.ran == []


def test_cli_unknown_release_is_usage_error(fake_incus: FakeIncus) -> None:
    assert main(["image", "build", "--release", "sid"]) == 2


def test_cli_non_root_is_refused(
    fake_incus: FakeIncus, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("anklume.image.builder.os.geteuid", lambda: 1000)
    assert main(["image", "build"]) == 2
    assert "must run as root" in capsys.readouterr().err
    assert fake_incus.ran == []


def test_cli_if_missing_exits_0(fake_incus: FakeIncus, capsys: pytest.CaptureFixture[str]) -> None:
    fake_incus.aliases = [{"name": "anklume/debian-13", "target": "a" * 64}]
    assert main(["image", "build", "--release", "trixie", "--if-missing"]) == 0
    assert "already exists" in capsys.readouterr().err
