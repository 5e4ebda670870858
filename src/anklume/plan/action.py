"""The action record: one thing a reconcile does to one Incus resource.

One model from end to end: the planners return :class:`Action` objects, the
playbook receives them as plain dicts (:meth:`Action.to_dict`) and runs the
commands they carry, the summary callback writes that same dict to the plan
file, and ``anklume domain check`` reads it back with
:meth:`Action.from_dict`, which accepts nothing else.

Two words are kept apart: the *verb* (what happens: create, update…) and the
*resource* (what it happens to: project, network…).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, cast, get_args

from anklume.errors import PlanError

Verb = Literal["create", "update", "delete", "recreate", "needs-recreate", "orphan", "conflict", "missing"]
"""What happens to the resource.

``needs-recreate`` is reported only (the change needs ``anklume_recreate``);
``orphan`` is an owned resource no longer declared (deleted only with prune);
``conflict`` is a declared name held by a resource anklume does not own;
``missing`` is an image that must exist locally and does not.
"""

Resource = Literal["project", "network", "profile", "image", "instance"]

VERBS: tuple[str, ...] = get_args(Verb)
RESOURCES: tuple[str, ...] = get_args(Resource)

Change = tuple[object, object]


@dataclass(frozen=True)
class Command:
    """One incus command an action runs: its argv, and what it reads on stdin.

    ``step`` names what it does (``create``, ``set-config``…): a role task
    may run only some steps (the prune task runs ``delete``).

    >>> Command("start", ("incus", "start", "web", "--project=pro")).to_dict()
    {'step': 'start', 'argv': ['incus', 'start', 'web', '--project=pro']}
    """

    step: str
    argv: tuple[str, ...]
    stdin: str | None = None
    tolerate: str | None = None
    """Text of an error that means the command had nothing to do (``already exists``)."""

    def to_dict(self) -> dict[str, Any]:
        """Return the command as plain data (``stdin`` and ``tolerate`` only when set)."""
        out: dict[str, Any] = {"step": self.step, "argv": list(self.argv)}
        if self.stdin is not None:
            out["stdin"] = self.stdin
        if self.tolerate is not None:
            out["tolerate"] = self.tolerate
        return out

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Command:
        """Read a command written by :meth:`to_dict`."""
        argv = raw.get("argv")
        if not isinstance(argv, list) or not all(isinstance(a, str) for a in argv):
            msg = f"a planned command has no argv list: {raw!r}"
            raise PlanError(msg)
        stdin, tolerate = raw.get("stdin"), raw.get("tolerate")
        return cls(
            str(raw.get("step", "")),
            tuple(argv),
            None if stdin is None else str(stdin),
            None if tolerate is None else str(tolerate),
        )


@dataclass(frozen=True)
class Action:
    """One planned change of one resource, with the commands that make it.

    >>> a = Action("update", "network", "net-pro", changes={"ipv4.nat": ("true", "false")})
    >>> a.to_dict()["changes"]
    {'ipv4.nat': ['true', 'false']}
    >>> a.to_dict()["action"], a.project
    ('update', 'default')
    >>> Action.from_dict(a.to_dict()) == a
    True
    """

    verb: Verb
    resource: Resource
    name: str
    project: str = "default"
    domain: str = ""
    changes: Mapping[str, Change] = field(default_factory=dict)
    reason: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)
    """What the roles need besides commands (the host directories to create)."""
    commands: tuple[Command, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Return the action as plain data (lists instead of tuples); ``action`` is the verb."""
        return {
            "action": self.verb,
            "resource": self.resource,
            "name": self.name,
            "project": self.project,
            "domain": self.domain,
            "changes": {k: [old, new] for k, (old, new) in sorted(self.changes.items())},
            "reason": self.reason,
            "data": dict(self.data),
            "commands": [c.to_dict() for c in self.commands],
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Action:
        """Read an action written by :meth:`to_dict`; anything else is a :class:`PlanError`.

        >>> Action.from_dict({"action": "prune", "resource": "instance", "name": "x"})  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        anklume.errors.PlanError: unknown verb 'prune' in the plan (expected one of create, update, delete, ...)
        """
        verb, resource = raw.get("action"), raw.get("resource")
        if verb not in VERBS:
            msg = f"unknown verb {verb!r} in the plan (expected one of {', '.join(VERBS)})"
            raise PlanError(msg)
        if resource not in RESOURCES:
            msg = f"unknown resource kind {resource!r} in the plan (expected one of {', '.join(RESOURCES)})"
            raise PlanError(msg)
        changes = raw.get("changes") or {}
        if not isinstance(changes, Mapping) or not all(isinstance(v, list) and len(v) == 2 for v in changes.values()):
            msg = f"the changes of {resource} {raw.get('name')!r} are not pairs [old, new]"
            raise PlanError(msg)
        return cls(
            verb=cast("Verb", verb),
            resource=cast("Resource", resource),
            name=str(raw.get("name", "")),
            project=str(raw.get("project") or "default"),
            domain=str(raw.get("domain") or ""),
            changes={str(k): (v[0], v[1]) for k, v in changes.items()},
            reason=str(raw.get("reason") or ""),
            data=dict(raw.get("data") or {}),
            commands=tuple(Command.from_dict(c) for c in raw.get("commands") or ()),
        )


def to_dicts(actions: list[Action]) -> list[dict[str, Any]]:
    """Return ``actions`` as plain dicts, in order.

    >>> to_dicts([Action("create", "project", "pro")])[0]["name"]
    'pro'
    """
    return [a.to_dict() for a in actions]
