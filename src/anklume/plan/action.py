"""The action model: one thing a reconcile would do to one Incus resource.

Plans are lists of :class:`Action`. An action is frozen; ``to_dict`` turns it
into plain JSON-able data for Ansible (the roles loop over these dicts) and
for the plan file that ``anklume domain check`` prints.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Verb = Literal["create", "update", "delete", "recreate", "needs-recreate", "orphan", "conflict", "missing"]
"""What happens to the resource.

``needs-recreate`` is reported only (the change needs ``anklume_recreate``);
``orphan`` is an owned resource no longer declared (deleted only with prune);
``conflict`` is a declared name held by a resource anklume does not own;
``missing`` is an image that must exist locally and does not.
"""

Resource = Literal["project", "network", "profile", "image", "instance"]

Change = tuple[object, object]


@dataclass(frozen=True)
class Action:
    """One planned change of one resource.

    >>> a = Action("update", "network", "net-pro", changes={"ipv4.nat": ("true", "false")})
    >>> a.to_dict()["changes"]
    {'ipv4.nat': ['true', 'false']}
    >>> a.to_dict()["action"], a.project
    ('update', 'default')
    """

    kind: Verb
    resource: Resource
    name: str
    project: str = "default"
    domain: str = ""
    changes: Mapping[str, Change] = field(default_factory=dict)
    reason: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return the action as plain data (lists instead of tuples)."""
        return {
            "action": self.kind,
            "resource": self.resource,
            "name": self.name,
            "project": self.project,
            "domain": self.domain,
            "changes": {k: [old, new] for k, (old, new) in sorted(self.changes.items())},
            "reason": self.reason,
            "data": dict(self.data),
        }


def to_dicts(actions: list[Action]) -> list[dict[str, Any]]:
    """Return ``actions`` as plain dicts, in order.

    >>> to_dicts([Action("create", "project", "pro")])[0]["name"]
    'pro'
    """
    return [a.to_dict() for a in actions]
