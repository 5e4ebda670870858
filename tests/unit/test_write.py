"""The write stage: plan, diff, check and apply generated files."""

from __future__ import annotations

import os
import stat
import typing as t
from pathlib import Path

import pytest

from anklume.engine.managed import GeneratedFileError, merge, render_block
from anklume.engine.write import Change, apply, diff, plan_writes, read_text, stale

ALL = Path("group_vars/all.yml")
INV = Path("inventory/pro.yml")
WEB = Path("host_vars/web.yml")
BODIES = {ALL: "project_name: demo\n", INV: "all: {}\n", WEB: "instance_name: web\n"}


def _put(root: Path, rel: Path, data: bytes) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_plan_of_an_empty_root_creates_every_file(tmp_path: Path) -> None:
    plan = plan_writes(tmp_path, BODIES)
    assert [f.path for f in plan.files] == sorted(BODIES)
    assert all(f.change is Change.NEW and f.old is None for f in plan.files)
    assert plan.files[0].new == merge(None, render_block(BODIES[ALL]))
    assert not (tmp_path / "group_vars").exists()


def test_apply_writes_files_and_directories_then_nothing_is_pending(tmp_path: Path) -> None:
    written = apply(plan_writes(tmp_path, BODIES))
    assert written == sorted(BODIES)
    for rel, body in BODIES.items():
        assert (tmp_path / rel).read_text() == merge(None, render_block(body))
    again = plan_writes(tmp_path, BODIES)
    assert again.pending == ()
    assert again.count(Change.UNCHANGED) == 3
    assert stale(again) == []
    assert diff(again) == ""
    assert apply(again) == []


def test_apply_leaves_unchanged_files_untouched(tmp_path: Path) -> None:
    apply(plan_writes(tmp_path, BODIES))
    old_ns = 1_000_000_000 * 1_000_000_000
    for rel in BODIES:
        os.utime(tmp_path / rel, ns=(old_ns, old_ns))
    changed = {**BODIES, WEB: "instance_name: web2\n"}
    assert apply(plan_writes(tmp_path, changed)) == [WEB]
    assert (tmp_path / ALL).stat().st_mtime_ns == old_ns
    assert (tmp_path / INV).stat().st_mtime_ns == old_ns
    assert (tmp_path / WEB).stat().st_mtime_ns != old_ns


class Around(t.NamedTuple):
    test_id: str
    before: bytes
    after: bytes


AROUND = [
    Around("no_trailing_newline", b"---\n", b"\n\nmine: 1"),
    Around("crlf", b"---\r\n", b"\r\n\r\nmine: 1\r\n"),
    Around("unicode", "# ☕\n".encode(), "\nclé: «v» 🚀\n".encode()),
    Around("invalid_utf8", b"# \xff\xfe latin-1: \xe9\n", b"\nbad: \xe9\xc3\n"),
]


@pytest.mark.parametrize("case", AROUND, ids=[c.test_id for c in AROUND])
def test_user_bytes_outside_the_block_survive_and_are_not_drift(tmp_path: Path, case: Around) -> None:
    old_block = render_block("instance_name: old\n")[:-1].encode()
    _put(tmp_path, WEB, case.before + old_block + case.after)
    plan = plan_writes(tmp_path, {WEB: "instance_name: web\n"})
    assert stale(plan) == [WEB]
    apply(plan)
    new_block = render_block("instance_name: web\n")[:-1].encode()
    assert (tmp_path / WEB).read_bytes() == case.before + new_block + case.after
    assert stale(plan_writes(tmp_path, {WEB: "instance_name: web\n"})) == []


def test_edits_outside_the_block_are_not_stale(tmp_path: Path) -> None:
    apply(plan_writes(tmp_path, BODIES))
    with (tmp_path / WEB).open("a") as stream:
        stream.write("my_var: 42\n")
    assert stale(plan_writes(tmp_path, BODIES)) == []


def test_edits_inside_the_block_are_stale(tmp_path: Path) -> None:
    apply(plan_writes(tmp_path, BODIES))
    path = tmp_path / WEB
    path.write_text(path.read_text().replace("instance_name: web", "instance_name: hacked"))
    plan = plan_writes(tmp_path, BODIES)
    assert stale(plan) == [WEB]
    assert [f.change for f in plan.files if f.path == WEB] == [Change.CHANGED]


def test_a_user_file_without_markers_gets_the_block_and_keeps_its_content(tmp_path: Path) -> None:
    _put(tmp_path, WEB, b"---\nmine: 1\n")
    apply(plan_writes(tmp_path, {WEB: "instance_name: web\n"}))
    text = (tmp_path / WEB).read_text()
    assert text == f"---\n{render_block('instance_name: web')}\nmine: 1\n"


def test_apply_keeps_the_mode_of_an_existing_file(tmp_path: Path) -> None:
    path = _put(tmp_path, WEB, b"mine: 1\n")
    path.chmod(0o640)
    apply(plan_writes(tmp_path, {WEB: "a: 1\n"}))
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_new_files_follow_the_umask(tmp_path: Path) -> None:
    previous = os.umask(0o027)
    try:
        apply(plan_writes(tmp_path, {WEB: "a: 1\n"}))
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / WEB).stat().st_mode) == 0o640


def test_a_symbolic_link_at_a_generated_path_is_refused_and_its_target_untouched(tmp_path: Path) -> None:
    real = _put(tmp_path, Path("elsewhere/web.yml"), b"mine: 1\n")
    (tmp_path / "host_vars").mkdir()
    (tmp_path / WEB).symlink_to(real)
    with pytest.raises(GeneratedFileError, match=r"host_vars/web\.yml: is a symbolic link"):
        plan_writes(tmp_path, {WEB: "a: 1\n"})
    assert real.read_bytes() == b"mine: 1\n"


