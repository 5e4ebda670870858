"""Stage 1: reading infra.yml and infra/ with line numbers."""

from __future__ import annotations

from pathlib import Path

import pytest

from anklume.engine.load import load
from anklume.errors import InfraError, UsageError


def test_records_the_line_of_every_key(tmp_path: Path) -> None:
    (tmp_path / "infra.yml").write_text("project_name: x\nglobal: {}\ndomains:\n  pro:\n    nat: false\n")
    doc = load(tmp_path)
    assert doc.source.locate(("domains", "pro", "nat")) == (Path("infra.yml"), 5)
    assert doc.source.locate(("domains", "pro", "machines", "web")) == (Path("infra.yml"), 4)
    assert doc.data["domains"]["pro"] == {"nat": False}


def test_duplicate_keys_are_problems_not_silently_merged(tmp_path: Path) -> None:
    (tmp_path / "infra.yml").write_text("project_name: x\nproject_name: y\nglobal: {}\ndomains: {}\n")
    doc = load(tmp_path)
    assert [(p.line, p.key) for p in doc.problems] == [(2, "project_name")]
    assert "first defined at line 1" in doc.problems[0].message
    assert doc.data["project_name"] == "x"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "empty"),
        ("# only a comment\n", "empty"),
        ("- a\n- b\n", "must be a mapping of keys, got a list"),
        ("just text", "must be a mapping of keys, got a str"),
        ("a: [\n", "YAML syntax error"),
        ("a: b\n\tc: d\n", "YAML syntax error"),
        ("? [a, b]\n: 1\n", "unsupported key"),
    ],
    ids=["empty", "comment-only", "list", "scalar", "unclosed", "tab", "list-key"],
)
def test_broken_files_raise_infra_error(tmp_path: Path, text: str, expected: str) -> None:
    (tmp_path / "infra.yml").write_text(text)
    with pytest.raises(InfraError) as info:
        doc = load(tmp_path)
        if doc.problems:
            raise InfraError(doc.problems)
    assert expected in str(info.value)
    assert "infra.yml" in str(info.value)


def test_syntax_error_names_the_line(tmp_path: Path) -> None:
    (tmp_path / "infra.yml").write_text("project_name: x\nglobal:\n  a: [1, 2\ndomains: {}\n")
    with pytest.raises(InfraError) as info:
        load(tmp_path)
    assert info.value.problems[0].line in {3, 4}


def test_not_utf8_is_reported(tmp_path: Path) -> None:
    (tmp_path / "infra.yml").write_bytes(b"project_name: \xff\xfe\n")
    with pytest.raises(InfraError, match="not UTF-8"):
        load(tmp_path)


def test_missing_infra_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"no infra\.yml or infra/"):
        load(tmp_path)


def test_both_modes_at_once_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "infra.yml").write_text("project_name: x\n")
    (tmp_path / "infra").mkdir()
    with pytest.raises(UsageError, match=r"both infra\.yml and infra/"):
        load(tmp_path)


def _directory(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / "infra" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def test_directory_mode_merges_parts_in_name_order(tmp_path: Path) -> None:
    root = _directory(
        tmp_path,
        {
            "base.yml": "project_name: x\nglobal: {}\n",
            "domains/b.yml": "zeta: {}\n",
            "domains/a.yml": "alpha:\n  nat: false\n",
            "policies.yml": "network_policies:\n  - {from: alpha, to: zeta}\n"
            "file_policies:\n  - {from: zeta, to: alpha}\n",
        },
    )
    doc = load(root)
    assert list(doc.data["domains"]) == ["alpha", "zeta"]
    assert doc.data["network_policies"] == [{"from": "alpha", "to": "zeta"}]
    assert doc.data["file_policies"] == [{"from": "zeta", "to": "alpha"}]
    assert doc.source.locate(("domains", "alpha", "nat")) == (Path("infra/domains/a.yml"), 2)
    assert doc.source.locate(("network_policies", 0)) == (Path("infra/policies.yml"), 2)


def test_directory_mode_rejects_a_domain_defined_twice(tmp_path: Path) -> None:
    root = _directory(
        tmp_path,
        {
            "base.yml": "project_name: x\nglobal: {}\n",
            "domains/a.yml": "pro: {}\n",
            "domains/b.yml": "pro: {}\n",
        },
    )
    doc = load(root)
    message = str(doc.problems[0])
    assert "infra/domains/a.yml" in message
    assert "infra/domains/b.yml" in message


def test_directory_mode_requires_base_yml(tmp_path: Path) -> None:
    root = _directory(tmp_path, {"domains/a.yml": "pro: {}\n"})
    with pytest.raises(InfraError, match=r"infra/base.yml: missing"):
        load(root)


def test_directory_mode_keeps_keys_in_their_files(tmp_path: Path) -> None:
    root = _directory(
        tmp_path,
        {
            "base.yml": "project_name: x\nglobal: {}\ndomains: {}\n",
            "policies.yml": "network_policies: []\nother: 1\n",
        },
    )
    doc = load(root)
    texts = [str(p) for p in doc.problems]
    assert any("base.yml:3: domains: not allowed in base.yml" in t for t in texts)
    assert any("policies.yml:2: other: only network_policies" in t for t in texts)
