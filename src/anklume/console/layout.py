"""The console layout: which windows (domains) and panes (machines) to show.

A small pure model built from the engine's resolved infra. It knows nothing
about tmux or Incus: :func:`layout_from` reads the declared domains,
:func:`running_only` keeps the machines that run, :func:`describe` renders
the layout as text for ``anklume console --dry-run``.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from typing import Protocol

from anklume.console.colours import colours_for
from anklume.errors import UsageError

# Incus instance and project names (with an optional NNN- nesting prefix).
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,62}$")


class MachineLike(Protocol):
    """What the console reads from a resolved machine."""

    @property
    def instance_name(self) -> str: ...


class DomainLike(Protocol):
    """What the console reads from a resolved domain."""

    @property
    def trust_level(self) -> str: ...
    @property
    def enabled(self) -> bool: ...
    @property
    def incus_project(self) -> str: ...
    @property
    def machines(self) -> Mapping[str, MachineLike]: ...


class ResolvedLike(Protocol):
    """What the console reads from the resolved infra."""

    @property
    def domains(self) -> Mapping[str, DomainLike]: ...


def _check(kind: str, value: str) -> None:
    if not _NAME.match(value):
        msg = f"invalid {kind} name {value!r} for the console"
        raise ValueError(msg)


@dataclass(frozen=True)
class MachinePane:
    """One pane: a machine's shell."""

    name: str
    incus_name: str
    project: str

    def __post_init__(self) -> None:
        _check("machine", self.name)
        _check("instance", self.incus_name)
        _check("project", self.project)


@dataclass(frozen=True)
class DomainPanes:
    """One window: a domain, its trust level and its machines' panes."""

    name: str
    trust_level: str
    machines: tuple[MachinePane, ...] = ()

    def __post_init__(self) -> None:
        _check("domain", self.name)
        colours_for(self.trust_level)


@dataclass(frozen=True)
class Layout:
    """The whole console: one window per domain, in declaration order."""

    domains: tuple[DomainPanes, ...] = ()


def label(domain: str, machine: str) -> str:
    """Return the border label of a pane.

    >>> label("pro", "web")
    'pro/web'
    """
    return f"{domain}/{machine}"


def layout_from(resolved: ResolvedLike, *, domain: str | None = None) -> Layout:
    """Build the layout of every enabled domain (or only ``domain``) of the resolved infra.

    Raises :class:`UsageError` when ``domain`` is not an enabled declared domain.
    """
    enabled = {name: d for name, d in resolved.domains.items() if d.enabled}
    if domain is not None:
        if domain not in enabled:
            known = ", ".join(enabled) or "none"
            msg = f"no enabled domain named {domain!r} (enabled: {known})"
            raise UsageError(msg)
        enabled = {domain: enabled[domain]}
    return Layout(
        tuple(
            DomainPanes(
                name,
                str(d.trust_level),
                tuple(MachinePane(mname, m.instance_name, d.incus_project) for mname, m in d.machines.items()),
            )
            for name, d in enabled.items()
        )
    )


def running_only(layout: Layout, running: Collection[tuple[str, str]]) -> Layout:
    """Keep the machines whose ``(project, instance)`` is in ``running``; keep every domain.

    >>> lay = Layout((DomainPanes("pro", "trusted", (
    ...     MachinePane("web", "web", "pro"), MachinePane("db", "db", "pro"))),))
    >>> [m.name for m in running_only(lay, {("pro", "db")}).domains[0].machines]
    ['db']
    """
    return Layout(
        tuple(
            replace(d, machines=tuple(m for m in d.machines if (m.project, m.incus_name) in running))
            for d in layout.domains
        )
    )


def describe(layout: Layout, *, state: str) -> list[str]:
    """Render the layout as text lines; ``state`` marks every machine (``running``, ``declared``).

    >>> lay = Layout((DomainPanes("pro", "trusted", (MachinePane("web", "web", "pro"),)),
    ...               DomainPanes("lab", "disposable")))
    >>> for line in describe(lay, state="declared"):
    ...     print(line)
    window pro  (trusted, green)
      pane pro/web  instance web in project pro  [declared]
    window lab  (disposable, magenta)
      (no machine: placeholder pane)
    """
    lines: list[str] = []
    for d in layout.domains:
        lines.append(f"window {d.name}  ({d.trust_level}, {colours_for(d.trust_level).name})")
        lines.extend(
            f"  pane {label(d.name, m.name)}  instance {m.incus_name} in project {m.project}  [{state}]"
            for m in d.machines
        )
        if not d.machines:
            lines.append("  (no machine: placeholder pane)")
    return lines
