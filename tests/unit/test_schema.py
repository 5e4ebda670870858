"""The committed JSON Schemas are current, and the examples follow them.

docs/schema/*.json are what editors use (through the modeline of infra.yml);
they must be exactly what ``anklume schema <part> -o`` writes today, so they
never go stale. Every example file validates against the schema of its part.
"""

from __future__ import annotations

import json
import typing as t
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from anklume.cli.main import main
from anklume.engine.schema import PARTS, schema
from anklume.engine.yamlsrc import SourceMap, parse_yaml
from tests.conftest import REPO

SCHEMA_DIR = REPO / "docs" / "schema"
EXAMPLE_FILES = sorted([*(REPO / "examples").glob("*/infra.yml"), *(REPO / "examples").glob("*/infra/**/*.yml")])


def part_of(path: Path) -> str:
    """The part of the format a file holds.

    >>> part_of(Path("e/infra/domains/a.yml")), part_of(Path("e/infra/policies.yml"))
    ('domains', 'policies')
    >>> part_of(Path("e/infra.yml"))
    'infra'
    """
    if path.parent.name == "domains":
        return "domains"
    if path.parent.name == "infra":
        return path.stem
    return "infra"


def read_yaml(text: str, file: Path) -> Any:
    """Read YAML as the engine does (keys as written, duplicates reported)."""
    data, problems = parse_yaml(text, file, SourceMap(default_file=file))
    assert problems == []
    return data


def validator(part: str) -> jsonschema.Draft202012Validator:
    committed = json.loads((SCHEMA_DIR / f"{part}.json").read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(committed)


@pytest.mark.parametrize("part", PARTS)
def test_committed_schema_is_what_anklume_schema_writes(part: str, tmp_path: Path) -> None:
    fresh = tmp_path / f"{part}.json"
    assert main(["schema", part, "-o", str(fresh)]) == 0
    committed = SCHEMA_DIR / f"{part}.json"
    hint = f"stale: run 'anklume schema {part} -o docs/schema/{part}.json'"
    assert committed.read_bytes() == fresh.read_bytes(), hint
    assert json.loads(committed.read_text(encoding="utf-8")) == schema(part)


@pytest.mark.parametrize("part", PARTS)
def test_committed_schema_is_a_valid_draft_2020_12_schema(part: str) -> None:
    committed = json.loads((SCHEMA_DIR / f"{part}.json").read_text(encoding="utf-8"))
    assert committed["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(committed)


def test_every_part_of_the_directory_mode_is_covered_by_the_examples() -> None:
    assert {part_of(p) for p in EXAMPLE_FILES} == set(PARTS)


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=[str(p.relative_to(REPO)) for p in EXAMPLE_FILES])
def test_example_file_validates_against_the_schema_of_its_part(path: Path) -> None:
    data = read_yaml(path.read_text(encoding="utf-8"), path)
    errors = [f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in validator(part_of(path)).iter_errors(data)]
    assert errors == []


class Invalid(t.NamedTuple):
    test_id: str
    part: str
    text: str
    says: str  # a fragment of the schema's error message


INFRA_HEAD = "project_name: x\nglobal: {addressing: {zone_base: 100}}\n"

INVALID = [
    Invalid("unknown-domain-key", "infra", INFRA_HEAD + "domains: {pro: {trust-level: admin}}\n", "trust-level"),
    Invalid("bad-trust-level", "infra", INFRA_HEAD + "domains: {pro: {trust_level: high}}\n", "'high'"),
    Invalid("missing-domains", "infra", INFRA_HEAD, "'domains' is a required property"),
    Invalid(
        "zone-base-too-high",
        "infra",
        "project_name: x\nglobal: {addressing: {zone_base: 250}}\ndomains: {}\n",
        "250",
    ),
    Invalid(
        "machine-type",
        "infra",
        INFRA_HEAD + "domains: {pro: {machines: {web: {type: container}}}}\n",
        "'container'",
    ),
    Invalid("domain-name-too-long", "domains", "averyverylongname: {}\n", "too long"),
    Invalid("port-out-of-range", "policies", "network_policies: [{from: a, to: b, ports: [70000]}]\n", "70000"),
    Invalid("policy-protocol", "policies", "network_policies: [{from: a, to: b, protocol: icmp}]\n", "'icmp'"),
    Invalid("domains-not-in-base", "base", "project_name: x\nglobal: {}\ndomains: {}\n", "domains"),
    Invalid(
        "volume-not-absolute",
        "base",
        "project_name: x\nglobal: {}\nshared_volumes: {v: {path: data}}\n",
        "data",
    ),
    Invalid("project-name-newline", "infra", 'project_name: "x\\nflush ruleset"\nglobal: {}\ndomains: {}\n', "flush"),
    Invalid("project-name-base", "base", 'project_name: "a b"\nglobal: {}\n', "'a b'"),
    Invalid("description-newline", "domains", 'pro: {description: "a\\nb"}\n', "'a\\nb'"),
    Invalid(
        "policy-description-cr", "policies", 'network_policies: [{description: "a\\rb", from: a, to: b}]\n', "'a\\rb'"
    ),
    Invalid("config-value-nul", "domains", 'pro: {machines: {w: {config: {k: "a\\0b"}}}}\n', "'a\\x00b'"),
]


@pytest.mark.parametrize("case", INVALID, ids=[c.test_id for c in INVALID])
def test_schema_rejects_what_the_format_forbids(case: Invalid) -> None:
    data = read_yaml(case.text, Path("x.yml"))
    messages = [e.message for e in validator(case.part).iter_errors(data)]
    assert messages, "the schema accepted invalid input"
    assert any(case.says in m for m in messages), messages


def test_schema_rejects_a_domain_name_that_is_not_a_name() -> None:
    data = read_yaml("Pro: {anything: 1}\n", Path("x.yml"))
    assert list(validator("domains").iter_errors(data))