def test_a_link_swapped_in_after_the_plan_is_refused(tmp_path: Path) -> None:
    real = _put(tmp_path, Path("elsewhere/web.yml"), b"mine: 1\n")
    _put(tmp_path, WEB, b"mine: 1\n")
    plan = plan_writes(tmp_path, {WEB: "a: 1\n"})
    (tmp_path / WEB).unlink()
    (tmp_path / WEB).symlink_to(real)
    with pytest.raises(GeneratedFileError, match="symbolic link"):
        apply(plan)
    assert real.read_bytes() == b"mine: 1\n"


def test_a_linked_generated_directory_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    root = tmp_path / "infra"
    root.mkdir()
    (root / "host_vars").symlink_to(outside)
    with pytest.raises(GeneratedFileError, match="host_vars: is a symbolic link"):
        apply(plan_writes(root, {WEB: "a: 1\n"}))
    assert list(outside.iterdir()) == []


def test_apply_leaves_no_temporary_file(tmp_path: Path) -> None:
    apply(plan_writes(tmp_path, BODIES))
    apply(plan_writes(tmp_path, {k: f"{v}x: 1\n" for k, v in BODIES.items()}))
    names = sorted(p.name for p in tmp_path.rglob("*") if p.is_file())
    assert names == ["all.yml", "pro.yml", "web.yml"]


def test_a_failed_write_keeps_the_old_file_and_cleans_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _put(tmp_path, WEB, b"mine: 1\n")

    def refuse(src: str, dst: str, **_: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError, match="No space"):
        apply(plan_writes(tmp_path, {WEB: "a: 1\n"}))
    assert path.read_bytes() == b"mine: 1\n"
    assert sorted(p.name for p in path.parent.iterdir()) == ["web.yml"]


def test_apply_refuses_a_file_edited_since_the_plan(tmp_path: Path) -> None:
    _put(tmp_path, WEB, b"mine: 1\n")
    plan = plan_writes(tmp_path, {ALL: "a: 1\n", WEB: "a: 1\n"})
    (tmp_path / WEB).write_bytes(b"mine: 2\n")
    with pytest.raises(GeneratedFileError, match="changed on disk since the plan"):
        apply(plan)
    assert not (tmp_path / ALL).exists()
    assert (tmp_path / WEB).read_bytes() == b"mine: 2\n"


def test_apply_refuses_a_file_created_since_the_plan(tmp_path: Path) -> None:
    plan = plan_writes(tmp_path, {WEB: "a: 1\n"})
    _put(tmp_path, WEB, b"mine: 1\n")
    with pytest.raises(GeneratedFileError, match=r"web\.yml: changed on disk"):
        apply(plan)


def test_broken_markers_stop_the_plan_naming_file_and_line(tmp_path: Path) -> None:
    _put(tmp_path, WEB, b"---\n# === MANAGED BY infra.yml ===\na: 1\n")
    with pytest.raises(GeneratedFileError) as caught:
        plan_writes(tmp_path, {WEB: "a: 1\n"})
    assert caught.value.path == tmp_path / WEB
    assert caught.value.line == 2


def test_a_directory_in_place_of_a_file_is_an_error(tmp_path: Path) -> None:
    (tmp_path / WEB).mkdir(parents=True)
    with pytest.raises(GeneratedFileError, match="is a directory"):
        plan_writes(tmp_path, {WEB: "a: 1\n"})


@pytest.mark.parametrize("bad", ["/etc/passwd", "../outside.yml", "host_vars/../../x.yml", "."])
def test_paths_must_stay_under_the_root(tmp_path: Path, bad: str) -> None:
    with pytest.raises(ValueError, match="relative to the root"):
        plan_writes(tmp_path, {Path(bad): "a: 1\n"})


def test_diff_shows_new_and_changed_files_with_git_headers(tmp_path: Path) -> None:
    _put(tmp_path, WEB, merge(None, render_block("instance_name: old\n")).encode())
    _put(tmp_path, ALL, merge(None, render_block(BODIES[ALL])).encode())
    text = diff(plan_writes(tmp_path, BODIES))
    assert "--- /dev/null\n+++ b/inventory/pro.yml\n" in text
    assert "+all: {}\n" in text
    assert "--- a/host_vars/web.yml\n+++ b/host_vars/web.yml\n" in text
    assert "-instance_name: old\n+instance_name: web\n" in text
    assert "group_vars/all.yml" not in text


def test_diff_marks_a_missing_final_newline(tmp_path: Path) -> None:
    _put(tmp_path, WEB, (render_block("a: 0\n")[:-1]).encode())
    text = diff(plan_writes(tmp_path, {WEB: "a: 1\n"}))
    assert text.endswith("\n # === END MANAGED ===\n\\ No newline at end of file\n")


def test_diff_of_undecodable_bytes_is_printable(tmp_path: Path) -> None:
    _put(tmp_path, WEB, b"---\nmine: \xff\n")
    text = diff(plan_writes(tmp_path, {WEB: "a: 1\n"}))
    assert " mine: \ufffd\n" in text
    text.encode("utf-8")


def test_read_text_keeps_line_endings_and_reports_absence(tmp_path: Path) -> None:
    path = _put(tmp_path, WEB, b"a\r\nb\rc")
    assert read_text(tmp_path, WEB) == "a\r\nb\rc"
    assert read_text(tmp_path, Path("missing.yml")) is None
    del path
