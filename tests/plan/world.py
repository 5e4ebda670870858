"""Plan cases as a recorded world plus a patch.

A *world* (``tests/plan/worlds/incus-<version>.yaml``) is the declared and
live state of ``tests/fixtures/infra-min`` applied on one Incus version,
recorded once (:mod:`tests.plan.record_world`). A case names its world and
patches it::

    world: incus-6.0
    declared:
      machines:
        anklume-t-web: {instance_config: {limits.memory: 512MiB}}
    live:
      instances:
        anklume-tpro/anklume-t-web: {status: Stopped}

A list of named items is patched as a mapping by key (``KEYS``): a key the
world has is merged (a JSON merge patch, RFC 7386: ``null`` removes a key),
a new key is appended, ``null`` removes the item. A list given as a list
replaces the world's whole list (``live: {instances: []}`` is a host
without instances). A case without ``world`` is in the full format: its
``declared`` and ``live`` are used as they are.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

WORLDS = Path(__file__).resolve().parent / "worlds"


def _named(*fields: str) -> Callable[[Mapping[str, Any]], str]:
    def key(item: Mapping[str, Any]) -> str:
        values = [str(item.get(f) or "default") if f == "project" else str(item.get(f)) for f in fields]
        return "/".join(values)

    return key


KEYS: dict[str, dict[str, Callable[[Mapping[str, Any]], str]]] = {
    "declared": {"domains": _named("domain_name"), "machines": _named("instance_name")},
    "live": {
        "projects": _named("name"),
        "networks": _named("name"),
        "profiles": _named("project", "name"),
        "instances": _named("project", "name"),
        "images": _named("fingerprint"),
    },
}
"""How the items of each list are named in a patch (``project/name`` for per-project resources)."""


def merge(base: object, patch: object) -> object:
    """Apply a JSON merge patch (RFC 7386) to ``base``.

    >>> merge({"a": 1, "b": {"c": 2, "d": 3}}, {"a": None, "b": {"c": 4}, "e": [5]})
    {'b': {'c': 4, 'd': 3}, 'e': [5]}
    """
    if not isinstance(patch, Mapping):
        return copy.deepcopy(patch)
    out = dict(base) if isinstance(base, Mapping) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge(out.get(key), value)
    return out


def patch_list(items: list[Any], patch: object, key: Callable[[Mapping[str, Any]], str]) -> list[Any]:
    """Patch a list of named items (a mapping patch by name, or a whole new list).

    >>> patch_list([{"name": "a", "x": 1}, {"name": "b"}], {"a": {"x": 2}, "b": None, "c": {"name": "c"}},
    ...     _named("name"))
    [{'name': 'a', 'x': 2}, {'name': 'c'}]
    """
    if isinstance(patch, list):
        return copy.deepcopy(patch)
    if not isinstance(patch, Mapping):
        msg = f"a list patch is a mapping by name or a list, not {type(patch).__name__}"
        raise TypeError(msg)
    out = []
    seen = set()
    for item in items:
        name = key(item)
        seen.add(name)
        if name not in patch:
            out.append(copy.deepcopy(item))
        elif patch[name] is not None:
            out.append(merge(item, patch[name]))
    out += [merge({}, body) for name, body in patch.items() if name not in seen and body is not None]
    return out


def patch_state(base: Mapping[str, Any], patch: Mapping[str, Any] | None, side: str) -> dict[str, Any]:
    """Return the ``declared`` or ``live`` side of a world with a case's patch applied."""
    out = copy.deepcopy(dict(base))
    for field, body in (patch or {}).items():
        key = KEYS[side].get(field)
        if key is not None:
            out[field] = patch_list(list(out.get(field) or []), body, key)
        elif body is None:
            out.pop(field, None)
        else:
            out[field] = merge(out.get(field), body)
    return out


@functools.cache
def load_world(name: str) -> dict[str, Any]:
    """Read ``tests/plan/worlds/<name>.yaml`` (``declared`` and ``live``)."""
    path = WORLDS / f"{name}.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(doc, dict) or not {"declared", "live"} <= set(doc):
        msg = f"{path}: a world is a mapping with declared and live"
        raise TypeError(msg)
    return doc


def load_case(path: Path) -> dict[str, Any]:
    """Return a case with its full ``declared`` and ``live``, whichever format the file uses."""
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(doc, dict):
        msg = f"{path}: a case is a mapping"
        raise TypeError(msg)
    if "world" not in doc:
        return doc
    world = load_world(str(doc["world"]))
    full = {k: v for k, v in doc.items() if k != "world"}
    full["declared"] = patch_state(world["declared"], doc.get("declared"), "declared")
    full["live"] = patch_state(world["live"], doc.get("live"), "live")
    return full


def _diff(base: object, target: object) -> object:
    """Return the merge patch that turns ``base`` into ``target`` (mappings; anything else replaces)."""
    if not isinstance(base, Mapping) or not isinstance(target, Mapping):
        return copy.deepcopy(target)
    out: dict[str, Any] = {}
    for key in base:
        if key not in target:
            out[key] = None
    for key, value in target.items():
        if key not in base:
            out[key] = copy.deepcopy(value)
        elif base[key] != value:
            out[key] = _diff(base[key], value)
    return out


def diff_list(items: list[Any], target: list[Any], key: Callable[[Mapping[str, Any]], str]) -> object:
    """Return the patch turning ``items`` into ``target``: by name when that keeps the order, else the list."""
    if not target:
        return []
    names = [key(i) for i in items]
    wanted = [key(i) for i in target]
    kept = [n for n in names if n in wanted]
    if len(set(wanted)) != len(wanted) or wanted[: len(kept)] != kept:
        return copy.deepcopy(target)
    by_name = dict(zip(names, items, strict=True))
    patch: dict[str, Any] = {n: None for n in names if n not in wanted}
    for name, item in zip(wanted, target, strict=True):
        if name not in by_name:
            patch[name] = copy.deepcopy(item)
        elif by_name[name] != item:
            patch[name] = _diff(by_name[name], item)
    if patch_list(items, patch, key) != target:
        return copy.deepcopy(target)
    return patch


def diff_state(base: Mapping[str, Any], target: Mapping[str, Any], side: str) -> dict[str, Any]:
    """Return the patch of one side (``declared`` or ``live``) of a case against its world."""
    patch: dict[str, Any] = {}
    for field in sorted(set(base) | set(target)):
        old, new = base.get(field), target.get(field)
        if old == new:
            continue
        key = KEYS[side].get(field)
        if key is not None:
            patch[field] = diff_list(list(old or []), list(new or []), key)
        else:
            patch[field] = _diff(old, new) if new is not None else None
    return patch
