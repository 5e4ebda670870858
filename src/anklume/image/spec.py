"""What an anklume base image is: release, alias, packages and metadata.

Pure helpers only; every value that later reaches a command line is
validated here.
"""

from __future__ import annotations

import platform
import re
from dataclasses import dataclass

from anklume.errors import UsageError

#: Debian releases the builder knows, with their version number.
RELEASES: dict[str, str] = {"bookworm": "12", "trixie": "13"}

#: Installed in the image (no recommends): boot, networking, Python for
#: Ansible (with python3-apt for its apt module) and the base_system role's
#: packages, so provisioning works without internet.
PACKAGES: tuple[str, ...] = (
    "systemd-sysv",
    "udev",
    "dbus",
    "iproute2",
    "python3",
    "python3-apt",
    "nftables",
    "iputils-ping",
    "netcat-openbsd",
    "ca-certificates",
    "procps",
    "sudo",
    "less",
)

#: Incus architecture names for the machine names Python reports.
_ARCHITECTURES = {"amd64": "x86_64", "arm64": "aarch64", "x86_64": "x86_64", "aarch64": "aarch64"}

_ALIAS = re.compile(r"[a-z0-9][a-z0-9._-]{0,62}(/[a-z0-9][a-z0-9._-]{0,62}){0,3}")
_MIRROR = re.compile(r"(https?|file)://[A-Za-z0-9._~:/?#@!$&()*+,;=%\[\]-]+")


def default_alias(release: str) -> str:
    """Return the alias an image of ``release`` gets by default.

    >>> default_alias("bookworm")
    'anklume/debian-12'
    >>> default_alias("trixie")
    'anklume/debian-13'
    """
    return f"anklume/debian-{RELEASES[check_release(release)]}"


def check_release(release: str) -> str:
    """Return ``release`` when the builder knows it, else raise UsageError.

    >>> check_release("trixie")
    'trixie'
    >>> check_release("sid")
    Traceback (most recent call last):
    ...
    anklume.errors.UsageError: unknown release 'sid' (known: bookworm, trixie)
    """
    if release not in RELEASES:
        msg = f"unknown release {release!r} (known: {', '.join(RELEASES)})"
        raise UsageError(msg)
    return release


def check_alias(alias: str) -> str:
    """Return ``alias`` when it is a safe image alias, else raise UsageError.

    Lowercase letters, digits, ``.``, ``_``, ``-``, up to four ``/``-separated
    parts, each starting with a letter or digit.

    >>> check_alias("anklume/debian-12")
    'anklume/debian-12'
    >>> check_alias("--force")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    anklume.errors.UsageError: invalid image alias '--force' (lowercase letters, ...)
    """
    if not _ALIAS.fullmatch(alias):
        msg = f"invalid image alias {alias!r} (lowercase letters, digits, '.', '_', '-', '/'-separated parts)"
        raise UsageError(msg)
    return alias


def check_mirror(mirror: str) -> str:
    """Return ``mirror`` when it is a plain http(s) or file URL, else raise.

    >>> check_mirror("http://deb.debian.org/debian")
    'http://deb.debian.org/debian'
    >>> check_mirror("http://x/ y")
    Traceback (most recent call last):
    ...
    anklume.errors.UsageError: invalid mirror URL 'http://x/ y' (expected http://, https:// or file://)
    """
    if not _MIRROR.fullmatch(mirror):
        msg = f"invalid mirror URL {mirror!r} (expected http://, https:// or file://)"
        raise UsageError(msg)
    return mirror


def incus_architecture(machine: str | None = None) -> str:
    """Return the Incus architecture name of ``machine`` (default: this host).

    >>> incus_architecture("x86_64")
    'x86_64'
    >>> incus_architecture("arm64")
    'aarch64'
    """
    name = machine if machine is not None else platform.machine()
    return _ARCHITECTURES.get(name, name)


@dataclass(frozen=True)
class ImageSpec:
    """A validated build request."""

    release: str
    alias: str
    mirror: str

    @classmethod
    def make(cls, release: str, alias: str | None, mirror: str) -> ImageSpec:
        """Validate the parts and build a spec (default alias from the release).

        >>> ImageSpec.make("bookworm", None, "http://deb.debian.org/debian").alias
        'anklume/debian-12'
        """
        check_release(release)
        return cls(release, check_alias(alias or default_alias(release)), check_mirror(mirror))

    @property
    def version(self) -> str:
        """Debian version number of the release ("12")."""
        return RELEASES[self.release]


def metadata(spec: ImageSpec, *, architecture: str, created: int) -> dict[str, object]:
    """Return the content of the image's ``metadata.yaml``.

    >>> spec = ImageSpec.make("bookworm", None, "http://deb.debian.org/debian")
    >>> meta = metadata(spec, architecture="x86_64", created=1700000000)
    >>> meta["properties"]["release"], meta["architecture"]
    ('bookworm', 'x86_64')
    >>> sorted(meta["templates"])
    ['/etc/hostname', '/etc/hosts']
    """
    when = ["create", "copy"]
    return {
        "architecture": architecture,
        "creation_date": created,
        "properties": {
            "os": "debian",
            "release": spec.release,
            "version": spec.version,
            "architecture": architecture,
            "variant": "anklume",
            "description": f"Debian {spec.version} ({spec.release}) anklume base {architecture}",
        },
        "templates": {
            "/etc/hostname": {"when": when, "template": "hostname.tpl"},
            "/etc/hosts": {"when": when, "template": "hosts.tpl"},
        },
    }


#: Template files shipped in the metadata tarball (Incus renders them).
TEMPLATES: dict[str, str] = {
    "hostname.tpl": "{{ instance.name }}\n",
    "hosts.tpl": ("127.0.0.1 localhost\n127.0.1.1 {{ instance.name }}\n::1 localhost ip6-localhost ip6-loopback\n"),
}

#: systemd-networkd configuration: DHCP on eth0.
NETWORK_UNIT = "[Match]\nName=eth0\n\n[Network]\nDHCP=ipv4\n"
