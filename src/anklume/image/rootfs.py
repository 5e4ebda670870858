"""Build the root filesystem of the base image in a directory.

Each function is one build step; all run as root on the host. Nothing is
mounted into the chroot, so removing the build directory is always safe.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from anklume.image.command import command
from anklume.image.spec import NETWORK_UNIT, PACKAGES, ImageSpec

#: Keeps package scripts from starting services inside the chroot.
_POLICY_RC = "#!/bin/sh\nexit 101\n"


def debootstrap_argv(spec: ImageSpec, target: Path, cache: Path | None) -> list[str]:
    """Return the debootstrap command line for ``spec``.

    >>> spec = ImageSpec.make("bookworm", None, "http://deb.debian.org/debian")
    >>> debootstrap_argv(spec, Path("/t/rootfs"), Path("/c"))  # doctest: +NORMALIZE_WHITESPACE
    ['debootstrap', '--variant=minbase', '--cache-dir=/c', 'bookworm', '/t/rootfs',
     'http://deb.debian.org/debian']
    """
    cache_opt = [f"--cache-dir={cache}"] if cache is not None else []
    return ["debootstrap", "--variant=minbase", *cache_opt, spec.release, str(target), spec.mirror]


def install_argv(root: Path) -> list[str]:
    """Return the chroot command installing the image packages.

    >>> install_argv(Path("/r"))[:6]
    ['chroot', '/r', 'apt-get', 'install', '-y', '-q']
    >>> "python3-apt" in install_argv(Path("/r"))
    True
    """
    return ["chroot", str(root), "apt-get", "install", "-y", "-q", "--no-install-recommends", *PACKAGES]


def pack_argv(root: Path, tarball: Path) -> list[str]:
    """Return the tar command packing ``root`` into ``tarball`` (numeric owners).

    >>> pack_argv(Path("/w/rootfs"), Path("/w/rootfs.tar.gz"))
    ['tar', '--numeric-owner', '-C', '/w/rootfs', '-czf', '/w/rootfs.tar.gz', '.']
    """
    return ["tar", "--numeric-owner", "-C", str(root), "-czf", str(tarball), "."]


def bootstrap(spec: ImageSpec, root: Path, cache: Path | None) -> None:
    """Create a minimal Debian in ``root`` (reusing .debs in ``cache``)."""
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
    command("debootstrap", debootstrap_argv(spec, root, cache))


def install_packages(root: Path, cache: Path | None) -> None:
    """Install :data:`PACKAGES` in the chroot without starting services.

    Downloaded .debs are exchanged with ``cache`` so a rebuild downloads
    only what changed.
    """
    policy = root / "usr/sbin/policy-rc.d"
    policy.write_text(_POLICY_RC, encoding="utf-8")
    policy.chmod(0o755)
    archives = root / "var/cache/apt/archives"
    _copy_debs(cache, archives)
    try:
        command("apt-get update", ["chroot", str(root), "apt-get", "update", "-q"])
        command("apt-get install", install_argv(root))
    finally:
        policy.unlink(missing_ok=True)
    _copy_debs(archives, cache)


def _copy_debs(source: Path | None, dest: Path | None) -> None:
    if source is None or dest is None or not source.is_dir():
        return
    dest.mkdir(parents=True, exist_ok=True)
    for deb in source.glob("*.deb"):
        if not (dest / deb.name).exists():
            shutil.copy2(deb, dest / deb.name)


def configure(root: Path) -> None:
    """Enable DHCP on eth0 and strip what must differ per container."""
    unit = root / "etc/systemd/network/eth0.network"
    unit.parent.mkdir(parents=True, exist_ok=True)
    unit.write_text(NETWORK_UNIT, encoding="utf-8")
    command("enable networkd", ["chroot", str(root), "systemctl", "enable", "systemd-networkd"])
    # Each container must generate its own machine id at first boot.
    (root / "etc/machine-id").write_text("", encoding="utf-8")
    dbus_id = root / "var/lib/dbus/machine-id"
    if dbus_id.is_file() and not dbus_id.is_symlink():
        dbus_id.unlink()
    # debootstrap copies the build host's resolver and name: not ours to ship.
    (root / "etc/resolv.conf").unlink(missing_ok=True)
    (root / "etc/resolv.conf").write_text("", encoding="utf-8")
    (root / "etc/hostname").write_text("localhost\n", encoding="utf-8")


def clean(root: Path) -> None:
    """Remove apt caches, package lists, logs and temporary files from the rootfs."""
    command("apt-get clean", ["chroot", str(root), "apt-get", "clean"])
    for pattern in ("var/lib/apt/lists/*", "var/cache/apt/*.bin", "var/log/*.log", "var/log/apt/*"):
        for path in root.glob(pattern):
            if (path.is_file() or path.is_symlink()) and path.name != "lock":
                path.unlink()
    for pattern in ("tmp/*", "var/tmp/*"):
        for path in root.glob(pattern):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
