"""Property-based tests of the whole engine (hypothesis)."""

from __future__ import annotations

import contextlib
import ipaddress
import os
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from anklume.engine.managed import extract
from anklume.engine.pipeline import resolve, sync
from anklume.engine.yamlsrc import load_bounded
from anklume.errors import AnklumeError

os.environ.setdefault("ANKLUME_SKIP_HOST_SUBNET_CHECK", "1")

NAMES = st.from_regex(r"[a-z][a-z0-9]{0,4}", fullmatch=True)
TRUST = st.sampled_from(["admin", "trusted", "semi-trusted", "untrusted", "disposable"])
#: One line of text: no control character, no line or paragraph separator (Jinja included).
DESCRIPTIONS = st.text(
    alphabet=st.characters(blacklist_categories=["Cc", "Cs"], blacklist_characters="\u2028\u2029"), max_size=20
) | st.sampled_from(["{{ lookup('pipe', 'id') }}", "{% if x %}", "a {# b"])
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def infras(draw: st.DrawFn) -> dict[str, Any]:
    """A random valid infra: unique names, zone addressing, auto addresses."""
    domain_names = draw(st.lists(NAMES, min_size=1, max_size=6, unique=True))
    used: set[str] = set(domain_names)
    domains: dict[str, Any] = {}
    for dname in domain_names:
        machines: dict[str, Any] = {}
        for _ in range(draw(st.integers(0, 4))):
            mname = f"{dname}-{draw(NAMES)}"
            if mname in used:
                continue
            used.add(mname)
            machine: dict[str, Any] = {}
            if draw(st.booleans()):
                machine["description"] = draw(DESCRIPTIONS)
            if draw(st.booleans()):
                machine["config"] = {"limits.cpu": str(draw(st.integers(1, 8)))}
            machines[mname] = machine
        domain: dict[str, Any] = {"trust_level": draw(TRUST), "nat": draw(st.booleans())}
        if machines:
            domain["machines"] = machines
        domains[dname] = domain
    return {"project_name": "p", "global": {"addressing": {"zone_base": 100}}, "domains": domains}


def _sync(data: dict[str, Any], root: Path) -> None:
    (root / "infra.yml").write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    sync(root)


@SETTINGS
@given(infras())
def test_random_valid_infras_round_trip(data: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        _sync(data, root)
        seen: set[str] = set()
        for dname, domain in data["domains"].items():
            group = load_bounded(extract((root / "group_vars" / f"{dname}.yml").read_text()) or "")
            subnet = ipaddress.ip_network(group["incus_network"]["subnet"])
            assert group["domain_trust_level"] == domain["trust_level"]
            assert group["incus_network"].get("nat", True) == domain["nat"]
            for mname, machine in domain.get("machines", {}).items():
                host = load_bounded(extract((root / "host_vars" / f"{mname}.yml").read_text()) or "")
                assert ipaddress.ip_address(host["instance_ip"]) in subnet
                assert host["instance_ip"] not in seen
                seen.add(host["instance_ip"])
                assert host.get("instance_config") == machine.get("config")
                assert host.get("instance_description", "") == machine.get("description", "")
        assert not sync(root, write=False).plan.pending  # a second sync changes nothing


@SETTINGS
@given(infras(), st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=200))
def test_user_text_outside_the_block_survives_resync(data: dict[str, Any], suffix: str) -> None:
    if "# === " in suffix:
        return
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        _sync(data, root)
        target = root / "group_vars" / "all.yml"
        original = target.read_bytes()
        target.write_bytes(original + suffix.encode("utf-8", "surrogateescape"))
        data["project_name"] = "renamed"
        _sync(data, root)
        text = target.read_bytes()
        assert text.endswith(suffix.encode("utf-8", "surrogateescape"))
        assert b"project_name: renamed" in text


SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**40), 2**40), st.floats(allow_nan=False), st.text(max_size=12)
)
TREES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=20,
)


def _mutate(data: Any, path: list[int], value: Any) -> Any:
    """Replace the node that ``path`` leads to (indexes into keys or items) by ``value``."""
    if not path or not isinstance(data, dict | list) or not data:
        return value
    if isinstance(data, dict):
        key = list(data)[path[0] % len(data)]
        return {**data, key: _mutate(data[key], path[1:], value)}
    index = path[0] % len(data)
    return [*data[:index], _mutate(data[index], path[1:], value), *data[index + 1 :]]


