"""``golden list``: templates, golden images, and what is older than its template (pure)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from anklume.golden.keys import PROP_PREFIX, Origin, is_older
from anklume.golden.live import Template, image_origin, origin_of, templates


@dataclass(frozen=True)
class Report:
    """Rows of the three tables of ``golden list``."""

    templates: Sequence[Sequence[str]]
    images: Sequence[Sequence[str]]
    derived: Sequence[Sequence[str]]

    @property
    def older(self) -> int:
        """How many images and instances are older than their template."""
        return sum(1 for row in (*self.images, *self.derived) if row[-1].startswith("older"))


def _state(origin: Origin, current: dict[tuple[str, str], int], found: Mapping[tuple[str, str], Template]) -> str:
    tpl = found.get(origin.key)
    if tpl is None:
        return "template gone"
    if is_older(origin, current):
        return f"older (template now at {tpl.snapshot})"
    return "current"


def report(instances: Iterable[Mapping[str, Any]], images: Iterable[Mapping[str, Any]]) -> Report:
    """Build the report from ``incus list`` and ``incus image list`` (all projects).

    >>> tpl = {"name": "tpl", "project": "p", "status": "Stopped", "snapshots": [
    ...     {"name": "golden-1", "config": {"user.anklume.golden.template": "golden-1"}},
    ...     {"name": "golden-2", "config": {"user.anklume.golden.template": "golden-2"}}]}
    >>> old = {"name": "a", "project": "p", "config": {"image.anklume.golden.origin": "p/tpl/golden-1"}}
    >>> img = {"fingerprint": "f" * 64, "aliases": [{"name": "golden/tpl"}],
    ...     "properties": {"anklume.golden.origin": "p/tpl/golden-2", "anklume.golden.date": "d"}}
    >>> r = report([tpl, old], [img])
    >>> r.templates[0][:3], r.derived[0][-1], r.images[0][-1], r.older
    (('p', 'tpl', 'golden-2'), 'older (template now at golden-2)', 'current', 1)
    """
    listed = list(instances)
    found = templates(listed)
    current = {key: t.generation for key, t in found.items()}
    tpl_rows = [(t.project, t.name, t.snapshot, t.date, t.status) for _, t in sorted(found.items())]
    img_rows = []
    for image in images:
        props = image.get("properties") or {}
        origin = image_origin(image)
        if origin is None:
            continue
        aliases = ",".join(str(a.get("name")) for a in image.get("aliases") or ()) or "-"
        img_rows.append(
            (
                aliases,
                str(image.get("fingerprint", ""))[:12],
                str(origin),
                str(props.get(PROP_PREFIX + "infra_commit", "none"))[:12],
                str(props.get(PROP_PREFIX + "date", "")),
                _state(origin, current, found),
            )
        )
    derived_rows = []
    for inst in listed:
        origin = origin_of(inst)
        if origin is None:
            continue
        project, name = str(inst.get("project", "default")), str(inst.get("name", ""))
        derived_rows.append((project, name, str(origin), _state(origin, current, found)))
    return Report(tpl_rows, sorted(img_rows), sorted(derived_rows))
