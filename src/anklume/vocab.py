"""The words anklume and Incus share, defined once.

The ground floor of the package: the engine (what ``anklume sync`` derives
and writes) and the planners (what ``domain apply`` derives from the
generated files and compares with Incus) both speak these words, and this
module imports nothing of anklume. Ownership keys, how a value is spelt in
Incus, the defaults a declaration may leave out, and the names anklume gives
the devices it derives.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

# Ownership: the keys anklume writes on every resource it creates.
MANAGED = "user.anklume.managed"
"""``true`` on every project, bridge, profile and instance anklume manages."""
DOMAIN = "user.anklume.domain"
"""The domain a resource belongs to."""
INFRA = "user.anklume.infra"
"""The ``project_name`` of the infra that owns the resource."""
IMAGE = "user.anklume.image"
"""The image an instance was created from (an image change needs a recreate)."""
PROVISIONED = "user.anklume.provisioned"
"""The fingerprint of the last successful provisioning of an instance."""
GOLDEN_PREFIX = "user.anklume.golden."
"""Keys ``anklume golden create`` sets on a template (its snapshot name, date): never converged away."""
PROTECT = "security.protection.delete"
"""Incus's own delete protection, set on every instance with ``ephemeral: false``."""

# Defaults a declaration may leave out.
DEFAULT_IMAGE = "images:debian/13"
"""Image of machines that name none and of infras without ``default_os_image``."""
DEFAULT_POOL = "default"
"""Storage pool of root disks and of storage volumes that name none."""
DEFAULT_PROFILE = "default"
"""The profile every Incus project has; machines that list no profile get it."""
DEFAULT_BACKUP_DIR = "/var/lib/anklume/backups"
"""Where a recreate exports an instance before deleting it."""

# Device names anklume derives.
NIC = "eth0"
"""The domain NIC: in every domain's default profile, and per machine with a static IP."""
SHARED_PREFIX = "sv-"
"""Disk of a shared volume: ``sv-<volume>``."""
PERSISTENT_PREFIX = "pd-"
"""Disk of a machine's persistent data: ``pd-<volume>``."""
VOLUME_PREFIX = "vol-"
"""Disk of a custom storage volume: ``vol-<volume>``."""
HOST_DIR_PREFIXES = (SHARED_PREFIX, PERSISTENT_PREFIX)
"""Disks whose source is a host directory that apply creates when missing."""

# The directories ``anklume sync`` writes.
VARS_DIRS = ("group_vars", "host_vars")
"""Variable directories Ansible reads next to the inventory."""
GENERATED_DIRS = ("inventory", *VARS_DIRS)
"""Every directory of generated files."""


def text(value: object) -> str:
    """Spell a YAML value as Incus stores it (Incus keeps every value as a string).

    >>> text(True), text(False), text(3), text(2.5), text("x"), text(None)
    ('true', 'false', '3', '2.5', 'x', '')
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def owned(config: Mapping[str, Any] | None) -> bool:
    """Say whether a resource's config carries anklume's ownership mark.

    >>> owned({MANAGED: "true"}), owned({}), owned(None)
    (True, False, False)
    """
    return str((config or {}).get(MANAGED, "")).lower() == "true"


def ownership(domain: str, infra: str = "") -> dict[str, str]:
    """Return the ownership keys of a resource of ``domain`` (of the infra ``infra``).

    >>> ownership("pro")
    {'user.anklume.managed': 'true', 'user.anklume.domain': 'pro'}
    >>> ownership("pro", "lab")[INFRA]
    'lab'
    """
    keys = {MANAGED: "true", DOMAIN: domain}
    if infra:
        keys[INFRA] = infra
    return keys


def nic(network: str, ip: str | None = None, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Return the ``eth0`` device on ``network``: MAC and IPv4 filtering on, ``ip`` pinned when given.

    ``extra`` (a machine's own ``eth0`` keys) is laid over the defaults; the
    address always wins, so a declared IP is the one the bridge filters on.

    >>> nic("net-pro")["security.ipv4_filtering"]
    'true'
    >>> nic("net-pro", "10.1.0.5", {"mtu": "1400"})["ipv4.address"], nic("net-pro", "10.1.0.5", {"mtu": "1400"})["mtu"]
    ('10.1.0.5', '1400')
    """
    device = {
        "type": "nic",
        "network": network,
        "name": NIC,
        "security.mac_filtering": "true",
        "security.ipv4_filtering": "true",
    }
    device.update(extra or {})
    if ip is not None:
        device["ipv4.address"] = str(ipaddress.IPv4Address(ip))
    return device


def shared_device(volume: str) -> str:
    """Return the device name of shared volume ``volume``.

    >>> shared_device("docs")
    'sv-docs'
    """
    return f"{SHARED_PREFIX}{volume}"


def persistent_device(volume: str) -> str:
    """Return the device name of persistent data ``volume``.

    >>> persistent_device("db")
    'pd-db'
    """
    return f"{PERSISTENT_PREFIX}{volume}"


def volume_device(volume: str) -> str:
    """Return the device name of storage volume ``volume``.

    >>> volume_device("data")
    'vol-data'
    """
    return f"{VOLUME_PREFIX}{volume}"


def volume_name(instance: str, volume: str) -> str:
    """Return the Incus name of ``instance``'s storage volume ``volume``.

    >>> volume_name("pro-db", "data")
    'pro-db-data'
    """
    return f"{instance}-{volume}"


def volume_path(volume: str) -> str:
    """Return where a storage volume is mounted when its declaration names no path.

    >>> volume_path("data")
    '/srv/data'
    """
    return f"/srv/{volume}"
