"""The enriched infra: every default applied, every address computed.

This is what the render stage turns into Ansible variables and what other
features (network rules, console, status) read. Plain frozen dataclasses:
built once per run, cheap to create for thousands of machines.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Devices = dict[str, dict[str, str]]


@dataclass(frozen=True, slots=True)
class ResolvedMachine:
    """A machine with its domain's defaults applied."""

    name: str
    domain: str
    instance_name: str
    type: str
    description: str
    ip: str | None
    os_image: str
    ephemeral: bool
    gpu: bool | None
    profiles: list[str] | None
    config: dict[str, str] | None
    devices: Devices | None
    storage_volumes: dict[str, dict[str, Any]] | None
    roles: list[str] | None
    weight: int
    boot_autostart: bool | None
    boot_priority: int | None
    snapshots_schedule: str | None
    snapshots_expiry: str | None
    auto_added: bool = False


@dataclass(frozen=True, slots=True)
class ResolvedDomain:
    """A domain with its subnet and Incus names."""

    name: str
    description: str
    enabled: bool
    ephemeral: bool
    trust_level: str
    trust_level_declared: bool
    ai_provider: str
    ai_sanitize: bool | str
    subnet_id: int
    subnet: str
    gateway: str
    incus_project: str
    network_name: str
    nat: bool
    profiles: dict[str, dict[str, Any]] | None
    machines: dict[str, ResolvedMachine]
    package_proxy: bool = False


@dataclass(frozen=True, slots=True)
class ResolvedPolicy:
    """An allow rule; endpoints are domain, machine or ``host`` names."""

    description: str
    source: str
    target: str
    ports: list[int] | str
    protocol: str
    bidirectional: bool
    auto_added: bool = False


@dataclass(frozen=True, slots=True)
class Resolved:
    """The whole enriched infra."""

    project_name: str
    addressing: dict[str, int] | None
    base_subnet: str | None
    default_os_image: str
    default_connection: str | None
    default_user: str | None
    firewall_mode: str
    nesting_prefix: str
    domains: dict[str, ResolvedDomain]
    policies: list[ResolvedPolicy]
    raw_policies: list[dict[str, Any]] | None
    warnings: list[str] = field(default_factory=list)
    host_access: str = "open"

    def machines(self) -> dict[str, ResolvedMachine]:
        """Every machine of every domain, by name."""
        return {m.name: m for d in self.domains.values() for m in d.machines.values()}

    def images(self) -> list[str]:
        """Sorted unique images of the machines of enabled domains."""
        return sorted({m.os_image for d in self.domains.values() for m in d.machines.values()})
