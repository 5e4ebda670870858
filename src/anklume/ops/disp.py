"""Disposable instances inside a domain: its project, bridge, profile, policies and trust colour.

A disposable is an ephemeral instance launched in the domain's Incus
project with the project's ``default`` profile, which holds the domain's
NIC on its bridge: it gets an address of the domain's subnet from DHCP, so
the host table (which matches the bridge and the subnet) and the domain's
network policies apply to it exactly as to the declared machines. It
carries ``user.anklume.disposable=<pid of the CLI>`` plus the infra and
domain keys, and no ``user.anklume.managed``: an apply never plans for it.
It is deleted when the command or the shell ends, and Incus deletes it when
it stops; a leftover of a killed CLI is found by :func:`leftovers`.
"""

from __future__ import annotations

import os
import re
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from anklume.engine.resolved import ResolvedDomain
from anklume.errors import AnklumeError, UsageError
from anklume.incus.run import query, run
from anklume.ops.live import DISPOSABLE, all_instances, config, ipv4, of_infra
from anklume.ops.targets import Target
from anklume.vocab import DOMAIN, INFRA

if TYPE_CHECKING:
    from anklume.doctor import Check


@dataclass(frozen=True)
class Disposable:
    """One live disposable."""

    name: str
    project: str
    domain: str
    pid: int
    status: str
    ip: str

    @property
    def orphaned(self) -> bool:
        """True when the CLI that opened it is gone (a leftover)."""
        return not pid_alive(self.pid)


def pid_alive(pid: int) -> bool:
    """Say whether a process ``pid`` exists on this host.

    >>> pid_alive(os.getpid()), pid_alive(0)
    (True, False)
    """
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def new_name(domain: str) -> str:
    """A fresh instance name ``<domain>-disp-<6 hex>`` (at most 63 characters).

    >>> n = new_name("perso"); n.startswith("perso-disp-") and len(n) == len("perso-disp-") + 6
    True
    """
    return f"{domain[:50]}-disp-{secrets.token_hex(3)}"


def launch_argv(dom: ResolvedDomain, infra: str, image: str, name: str, pid: int) -> list[str]:
    """The ``incus launch`` argv of a disposable (its project comes from ``run(project=…)``).

    >>> from types import SimpleNamespace as S
    >>> launch_argv(S(name="perso"), "lab", "anklume/debian-12", "perso-disp-abc123", 42)[:4]
    ['launch', 'anklume/debian-12', 'perso-disp-abc123', '--ephemeral']
    """
    return [
        "launch",
        image,
        name,
        "--ephemeral",
        "--config",
        f"{DISPOSABLE}={pid}",
        "--config",
        f"{INFRA}={infra}",
        "--config",
        f"{DOMAIN}={dom.name}",
    ]


_IMAGE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:/@+-]{0,254}$")


def check_image(image: str) -> str:
    """Refuse an image reference that is not one (it would reach incus as an option).

    >>> check_image("anklume/debian-12"), check_image("images:debian/13")
    ('anklume/debian-12', 'images:debian/13')
    >>> check_image("--vm")
    Traceback (most recent call last):
    ...
    anklume.errors.UsageError: invalid image '--vm'
    """
    if not _IMAGE.match(image):
        msg = f"invalid image {image!r}"
        raise UsageError(msg)
    return image


def launch(dom: ResolvedDomain, infra: str, image: str) -> Target:
    """Launch a disposable in the domain and return it (running)."""
    name = new_name(dom.name)
    run(launch_argv(dom, infra, check_image(image), name, os.getpid()), project=dom.incus_project)
    return Target(name, name, dom.name, dom.incus_project, dom.trust_level, True, "container")


def wait_network(target: Target, timeout: float = 30.0) -> str:
    """Wait until the disposable has an IPv4 address on eth0; return it ('' on timeout)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = query(["query", f"/1.0/instances/{target.instance}?recursion=1&project={target.project}"])
        address = ipv4(state if isinstance(state, dict) else None)
        if address:
            return address
        time.sleep(0.2)
    return ""


def remove(target: Target) -> None:
    """Delete a disposable (never anything without the disposable mark)."""
    run(["delete", "--force", target.instance], project=target.project, check=False)


def live(infra: str) -> list[Disposable]:
    """The disposables of this infra on this host."""
    found = []
    for inst in all_instances():
        mark = str(config(inst).get(DISPOSABLE, ""))
        if not mark or not of_infra(inst, infra):
            continue
        found.append(
            Disposable(
                str(inst["name"]),
                str(inst.get("project", "default")),
                str(config(inst).get(DOMAIN, "")),
                int(mark) if mark.isdigit() else 0,
                str(inst.get("status", "")).lower(),
                ipv4(inst),
            )
        )
    return sorted(found, key=lambda d: (d.domain, d.name))


def cleanup(found: Sequence[Disposable], *, every: bool = False) -> list[Disposable]:
    """Delete leftovers (or every disposable with ``every``); return those deleted."""
    doomed = [d for d in found if every or d.orphaned]
    for d in doomed:
        run(["delete", "--force", d.name], project=d.project, check=False)
    return doomed


def leftovers_anywhere() -> list[Disposable]:
    """Disposables of any infra on this host whose anklume command is gone."""
    found = []
    for inst in all_instances():
        mark = str(config(inst).get(DISPOSABLE, ""))
        if mark:
            pid = int(mark) if mark.isdigit() else 0
            item = Disposable(str(inst["name"]), str(inst.get("project", "default")), "", pid, "", "")
            if item.orphaned:
                found.append(item)
    return found


def doctor_check() -> Check:
    """The leftover check of ``anklume doctor``: disposables whose anklume command is gone."""
    from anklume.doctor import Check  # noqa: PLC0415 -- doctor imports this module lazily

    try:
        gone = leftovers_anywhere()
    except AnklumeError as exc:
        return Check("disposables", "warn", f"not checked: {str(exc).splitlines()[0]}")
    if not gone:
        return Check("disposables", "ok", "no leftover disposable")
    listed = ", ".join(f"{d.project}/{d.name}" for d in gone[:5])
    return Check(
        "disposables",
        "warn",
        f"{len(gone)} leftover disposable(s): {listed}",
        "anklume -C <infra dir> disp --cleanup (or anklume destroy)",
    )
