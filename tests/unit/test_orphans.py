"""Orphans: generated files nothing declares anymore, protected or not."""

from __future__ import annotations

import typing as t
from pathlib import Path

import pytest

from anklume.engine.managed import CLOSE, OPEN, merge, render_block
from anklume.engine.orphans import Orphan, clean_orphans, find_orphans


def _generated(body: str) -> str:
    return merge(None, render_block(body))


def _put(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


class Case(t.NamedTuple):
    test_id: str
    rel: str
    text: str
    protected: bool | None  # None: not an orphan
    reason: str = ""


HV, GV, G = "host_vars/old.yml", "group_vars/old.yml", _generated
USER_FALSE = "instance_ephemeral: false\n"  # outside the block: the user's, not anklume's
CASES = [
    Case("machine_ephemeral", HV, G("instance_ephemeral: true"), False, "ephemeral is true"),
    Case("machine_protected", HV, G("instance_ephemeral: false"), True, "ephemeral is false"),
    Case("machine_without_key", HV, G("instance_name: old"), True, "missing means protected"),
    Case("domain_ephemeral", GV, G("domain_ephemeral: true"), False, "domain_ephemeral is true"),
    Case("domain_protected", GV, G("domain_ephemeral: false"), True, "domain_ephemeral is false"),
    Case("not_a_boolean", HV, G("instance_ephemeral: 'true'"), True, "not a boolean"),
    Case("invalid_yaml", HV, G("instance_ephemeral: [true"), True, "not valid YAML"),
    Case("not_a_mapping", HV, G("- instance_ephemeral: true"), True, "not a mapping"),
    Case("broken_markers", HV, f"{OPEN}\ninstance_ephemeral: true\n", True, "unreadable"),
    Case("user_content_ignored", HV, f"{USER_FALSE}{G('instance_ephemeral: true')}", False),
    Case("no_block_is_a_user_file", "host_vars/mine.yml", "instance_ephemeral: true\n", None),
    Case("empty_user_file", "group_vars/mine.yml", "", None),
    Case("inventory_without_domain_vars", "inventory/old.yml", G("all: {}"), True, "missing"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.test_id for c in CASES])
def test_orphan_protection(tmp_path: Path, case: Case) -> None:
    _put(tmp_path, case.rel, case.text)
    orphans = find_orphans(tmp_path, set())
    if case.protected is None:
        assert orphans == []
        return
    assert len(orphans) == 1
    orphan = orphans[0]
    assert (orphan.root, orphan.path, orphan.protected) == (tmp_path, Path(case.rel), case.protected)
    assert case.reason in orphan.reason


@pytest.mark.parametrize("ephemeral", [True, False])
def test_an_inventory_file_follows_its_domain_vars(tmp_path: Path, ephemeral: bool) -> None:
    _put(tmp_path, "inventory/old.yml", _generated("all: {children: {old: {}}}\n"))
    _put(tmp_path, "group_vars/old.yml", _generated(f"domain_ephemeral: {str(ephemeral).lower()}\n"))
    orphans = find_orphans(tmp_path, set())
    assert [(o.path, o.protected) for o in orphans] == [
        (Path("group_vars/old.yml"), not ephemeral),
        (Path("inventory/old.yml"), not ephemeral),
    ]
    assert orphans[1].reason.startswith("group_vars/old.yml: domain_ephemeral is")


def test_expected_files_and_all_yml_are_never_orphans(tmp_path: Path) -> None:
    ephemeral = _generated("instance_ephemeral: true\n")
    for rel in ("group_vars/all.yml", "group_vars/pro.yml", "inventory/pro.yml", "host_vars/web.yml"):
        _put(tmp_path, rel, ephemeral)
    expected = {Path("group_vars/pro.yml"), Path("inventory/pro.yml"), Path("host_vars/web.yml")}
    assert find_orphans(tmp_path, expected) == []


def test_only_yml_files_directly_in_the_generated_directories_count(tmp_path: Path) -> None:
    ephemeral = _generated("instance_ephemeral: true\n")
    for rel in (
        "host_vars/web.yaml",
        "host_vars/web.yml.bak",
        "host_vars/.web.yml.tmp",
        "host_vars/web/vars.yml",
        "roles/x/defaults/main.yml",
        "other.yml",
    ):
        _put(tmp_path, rel, ephemeral)
    (tmp_path / "host_vars" / "dir.yml").mkdir()
    assert find_orphans(tmp_path, set()) == []


def test_missing_directories_mean_no_orphans(tmp_path: Path) -> None:
    assert find_orphans(tmp_path, set()) == []
    (tmp_path / "inventory").write_text("not a directory\n")
    assert find_orphans(tmp_path, set()) == []


def test_orphans_are_sorted_by_path(tmp_path: Path) -> None:
    for rel in ("host_vars/b.yml", "host_vars/a.yml", "group_vars/z.yml", "inventory/m.yml"):
        _put(tmp_path, rel, _generated("instance_ephemeral: false\n"))
    paths = [o.path for o in find_orphans(tmp_path, set())]
    assert paths == sorted(paths)
    assert len(paths) == 4


def test_clean_deletes_only_unprotected_orphans(tmp_path: Path) -> None:
    gone = _put(tmp_path, "host_vars/gone.yml", _generated("instance_ephemeral: true\n"))
    kept = _put(tmp_path, "host_vars/kept.yml", _generated("instance_ephemeral: false\n"))
    unknown = _put(tmp_path, "host_vars/unknown.yml", _generated("instance_name: unknown\n"))
    mine = _put(tmp_path, "host_vars/mine.yml", "instance_ephemeral: true\n")
    deleted = clean_orphans(find_orphans(tmp_path, set()))
    assert deleted == [Path("host_vars/gone.yml")]
    assert not gone.exists()
    assert kept.exists() and unknown.exists() and mine.exists()


def test_clean_keeps_a_file_protected_since_it_was_found(tmp_path: Path) -> None:
    path = _put(tmp_path, "host_vars/web.yml", _generated("instance_ephemeral: true\n"))
    orphans = find_orphans(tmp_path, set())
    path.write_text(_generated("instance_ephemeral: false\n"))
    assert clean_orphans(orphans) == []
    assert path.exists()


def test_clean_keeps_a_file_whose_block_was_removed(tmp_path: Path) -> None:
    path = _put(tmp_path, "host_vars/web.yml", _generated("instance_ephemeral: true\n"))
    orphans = find_orphans(tmp_path, set())
    path.write_text("instance_ephemeral: true\n")
    assert clean_orphans(orphans) == []
    assert path.exists()


def test_clean_ignores_a_file_already_gone(tmp_path: Path) -> None:
    path = _put(tmp_path, "host_vars/web.yml", _generated("instance_ephemeral: true\n"))
    orphans = find_orphans(tmp_path, set())
    path.unlink()
    assert clean_orphans(orphans) == []


def test_clean_never_touches_a_protected_record(tmp_path: Path) -> None:
    path = _put(tmp_path, "host_vars/web.yml", _generated("instance_ephemeral: true\n"))
    record = Orphan(tmp_path, Path("host_vars/web.yml"), protected=True, reason="said so")
    assert clean_orphans([record]) == []
    assert path.exists()


def test_the_close_marker_alone_makes_a_protected_orphan(tmp_path: Path) -> None:
    _put(tmp_path, "group_vars/old.yml", f"domain_ephemeral: true\n{CLOSE}\n")
    (orphan,) = find_orphans(tmp_path, set())
    assert orphan.protected
    assert "group_vars/old.yml:2" in orphan.reason
