"""Compare declared and live config and devices."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from anklume.plan.action import Change
from anklume.vocab import GOLDEN_PREFIX, PROVISIONED

RUNTIME_PREFIXES = ("volatile.", "image.", GOLDEN_PREFIX)
RUNTIME_KEYS = frozenset({PROVISIONED})


def runtime_key(key: str) -> bool:
    """Say whether Incus or anklume set ``key`` at run time (never converged).

    >>> runtime_key("volatile.eth0.hwaddr"), runtime_key("user.anklume.golden.template"), runtime_key("limits.cpu")
    (True, True, False)
    """
    return key.startswith(RUNTIME_PREFIXES) or key in RUNTIME_KEYS


def config_changes(
    want: Mapping[str, str], live: Mapping[str, Any], *, remove_undeclared: bool = True
) -> dict[str, Change]:
    """Return ``key: (old, new)`` for every key to set or remove (new None = remove).

    >>> config_changes({"a": "1", "b": "2"}, {"a": "1", "b": "3", "c": "x", "volatile.z": "q"})
    {'b': ('3', '2'), 'c': ('x', None)}
    >>> config_changes({"a": "1"}, {"c": "x"}, remove_undeclared=False)
    {'a': (None, '1')}
    """
    changes: dict[str, Change] = {}
    for key, new in want.items():
        old = live.get(key)
        if old is None or str(old) != new:
            changes[key] = (old, new)
    if remove_undeclared:
        for key, old in live.items():
            if key not in want and not runtime_key(key):
                changes[key] = (old, None)
    return dict(sorted(changes.items()))


def device_changes(want: Mapping[str, Mapping[str, str]], live: Mapping[str, Mapping[str, Any]]) -> dict[str, Change]:
    """Return ``device: (old, new)`` for added, changed (both set) and removed devices.

    >>> device_changes({"a": {"type": "disk"}}, {"b": {"type": "nic"}})
    {'a': (None, {'type': 'disk'}), 'b': ({'type': 'nic'}, None)}
    >>> device_changes({"a": {"type": "disk"}}, {"a": {"type": "disk"}})
    {}
    """
    changes: dict[str, Change] = {}
    for name, spec in want.items():
        old = live.get(name)
        if old is None or {k: str(v) for k, v in old.items()} != dict(spec):
            changes[name] = (None if old is None else dict(old), dict(spec))
    for name, old in live.items():
        if name not in want:
            changes[name] = (dict(old), None)
    return dict(sorted(changes.items()))


def prefixed(prefix: str, changes: Mapping[str, Change]) -> dict[str, Change]:
    """Prefix change keys (``devices.eth0``) so kinds of changes read apart.

    >>> prefixed("devices.", {"eth0": (None, {})})
    {'devices.eth0': (None, {})}
    """
    return {f"{prefix}{k}": v for k, v in changes.items()}
