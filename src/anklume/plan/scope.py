"""Which live resources a plan may touch, and which will be gone after prune.

Only resources carrying anklume's ownership keys, of a domain in scope
(selected and not disabled), are ever changed or deleted. Deletion order
is instances → profiles → networks → projects; a project or bridge that
something kept still uses is reported, never deleted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qs, urlparse

from anklume.plan.model import Declared, JsonObj, Live, PlanOptions
from anklume.vocab import DOMAIN, PROTECT, owned


def domain_of(obj: JsonObj) -> str:
    """Return the ``user.anklume.domain`` of a live resource ('' when unset)."""
    return str((obj.get("config") or {}).get(DOMAIN, ""))


def mine(config: Mapping[str, Any] | None, options: PlanOptions) -> bool:
    """Say whether a live resource is anklume's and of this infra.

    >>> mine({"user.anklume.managed": "true", "user.anklume.infra": "b"}, PlanOptions(infra="a"))
    False
    >>> mine({"user.anklume.managed": "true"}, PlanOptions(infra="a"))
    True
    """
    return owned(config) and options.same_infra(config)


def managed_in_scope(objs: Iterable[JsonObj], options: PlanOptions) -> list[JsonObj]:
    """Return the resources of this infra (see :func:`mine`) whose domain is in scope.

    ``domain check`` (the planners) and ``domain status`` both take their
    orphans from here.
    """
    return [o for o in objs if mine(o.get("config"), options) and options.in_scope(domain_of(o))]


def protected(inst: JsonObj) -> bool:
    """Say whether an instance refuses deletion.

    >>> protected({"config": {"security.protection.delete": "true"}}), protected({})
    (True, False)
    """
    return str((inst.get("config") or {}).get(PROTECT, "")).lower() == "true"


def used_by_refs(obj: JsonObj) -> list[tuple[str, str, str]]:
    """Return ``(kind, project, name)`` for each ``used_by`` URL.

    >>> used_by_refs({"used_by": ["/1.0/instances/web?project=pro", "/1.0/profiles/default"]})
    [('instances', 'pro', 'web'), ('profiles', 'default', 'default')]
    """
    refs = []
    for url in obj.get("used_by") or ():
        parsed = urlparse(str(url))
        parts = parsed.path.strip("/").split("/")
        project = parse_qs(parsed.query).get("project", ["default"])[0]
        if len(parts) >= 3:
            refs.append((parts[1], project, parts[2]))
    return refs


def doomed_instances(declared: Declared, live: Live, options: PlanOptions) -> set[tuple[str, str]]:
    """Return ``(project, name)`` of the instances prune will delete."""
    if not options.prune:
        return set()
    wanted = {(i.project, i.name) for i in declared.instances}
    return {
        (str(i.get("project", "default")), str(i["name"]))
        for i in managed_in_scope(live.instances, options)
        if (i.get("project", "default"), i["name"]) not in wanted and not protected(i)
    }


def doomed_projects(declared: Declared, live: Live, options: PlanOptions) -> set[str]:
    """Return the projects prune will delete: undeclared and emptied by prune."""
    if not options.prune:
        return set()
    wanted = {d.project for d in declared.domains}
    gone = doomed_instances(declared, live, options)
    result = set()
    for proj in managed_in_scope(live.projects, options):
        name = str(proj["name"])
        if name in wanted:
            continue
        kept = [i for i in live.instances if i.get("project") == name and (name, i["name"]) not in gone]
        if not kept:
            result.add(name)
    return result
