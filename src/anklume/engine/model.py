"""The one model of the infra.yml format.

Validation, defaults, the JSON Schema (``anklume schema``) and the format
reference all come from these classes. Models are frozen and strict: a
value of the wrong type is an error, never silently converted, and an
unknown key is an error (with a "did you mean" added by the validate stage).
Cross-references between parts (a policy naming a machine, a machine naming
a profile) are checked by the validate stage, which sees the whole document.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from anklume.engine.model_portal import FilePolicy, FilePortal
from anklume.vocab import DEFAULT_IMAGE, DEFAULT_POOL

NAME = r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$"
PROJECT = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
IPV4 = r"^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$"
ABS_PATH = r"^/[^\x00-\x1f\x7f]*$"
CRON = r"^[^\s\x00-\x1f\x7f]+([ \t]+[^\s\x00-\x1f\x7f]+){4}$"
DURATION = r"^\d+[dhm]$"
#: One line of free text: no control character, no line or paragraph separator.
TEXT = r"^[^\x00-\x1f\x7f-\x9f\u2028\u2029]*$"
#: Any text but NUL (config values may span lines: cloud-init, raw.lxc).
NO_NUL = r"^[^\x00]*$"

DomainName = Annotated[str, StringConstraints(pattern=NAME, max_length=11)]
MachineName = Annotated[str, StringConstraints(pattern=NAME, max_length=59)]
VolumeName = Annotated[str, StringConstraints(pattern=NAME, max_length=48)]
ProfileName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]([a-z0-9_.-]*[a-z0-9])?$", max_length=63)]
ConfigKey = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=200)]
DeviceName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=64)]
RoleName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$", max_length=100)]
ImageRef = Annotated[
    str,
    StringConstraints(pattern=r"^([a-z0-9][a-z0-9-]*:)?[A-Za-z0-9][A-Za-z0-9._/-]*$", max_length=200),
]
AbsPath = Annotated[str, StringConstraints(pattern=ABS_PATH, max_length=4096)]
IPv4 = Annotated[str, StringConstraints(pattern=IPV4)]
Text = Annotated[str, StringConstraints(pattern=TEXT, max_length=1000)]
ConfigValue = Annotated[
    Annotated[str, StringConstraints(pattern=NO_NUL)] | bool | int | float, Field(union_mode="left_to_right")
]
Endpoint = Annotated[str, StringConstraints(pattern=NAME, max_length=59)]
ProjectName = Annotated[str, StringConstraints(pattern=PROJECT, min_length=1, max_length=100)]

#: What each pattern of the model means, for error messages.
PATTERN_HELP = {
    NAME: "must be lowercase letters, digits and '-', not starting or ending with '-'",
    PROJECT: "must be letters, digits, '_', '.' and '-', starting with a letter or digit",
    TEXT: "must be one line of text without control characters",
    NO_NUL: "must not contain a NUL character",
    IPV4: "must be an IPv4 address",
    ABS_PATH: "must be an absolute path without control characters",
    CRON: "must be a cron expression of 5 fields",
    DURATION: "must be a duration such as 30d, 24h or 60m",
}

TrustLevel = Literal["admin", "trusted", "semi-trusted", "untrusted", "disposable"]


class Model(BaseModel):
    """Base of every model: frozen, strict, no unknown keys, finite numbers only."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, populate_by_name=True, allow_inf_nan=False)


class Addressing(Model):
    """Zone addressing: the second octet depends on the trust level."""

    base_octet: Literal[10] = Field(10, description="First octet of every domain subnet; must be 10.")
    zone_base: Annotated[int, Field(ge=0, le=245)] = Field(100, description="Second octet of the admin zone.")
    zone_step: Annotated[int, Field(gt=0)] = Field(10, description="Distance between two trust zones.")


class HostReserve(Model):
    """What resource_policy keeps for the host."""

    cpu: Annotated[str, StringConstraints(pattern=r"^\d+(\.\d+)?%$")] | Annotated[float, Field(gt=0)] = Field(
        "20%", description='Percentage ("20%") or number of CPUs kept for the host.'
    )
    memory: (
        Annotated[str, StringConstraints(pattern=r"^\d+(\.\d+)?(%|[KMGT]i?B?)$")] | Annotated[float, Field(gt=0)]
    ) = Field("20%", description='Percentage ("20%"), size ("4GiB") or bytes kept for the host.')


class ResourcePolicy(Model):
    """Automatic CPU and memory limits for machines that set none."""

    host_reserve: HostReserve = HostReserve()
    mode: Literal["proportional", "equal"] = Field("proportional", description="Share by weight or equally.")
    cpu_mode: Literal["allowance", "count"] = Field(
        "allowance", description="limits.cpu.allowance (percent) or limits.cpu (count)."
    )
    memory_enforce: Literal["soft", "hard"] = "soft"
    overcommit: bool = Field(False, description="Allow declared limits to exceed what the host offers.")


