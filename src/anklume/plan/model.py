"""Declared and live state as the planners see them.

The declared side is built by :mod:`anklume.plan.declare` from the variables
``anklume sync`` writes; the live side is the recorded ``incus ... --format
json`` output, kept as plain mappings (only the keys the planners read).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from anklume.vocab import DEFAULT_BACKUP_DIR, DEFAULT_PROFILE, INFRA

Config = Mapping[str, str]
Devices = Mapping[str, Mapping[str, str]]
JsonObj = Mapping[str, Any]


@dataclass(frozen=True)
class Profile:
    """An Incus profile in a domain's project (``default`` included)."""

    name: str
    project: str
    domain: str
    config: Config = field(default_factory=dict)
    devices: Devices = field(default_factory=dict)
    description: str = ""


@dataclass(frozen=True)
class Volume:
    """A custom storage volume an instance mounts."""

    pool: str
    name: str
    size: str = ""


@dataclass(frozen=True)
class Instance:
    """One declared machine, with the Incus names already prefixed."""

    name: str
    project: str
    domain: str
    type: str
    image: str
    profiles: tuple[str, ...] = (DEFAULT_PROFILE,)
    config: Config = field(default_factory=dict)
    devices: Devices = field(default_factory=dict)
    description: str = ""
    volumes: tuple[Volume, ...] = ()
    host_dirs: Mapping[str, str] = field(default_factory=dict)
    """Device name → host directory that must exist (sv-/pd- disks)."""


@dataclass(frozen=True)
class Domain:
    """One enabled domain: its project, bridge and profiles."""

    name: str
    project: str
    network: str
    project_config: Config
    network_config: Config
    profiles: Mapping[str, Profile]
    description: str = ""


@dataclass(frozen=True)
class Declared:
    """Everything the infra declares, in Incus terms."""

    domains: tuple[Domain, ...] = ()
    instances: tuple[Instance, ...] = ()

    def domain(self, name: str) -> Domain | None:
        """Return the domain called ``name``, if declared."""
        return next((d for d in self.domains if d.name == name), None)


@dataclass(frozen=True)
class Live:
    """The live state read once per resource kind (``--format json`` lists)."""

    projects: Sequence[JsonObj] = ()
    networks: Sequence[JsonObj] = ()
    profiles: Sequence[JsonObj] = ()
    instances: Sequence[JsonObj] = ()
    images: Sequence[JsonObj] = ()

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Live:
        """Build from ``{projects: [...], networks: [...], ...}`` (missing kinds empty)."""
        return cls(**{k: tuple(data.get(k) or ()) for k in cls.__dataclass_fields__})


@dataclass(frozen=True)
class PlanOptions:
    """What the run may do and which domains it covers.

    >>> o = PlanOptions(selected=frozenset({"pro"}), disabled=frozenset({"old"}))
    >>> o.in_scope("pro"), o.in_scope("perso"), o.in_scope("old")
    (True, False, False)
    >>> PlanOptions().in_scope("anything")
    True
    """

    prune: bool = False
    recreate: bool = False
    adopt: bool = False
    selected: frozenset[str] = frozenset()
    disabled: frozenset[str] = frozenset()
    infra: str = ""
    """``project_name`` of the infra: owned resources of another infra are never touched."""
    backup_dir: str = DEFAULT_BACKUP_DIR
    """Where a recreate exports the instance first."""
    stamp: str = ""
    """Time stamp of the run, in the names of the recreate exports."""

    def same_infra(self, config: Mapping[str, Any] | None) -> bool:
        """Say whether an owned resource belongs to this infra (unmarked ones do).

        >>> o = PlanOptions(infra="lab")
        >>> o.same_infra({INFRA: "lab"}), o.same_infra({INFRA: "demo"}), o.same_infra({})
        (True, False, True)
        """
        theirs = str((config or {}).get(INFRA, ""))
        return not self.infra or not theirs or theirs == self.infra

    def in_scope(self, domain: str) -> bool:
        """Say whether resources of ``domain`` may be planned for."""
        if domain in self.disabled:
            return False
        return not self.selected or domain in self.selected

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> PlanOptions:
        """Build from the playbook's variables (``prune``, ``recreate``, ``domains``...)."""
        return cls(
            prune=bool(data.get("prune", False)),
            recreate=bool(data.get("recreate", False)),
            adopt=bool(data.get("adopt", False)),
            selected=frozenset(data.get("domains") or ()),
            disabled=frozenset(data.get("disabled") or ()),
            infra=str(data.get("infra") or ""),
            backup_dir=str(data.get("backup_dir") or DEFAULT_BACKUP_DIR),
            stamp=str(data.get("stamp") or ""),
        )
