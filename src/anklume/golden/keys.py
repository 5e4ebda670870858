"""Names and keys of golden templates, and what "older than its template" means.

Pure helpers: no command runs here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

TEMPLATE = "user.anklume.golden.template"
"""Instance (and snapshot) key marking a template; its value is the snapshot made with it."""
DATE = "user.anklume.golden.date"
"""When the template's current snapshot was made (UTC, ISO 8601)."""
ORIGIN = "image.anklume.golden.origin"
"""Instance key: the template snapshot it was derived from (``project/instance/golden-N``)."""
PROP_PREFIX = "anklume.golden."
"""Prefix of the provenance properties of a published image."""
PROVISIONED = "user.anklume.provisioned"

_SNAPSHOT = re.compile(r"^golden-([1-9][0-9]{0,8})$")


def snapshot_name(generation: int) -> str:
    """Return the snapshot name of a template generation.

    >>> snapshot_name(3)
    'golden-3'
    """
    return f"golden-{generation}"


def generation(snapshot: str) -> int | None:
    """Return the generation of a golden snapshot name, None for any other name.

    >>> generation("golden-12"), generation("golden-0"), generation("ak-20261202T051500Z")
    (12, None, None)
    """
    found = _SNAPSHOT.match(snapshot)
    return int(found.group(1)) if found else None


@dataclass(frozen=True, order=True)
class Origin:
    """The template snapshot an instance or an image comes from."""

    project: str
    template: str
    generation: int

    def __str__(self) -> str:
        return f"{self.project}/{self.template}/{snapshot_name(self.generation)}"

    @property
    def key(self) -> tuple[str, str]:
        """The template this origin points at: ``(project, instance)``."""
        return (self.project, self.template)


def parse_origin(text: object) -> Origin | None:
    """Read an origin value; None when it is absent or not one of ours.

    >>> parse_origin("pro/tpl-web/golden-2")
    Origin(project='pro', template='tpl-web', generation=2)
    >>> parse_origin("pro/tpl-web/snap0") is None, parse_origin(None) is None, parse_origin("a/b") is None
    (True, True, True)
    """
    if not isinstance(text, str):
        return None
    parts = text.split("/")
    if len(parts) != 3 or not all(parts):
        return None
    gen = generation(parts[2])
    return Origin(parts[0], parts[1], gen) if gen is not None else None


def is_older(origin: Origin | None, current: dict[tuple[str, str], int]) -> bool:
    """Say whether something made from ``origin`` predates its template's current snapshot.

    "Older" means: derived (or published) from an earlier ``golden-N`` of the
    same template than the one the template holds now.

    >>> is_older(Origin("pro", "tpl", 1), {("pro", "tpl"): 2})
    True
    >>> is_older(Origin("pro", "tpl", 2), {("pro", "tpl"): 2}), is_older(None, {})
    (False, False)
    >>> is_older(Origin("pro", "gone", 1), {("pro", "tpl"): 2})
    False
    """
    if origin is None or origin.key not in current:
        return False
    return origin.generation < current[origin.key]