class Global(Model):
    """Settings that apply to the whole infrastructure."""

    addressing: Addressing | None = Field(None, description="Zone addressing (recommended); absent: legacy mode.")
    base_subnet: Annotated[str, StringConstraints(pattern=r"^10\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$")] = Field(
        "10.100", description="Legacy mode only: subnets are <base_subnet>.<subnet_id>.0/24."
    )
    default_os_image: ImageRef = Field(DEFAULT_IMAGE, description="Image of machines that name none.")
    default_connection: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]+$")] | None = None
    default_user: Annotated[str, StringConstraints(pattern=r"^[a-z_][a-z0-9_-]*$")] | None = None
    gpu_policy: Literal["exclusive", "shared"] = "exclusive"
    firewall_mode: Literal["host", "vm"] = "host"
    host_access: Literal["open", "policies"] = Field(
        "open", description="open: the host reaches every domain; policies: only through policies 'from: host'."
    )
    ai_access_policy: Literal["open", "exclusive"] = "open"
    ai_access_default: DomainName | None = None
    nesting_prefix: bool = True
    resource_policy: ResourcePolicy | bool | None = None
    shared_volumes_base: AbsPath = "/srv/anklume/shares"
    persistent_data_base: AbsPath = "/srv/anklume/data"
    package_proxy: bool = Field(False, description="Default of every domain's package_proxy.")


class Profile(Model):
    """An Incus profile in the domain's project."""

    devices: dict[DeviceName, dict[ConfigKey, ConfigValue]] | None = None
    config: dict[ConfigKey, ConfigValue] | None = None


class StorageVolume(Model):
    """A custom storage volume attached to the machine."""

    pool: ProfileName = DEFAULT_POOL
    size: Annotated[str, StringConstraints(pattern=r"^\d+(\.\d+)?[KMGTP]i?B$")] | None = None
    path: AbsPath | None = None


class PersistentData(Model):
    """A host directory kept across rebuilds, mounted at ``path``."""

    path: AbsPath
    readonly: bool = False


class Machine(Model):
    """An instance (LXC container or KVM virtual machine)."""

    description: Text = ""
    type: Literal["lxc", "vm"] = "lxc"
    ip: IPv4 | None = None
    os_image: ImageRef | None = None
    ephemeral: bool | None = Field(None, description="Default: the domain's. false = protected from deletion.")
    gpu: bool | None = None
    profiles: list[ProfileName] | None = None
    config: dict[ConfigKey, ConfigValue] | None = None
    devices: dict[DeviceName, dict[ConfigKey, ConfigValue]] | None = None
    storage_volumes: dict[VolumeName, StorageVolume] | None = None
    persistent_data: dict[VolumeName, PersistentData] | None = None
    roles: list[RoleName] | None = None
    weight: Annotated[int, Field(ge=1)] = 1
    boot_autostart: bool | None = None
    boot_priority: Annotated[int, Field(ge=0, le=100)] | None = None
    snapshots_schedule: Annotated[str, StringConstraints(pattern=CRON)] | None = None
    snapshots_expiry: Annotated[str, StringConstraints(pattern=DURATION)] | None = None


class Domain(Model):
    """An isolated subnet, an Incus project and its machines."""

    description: Text = ""
    enabled: bool = True
    subnet_id: Annotated[int, Field(ge=0, le=254)] | None = None
    ephemeral: bool = False
    trust_level: TrustLevel | None = Field(None, description="Default semi-trusted.")
    ai_provider: Literal["local", "cloud", "local-first"] = "local"
    ai_sanitize: bool | Literal["always"] | None = None
    nat: bool = Field(True, description="false: the domain's bridge gets no NAT (no route out).")
    package_proxy: bool | None = Field(
        None, description="true: its instances use the host's package proxy (apt, pip, npm); default: global's."
    )
    profiles: dict[ProfileName, Profile] | None = None
    machines: dict[MachineName, Machine] | None = None
    file_portal: FilePortal | None = Field(
        None, description="What 'anklume portal copy' may do here (absent: nothing)."
    )


class Policy(Model):
    """An allow rule between domains, machines or the host."""

    description: Text = ""
    from_: Endpoint = Field(alias="from", description="A domain, a machine or host.")
    to: Endpoint = Field(description="A domain, a machine or host.")
    ports: Annotated[list[Annotated[int, Field(ge=1, le=65535)]], Field(min_length=1)] | Literal["all"] = "all"
    protocol: Literal["tcp", "udp"] = "tcp"
    bidirectional: bool = False


class SharedVolume(Model):
    """A host directory shared with several domains or machines."""

    source: AbsPath | None = None
    path: AbsPath | None = None
    shift: bool = True
    propagate: bool = False
    consumers: dict[Endpoint, Literal["ro", "rw"]] = Field(default_factory=dict)


class Infra(Model):
    """The whole infra.yml (or infra/ directory, merged)."""

    project_name: ProjectName
    global_: Global = Field(alias="global")
    domains: dict[DomainName, Domain]
    network_policies: list[Policy] | None = None
    shared_volumes: dict[VolumeName, SharedVolume] | None = None
    file_policies: list[FilePolicy] | None = Field(None, description="Which domains may send files to which.")
