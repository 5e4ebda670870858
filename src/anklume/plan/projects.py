"""Plan Incus projects: one per enabled domain, even without machines."""

from __future__ import annotations

from anklume.plan import commands as cmd
from anklume.plan.action import Action, Resource, Verb
from anklume.plan.diff import config_changes
from anklume.plan.model import Declared, Live, PlanOptions
from anklume.plan.scope import domain_of, doomed_projects, managed_in_scope, mine

__all__ = ["adopt_or_conflict", "mine", "orphan_verdict", "plan_projects"]


def adopt_or_conflict(resource: Resource, name: str, project: str, domain: str, options: PlanOptions) -> Action | None:
    """Return the action for a declared name held by a resource anklume does not own.

    With ``adopt`` the caller plans a normal update (ownership keys included):
    this returns None. Otherwise it returns a ``conflict`` that stops the run.
    """
    if options.adopt:
        return None
    return Action(
        "conflict",
        resource,
        name,
        project=project,
        domain=domain,
        reason=f"a {resource} named {name!r} exists and is not managed by this anklume infra "
        "(apply with --adopt to take it over)",
    )


def orphan_verdict(deletable: bool, options: PlanOptions, blocker: str) -> tuple[Verb, str]:
    """Return the verb and reason for an owned resource no longer declared.

    >>> orphan_verdict(True, PlanOptions(prune=True), "x")
    ('delete', 'no longer declared (prune)')
    >>> orphan_verdict(True, PlanOptions(), "x")[0]
    'orphan'
    >>> orphan_verdict(False, PlanOptions(prune=True), "in use")
    ('orphan', 'no longer declared; kept: in use')
    """
    if options.prune and deletable:
        return "delete", "no longer declared (prune)"
    if options.prune:
        return "orphan", f"no longer declared; kept: {blocker}"
    return "orphan", "no longer declared; delete with prune"


def plan_projects(declared: Declared, live: Live, options: PlanOptions) -> list[Action]:
    """Return the project actions: create, update, conflict, then orphans/deletes.

    Only managed keys are compared (``features.*`` anklume sets and the
    ownership keys); other project keys are left as they are.
    """
    by_name = {str(p["name"]): p for p in live.projects}
    actions: list[Action] = []
    for dom in declared.domains:
        if not options.in_scope(dom.name):
            continue
        cur = by_name.get(dom.project)
        if cur is None:
            actions.append(
                Action(
                    "create",
                    "project",
                    dom.project,
                    project=dom.project,
                    domain=dom.name,
                    changes={k: (None, v) for k, v in dom.project_config.items()},
                    reason="declared domain has no project",
                    commands=cmd.project_create(dom),
                )
            )
            continue
        if not mine(cur.get("config"), options):
            conflict = adopt_or_conflict("project", dom.project, dom.project, dom.name, options)
            if conflict:
                actions.append(conflict)
                continue
        changes = config_changes(dom.project_config, cur.get("config") or {}, remove_undeclared=False)
        keys = {k: new for k, (_, new) in changes.items()}
        described = str(cur.get("description") or "") == dom.description
        if not described:
            changes["description"] = (cur.get("description"), dom.description)
        if changes:
            actions.append(
                Action(
                    "update",
                    "project",
                    dom.project,
                    project=dom.project,
                    domain=dom.name,
                    changes=changes,
                    reason="project config or description differs",
                    commands=cmd.project_update(dom.project, keys, None if described else dom.description),
                )
            )
    wanted = {d.project for d in declared.domains}
    doomed = doomed_projects(declared, live, options)
    for cur in managed_in_scope(live.projects, options):
        name = str(cur["name"])
        if name in wanted:
            continue
        verb, reason = orphan_verdict(name in doomed, options, "it still holds protected or foreign instances")
        deleting = cmd.project_delete(name) if verb == "delete" else ()
        actions.append(Action(verb, "project", name, name, domain_of(cur), reason=reason, commands=deleting))
    return actions
