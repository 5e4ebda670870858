"""``anklume destroy``: remove what one infra owns, and nothing else.

A resource belongs to this infra when it carries ``user.anklume.managed=true``
and ``user.anklume.infra=<project_name>`` (disposables: the disposable mark
and the same infra key). Images, storage volumes and the host directories
of shared volumes and persistent data are never removed: they hold data or
are shared with other infras. Order: instances, profiles, projects, bridges,
then (when the whole infra goes) its host firewall table, boot rules file
and boot unit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from anklume.incus.run import query, run
from anklume.ops.live import DISPOSABLE, JsonObj, all_instances, config, is_protected
from anklume.vocab import DOMAIN, INFRA, owned


@dataclass(frozen=True)
class Doomed:
    """One Incus resource destroy removes."""

    kind: str
    name: str
    project: str = "default"
    domain: str = ""

    def __str__(self) -> str:
        where = f"{self.project}/" if self.kind in ("instance", "profile") else ""
        return f"{self.kind} {where}{self.name}"


@dataclass(frozen=True)
class Survey:
    """What destroy removes and what it keeps."""

    instances: list[Doomed] = field(default_factory=list)
    protected: list[Doomed] = field(default_factory=list)
    profiles: list[Doomed] = field(default_factory=list)
    projects: list[Doomed] = field(default_factory=list)
    networks: list[Doomed] = field(default_factory=list)

    def empty(self) -> bool:
        """Nothing of this infra is left in Incus."""
        return not (self.instances or self.protected or self.profiles or self.projects or self.networks)


def belongs(obj: JsonObj, infra: str, domains: frozenset[str] | None) -> bool:
    """Say whether a live resource is this infra's (and of a selected domain).

    >>> cfg = {"user.anklume.managed": "true", "user.anklume.infra": "lab", "user.anklume.domain": "pro"}
    >>> belongs({"config": cfg}, "lab", None), belongs({"config": cfg}, "demo", None)
    (True, False)
    >>> belongs({"config": cfg}, "lab", frozenset({"perso"}))
    False
    >>> belongs({"config": {**cfg, "user.anklume.managed": "false"}}, "lab", None)
    False
    """
    cfg: Mapping[str, Any] = config(obj)
    mine = str(cfg.get(INFRA, "")) == infra and bool(infra)
    marked = owned(cfg) or bool(cfg.get(DISPOSABLE))
    return mine and marked and (domains is None or str(cfg.get(DOMAIN, "")) in domains)


def _listing(argv: list[str]) -> list[JsonObj]:
    data = query(argv)
    return list(data) if isinstance(data, list) else []


def survey(infra: str, domains: Iterable[str] | None = None) -> Survey:
    """Read Incus once per resource kind and list what belongs to ``infra``."""
    chosen = frozenset(domains) if domains else None
    result = Survey()
    kept_projects: set[str] = set()
    for inst in all_instances():
        project = str(inst.get("project", "default"))
        if not belongs(inst, infra, chosen):
            kept_projects.add(project)
            continue
        item = Doomed("instance", str(inst["name"]), project, str(config(inst).get(DOMAIN, "")))
        (result.protected if is_protected(inst) else result.instances).append(item)
    for prof in _listing(["profile", "list", "--all-projects"]):
        if prof.get("name") != "default" and belongs(prof, infra, chosen):
            result.profiles.append(Doomed("profile", str(prof["name"]), str(prof.get("project", "default"))))
    for proj in _listing(["project", "list"]):
        if belongs(proj, infra, chosen):
            result.projects.append(Doomed("project", str(proj["name"]), domain=str(config(proj).get(DOMAIN, ""))))
    for net in _listing(["network", "list"]):
        if belongs(net, infra, chosen):
            result.networks.append(Doomed("network", str(net["name"]), domain=str(config(net).get(DOMAIN, ""))))
    return result


def _gone(item: Doomed) -> bool:
    flag = "--project" if item.kind in ("instance", "profile") else None
    argv = {
        "instance": ["delete", "--force", item.name],
        "profile": ["profile", "delete", item.name],
        "project": ["project", "delete", item.name],
        "network": ["network", "delete", item.name],
    }[item.kind]
    proc = run(argv, project=item.project if flag else None, check=False)
    return proc.returncode == 0


def destroy(found: Survey, *, include_protected: bool) -> tuple[list[Doomed], list[str]]:
    """Delete what ``survey`` found; return what was removed and what was kept (with why)."""
    removed: list[Doomed] = []
    kept: list[str] = []
    for item in found.protected:
        if include_protected:
            run(["config", "set", item.name, "security.protection.delete=false"], project=item.project)
        else:
            kept.append(f"{item} (protected; --include-protected removes it)")
    doomed_instances = found.instances + (found.protected if include_protected else [])
    for item in [*doomed_instances, *found.profiles, *found.projects, *found.networks]:
        if _gone(item):
            removed.append(item)
        else:
            kept.append(f"{item} (could not be deleted: still in use)")
    return removed, kept
