"""The examples under examples/ and the repository's own infra.yml sync cleanly.

Every example is copied to a temporary directory and synced through the real
CLI entry point: the first sync writes, a second one changes nothing. The
directory-mode examples must give exactly the files of the same infra written
as one infra.yml. The repository's generated files must match its infra.yml.
"""

from __future__ import annotations

import shutil
import typing as t
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

from anklume.cli.main import main
from anklume.engine.pipeline import resolve
from anklume.engine.resolved import Resolved
from tests.conftest import REPO

EXAMPLES_DIR = REPO / "examples"
EXAMPLES = sorted(p.name for p in EXAMPLES_DIR.iterdir() if p.is_dir())
DIRECTORY_MODE = [name for name in EXAMPLES if (EXAMPLES_DIR / name / "infra").is_dir()]
GENERATED = ("inventory", "group_vars", "host_vars")
OFFLINE_IMAGE = "anklume/debian-12"


@pytest.fixture(autouse=True)
def _not_nested(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Read /etc/anklume from an empty directory, so a nested host adds no NNN- prefix."""
    monkeypatch.setenv("ANKLUME_ETC", str(tmp_path_factory.mktemp("etc-anklume")))
    yield


def copy_example(name: str, tmp_path: Path) -> Path:
    """Copy one example into ``tmp_path`` and return the copy."""
    return Path(shutil.copytree(EXAMPLES_DIR / name, tmp_path / name))


def generated(root: Path) -> dict[str, bytes]:
    """Every generated file under ``root``, by relative path."""
    return {
        str(path.relative_to(root)): path.read_bytes()
        for directory in GENERATED
        for path in sorted((root / directory).glob("*.yml"))
    }


def test_every_expected_example_is_there_with_a_readme() -> None:
    expected = {
        "privacy-workstation",
        "teacher-lab",
        "legacy-addressing",
        "firewall-vm",
        "ai-exclusive",
        "shared-volumes",
        "resource-policy",
    }
    assert expected <= set(EXAMPLES)
    for name in EXAMPLES:
        example = EXAMPLES_DIR / name
        assert (example / "README.md").is_file(), f"{name} has no README.md"
        assert (example / "infra.yml").is_file() != (example / "infra").is_dir(), name
    assert DIRECTORY_MODE, "at least one example uses the directory mode (infra/)"


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_syncs_then_a_second_sync_changes_nothing(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = copy_example(name, tmp_path)
    assert main(["-C", str(root), "sync"]) == 0, capsys.readouterr().err
    first = generated(root)
    assert "group_vars/all.yml" in first
    assert any(path.startswith("host_vars/") for path in first)
    mtimes = {p: p.stat().st_mtime_ns for d in GENERATED for p in (root / d).glob("*.yml")}
    capsys.readouterr()
    assert main(["-C", str(root), "sync"]) == 0
    assert capsys.readouterr().out.strip().endswith(f": {len(first)} unchanged")
    assert generated(root) == first
    assert {p: p.stat().st_mtime_ns for p in mtimes} == mtimes
    assert main(["-C", str(root), "sync", "--check"]) == 0


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_is_safe_to_apply(name: str, tmp_path: Path) -> None:
    """Examples are applied by tests: no route out, and only the offline image."""
    resolved = resolve(copy_example(name, tmp_path))
    assert [d.name for d in resolved.domains.values() if d.nat] == []
    assert resolved.images() == [OFFLINE_IMAGE]
    assert resolved.warnings == []


def _yaml_files(name: str) -> list[Path]:
    example = EXAMPLES_DIR / name
    return sorted([*example.glob("infra.yml"), *example.glob("infra/**/*.yml")])


def _part(path: Path) -> str:
    """The schema a file of an example follows.

    >>> _part(Path("x/infra/domains/a.yml")), _part(Path("x/infra/base.yml")), _part(Path("x/infra.yml"))
    ('domains', 'base', 'infra')
    """
    if path.parent.name == "domains":
        return "domains"
    if path.parent.name == "infra":
        return path.stem
    return "infra"


@pytest.mark.parametrize("name", EXAMPLES)
def test_every_example_file_names_its_schema_on_the_first_line(name: str) -> None:
    files = _yaml_files(name)
    assert files
    for path in files:
        first = path.read_text(encoding="utf-8").splitlines()[0]
        prefix = "# yaml-language-server: $schema="
        assert first.startswith(prefix), f"{path} lacks the modeline"
        target = (path.parent / first.removeprefix(prefix)).resolve()
        assert target == REPO / "docs" / "schema" / f"{_part(path)}.json", path
        assert target.is_file()


def merged_single_file(directory: Path) -> str:
    """The infra of a directory-mode ``infra/`` as one infra.yml text."""
    data = yaml.safe_load((directory / "base.yml").read_text(encoding="utf-8"))
    domains: dict[str, t.Any] = {}
    for path in sorted((directory / "domains").glob("*.yml")):
        domains.update(yaml.safe_load(path.read_text(encoding="utf-8")))
    data["domains"] = domains
    policies = directory / "policies.yml"
    if policies.is_file():
        data["network_policies"] = yaml.safe_load(policies.read_text(encoding="utf-8"))["network_policies"]
    return yaml.safe_dump(data, sort_keys=False)


@pytest.mark.parametrize("name", DIRECTORY_MODE)
def test_directory_mode_gives_the_files_of_the_same_single_file(name: str, tmp_path: Path) -> None:
    split = copy_example(name, tmp_path / "split")
    single = tmp_path / "single"
    single.mkdir()
    (single / "infra.yml").write_text(merged_single_file(split / "infra"), encoding="utf-8")
    assert main(["-C", str(split), "sync"]) == 0
    assert main(["-C", str(single), "sync"]) == 0
    from_split, from_single = generated(split), generated(single)
    assert len(from_split) > 3
    assert from_split == from_single


def test_repository_generated_files_match_its_infra_yml(capsys: pytest.CaptureFixture[str]) -> None:
    """The committed inventory/, group_vars/ and host_vars/ are those of infra.yml."""
    rc = main(["-C", str(REPO), "sync", "--check"])
    assert rc == 0, capsys.readouterr().out


class Feature(t.NamedTuple):
    test_id: str
    example: str
    holds: Callable[[Resolved], bool]


def _trust_levels(res: Resolved) -> set[str]:
    return {d.trust_level for d in res.domains.values()}


def _policy_kinds(res: Resolved) -> set[str]:
    machines = set(res.machines())
    kinds = {p.protocol for p in res.policies}
    kinds |= {"machine" for p in res.policies if p.source in machines and p.target in machines}
    kinds |= {"host" for p in res.policies if "host" in {p.source, p.target}}
    return kinds


def _devices(res: Resolved) -> set[str]:
    return {name for m in res.machines().values() for name in m.devices or {}}


def _limited(res: Resolved) -> set[str]:
    return {m.name for m in res.machines().values() if "limits.cpu.allowance" in (m.config or {})}


FEATURES = [
    Feature(
        "privacy-four-trust-levels",
        "privacy-workstation",
        lambda r: _trust_levels(r) == {"admin", "trusted", "untrusted", "disposable"},
    ),
    Feature(
        "privacy-machine-udp-and-host-policies",
        "privacy-workstation",
        lambda r: {"tcp", "udp", "machine", "host"} <= _policy_kinds(r),
    ),
    Feature(
        "teacher-one-domain-per-group",
        "teacher-lab",
        lambda r: {"group-a", "group-b", "group-c", "teacher"} <= set(r.domains),
    ),
    Feature(
        "legacy-base-subnet-without-addressing",
        "legacy-addressing",
        lambda r: r.addressing is None and r.base_subnet == "10.100",
    ),
    Feature(
        "legacy-no-automatic-address",
        "legacy-addressing",
        lambda r: any(m.ip is None for m in r.machines().values()),
    ),
    Feature(
        "firewall-vm-added",
        "firewall-vm",
        lambda r: r.firewall_mode == "vm" and r.machines()["anklume-firewall"].ip == "10.100.0.253",
    ),
    Feature(
        "ai-exclusive-policy-added",
        "ai-exclusive",
        lambda r: [(p.source, p.target) for p in r.policies if p.auto_added] == [("pro", "ai-tools")],
    ),
    Feature(
        "shared-and-persistent-devices",
        "shared-volumes",
        lambda r: {"sv-library", "sv-inbox", "pd-metadata", "pd-home"} <= _devices(r),
    ),
    Feature(
        "resource-limits-for-every-machine",
        "resource-policy",
        lambda r: _limited(r) == set(r.machines()),
    ),
]


@pytest.mark.parametrize("case", FEATURES, ids=[c.test_id for c in FEATURES])
def test_example_shows_what_it_is_about(case: Feature, tmp_path: Path) -> None:
    assert case.holds(resolve(copy_example(case.example, tmp_path)))