@SETTINGS
@given(infras(), st.lists(st.integers(0, 50), max_size=6), TREES)
def test_mutated_documents_raise_only_anklume_errors(data: dict[str, Any], path: list[int], value: Any) -> None:
    mutated = _mutate(data, path, value)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "infra.yml").write_text(yaml.safe_dump(mutated, allow_unicode=True), encoding="utf-8")
        with contextlib.suppress(AnklumeError):  # anything else fails the test
            resolve(root)


@SETTINGS
@given(st.text(max_size=300))
def test_arbitrary_text_raises_only_anklume_errors(text: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "infra.yml").write_text(text, encoding="utf-8", errors="surrogateescape")
        with contextlib.suppress(AnklumeError):  # anything else fails the test
            resolve(root)


#: Strings built to hurt: markers, control characters, Jinja, NUL, separators, long runs.
HOSTILE = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "# === MANAGED BY infra.yml ===",
            "x\n# === END MANAGED ===\n",
            "a\nflush ruleset\n",
            "\x00",
            "{{ lookup('pipe', 'id') }}",
            "\u2028",
            "all",
            "localhost",
            "ungrouped",
            "../../etc",
            "/etc/passwd\n",
        ]
    ),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=12).map(lambda t: t * 50),
)


def _string_paths(data: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place holding a string, as a key (the name itself) or as a value."""
    if isinstance(data, dict):
        out = []
        for key, value in data.items():
            out.append((*path, ("key", key)))
            out += _string_paths(value, (*path, key))
        return out
    if isinstance(data, list):
        return [p for index, value in enumerate(data) for p in _string_paths(value, (*path, index))]
    return [path]


def _replace(data: Any, path: tuple[Any, ...], text: str) -> Any:
    if not path:
        return text
    head, rest = path[0], path[1:]
    if isinstance(head, tuple):  # rename a key
        return {(text if k == head[1] else k): v for k, v in data.items()}
    if isinstance(data, dict):
        return {**data, head: _replace(data[head], rest, text)}
    return [_replace(v, rest, text) if i == head else v for i, v in enumerate(data)]


#: A small valid infra and where its machine description sits, for explicit examples.
_SMALL: dict[str, Any] = {
    "project_name": "p",
    "global": {"addressing": {"zone_base": 100}},
    "domains": {"a": {"trust_level": "admin", "nat": True, "machines": {"a-b": {"description": "x"}}}},
}
_DESCRIPTION = _string_paths(_SMALL).index(("domains", "a", "machines", "a-b", "description"))
_PROJECT = _string_paths(_SMALL).index(("project_name",))
_DOMAIN = _string_paths(_SMALL).index(("domains", ("key", "a")))


@settings(SETTINGS, max_examples=150)
@given(infras(), st.integers(0, 10_000), HOSTILE, st.sampled_from(["base", "with-policy"]))
@example(_SMALL, _DESCRIPTION, "x # === END MANAGED ===", "base")
@example(_SMALL, _DESCRIPTION, "a\n# === MANAGED BY infra.yml ===\n", "base")
@example(_SMALL, _DESCRIPTION, "{{ lookup('pipe', 'id') }}", "with-policy")
@example(_SMALL, _PROJECT, "a\nflush ruleset", "base")
@example(_SMALL, _DOMAIN, "all", "base")
def test_any_string_in_any_field_ends_in_an_anklume_error_or_a_safe_sync(
    data: dict[str, Any], which: int, text: str, extra: str
) -> None:
    if extra == "with-policy":
        first = next(iter(data["domains"]))
        data["network_policies"] = [{"description": "d", "from": "host", "to": first, "ports": [22]}]
        data["global"]["shared_volumes_base"] = "/srv/x"
    places = _string_paths(data)
    mutated = _replace(data, places[which % len(places)], text)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        body = yaml.safe_dump(mutated, allow_unicode=True).encode("utf-8", "surrogatepass")
        (root / "infra.yml").write_bytes(body)
        try:
            sync(root)  # anything but an anklume error fails the test
        except AnklumeError:
            return
        for path in root.rglob("*.yml"):
            extract(path.read_text(encoding="utf-8", errors="surrogateescape"))  # still one sound block
        assert not sync(root, write=False).plan.pending
