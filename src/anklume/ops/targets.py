"""Resolve the names a user types (machines, domains) through infra.yml.

Every operation addresses an instance by its declared name; the Incus
project and instance name come from the engine, so nobody has to know them.
Unknown names get one clear error with the closest declared names.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from anklume.engine.resolved import Resolved
from anklume.errors import UsageError

_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


@dataclass(frozen=True)
class Target:
    """One declared machine, in Incus terms."""

    name: str
    instance: str
    domain: str
    project: str
    trust: str
    ephemeral: bool
    type: str


def load(directory: Path) -> Resolved:
    """Resolve the infra of ``directory`` (roles are not checked: nothing is provisioned)."""
    from anklume.engine.pipeline import resolve  # noqa: PLC0415 -- the engine is heavy to import

    return resolve(directory, check_roles=False)


def all_targets(resolved: Resolved) -> dict[str, Target]:
    """Every declared machine by name (disabled domains included)."""
    return {
        m.name: Target(m.name, m.instance_name, d.name, d.incus_project, d.trust_level, m.ephemeral, m.type)
        for d in resolved.domains.values()
        for m in d.machines.values()
    }


def suggest(name: str, known: Iterable[str]) -> str:
    """Return a ``did you mean`` hint (empty when nothing is close).

    >>> suggest("pro-dv", ["pro-dev", "perso-web"])
    " (did you mean 'pro-dev'?)"
    >>> suggest("zzz", ["pro-dev"])
    ''
    """
    close = difflib.get_close_matches(name, list(known), n=3, cutoff=0.6)
    if not close:
        return ""
    return " (did you mean " + " or ".join(f"'{c}'" for c in close) + "?)"


def check_name(name: str, what: str) -> str:
    """Refuse a name that cannot be a domain or machine name (before any lookup).

    >>> check_name("pro-dev", "instance")
    'pro-dev'
    >>> check_name("--all", "instance")
    Traceback (most recent call last):
    ...
    anklume.errors.UsageError: invalid instance name '--all' (lowercase letters, digits and '-')
    """
    if not _NAME.match(name):
        msg = f"invalid {what} name {name!r} (lowercase letters, digits and '-')"
        raise UsageError(msg)
    return name


def find(resolved: Resolved, name: str) -> Target:
    """Return the machine called ``name`` (declared name or Incus instance name)."""
    check_name(name, "instance")
    targets = all_targets(resolved)
    if name in targets:
        return targets[name]
    for target in targets.values():
        if target.instance == name:
            return target
    msg = f"unknown instance '{name}'{suggest(name, targets)}; 'anklume instance list' shows the declared ones"
    raise UsageError(msg)


def check_domain(resolved: Resolved, name: str) -> str:
    """Return ``name`` when it is a declared domain, else a usage error with a hint."""
    check_name(name, "domain")
    if name not in resolved.domains:
        listed = ", ".join(sorted(resolved.domains)) or "none"
        msg = f"unknown domain '{name}'{suggest(name, resolved.domains)} (declared: {listed})"
        raise UsageError(msg)
    return name


def of_domain(resolved: Resolved, domain: str) -> list[Target]:
    """The machines of one declared domain, sorted by name."""
    check_domain(resolved, domain)
    return sorted((t for t in all_targets(resolved).values() if t.domain == domain), key=lambda t: t.name)


def select(resolved: Resolved, names: list[str], domain: str | None, *, every: bool) -> list[Target]:
    """The machines named, or of ``--domain``, or all of them (``--all``); exactly one way."""
    ways = sum([bool(names), domain is not None, every])
    if ways != 1:
        msg = "name instances, or give --domain D, or --all (exactly one of them)"
        raise UsageError(msg)
    if every:
        return sorted(all_targets(resolved).values(), key=lambda t: (t.domain, t.name))
    if domain is not None:
        return of_domain(resolved, domain)
    return [find(resolved, n) for n in dict.fromkeys(names)]
