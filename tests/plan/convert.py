"""Rewrite full-format plan cases as a patch of a recorded world.

    python -m tests.plan.convert incus-6.0 tests/plan/projects/*.yaml

Each file is rewritten only when the patched world gives back exactly its
``declared`` and ``live`` (a kind absent from the old file and an empty
list count as the same) and every planner plans the same actions from
both; otherwise it is left as it is and named on standard error. A file
already in the patch format is rewritten against the world named (after a
new world is recorded, for example).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from anklume.plan.run import KINDS, plan_kind
from tests.plan.world import KEYS, diff_state, load_case, load_world

ORDER = ("description", "world", "declared", "options", "live", "noop", "actions")


class _Dumper(yaml.SafeDumper):
    """Indent lists under their key, like the case files are written."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def dump(doc: Mapping[str, Any]) -> str:
    """Return a case as YAML, its top-level keys in the usual order."""
    ordered = {k: doc[k] for k in ORDER if k in doc}
    ordered.update({k: v for k, v in doc.items() if k not in ordered})
    body = yaml.dump(ordered, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
    return "---\n" + body


def _normal(state: Mapping[str, Any], side: str) -> dict[str, Any]:
    out = dict(state)
    for field in KEYS[side]:
        if not out.get(field):
            out.pop(field, None)
    return out


def same_case(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    """Say whether two loaded cases hold the same states and plan the same actions."""
    for side in ("declared", "live"):
        if _normal(old.get(side) or {}, side) != _normal(new.get(side) or {}, side):
            return False
    for kind in KINDS:
        plans = [plan_kind(c["declared"], kind, c.get("live") or {}, c.get("options") or {}) for c in (old, new)]
        if plans[0] != plans[1]:
            return False
    return {k: v for k, v in old.items() if k not in ("declared", "live")} == {
        k: v for k, v in new.items() if k not in ("declared", "live")
    }


def convert(path: Path, world_name: str) -> bool:
    """Rewrite ``path`` as a patch of ``world_name``; return False when it must stay in the full format."""
    old = load_case(path)  # a case already in the patch format is written again, against ``world_name``
    world = load_world(world_name)
    doc = dict(old)
    doc["world"] = world_name
    doc["declared"] = diff_state(world["declared"], old.get("declared") or {}, "declared")
    doc["live"] = diff_state(world["live"], old.get("live") or {}, "live")
    for side in ("declared", "live"):
        if not doc[side]:
            del doc[side]
    text = dump(doc)
    tmp = path.with_suffix(".converting")
    tmp.write_text(text, encoding="utf-8")
    try:
        ok = same_case(old, load_case(tmp))
    finally:
        tmp.unlink()
    if ok:
        path.write_text(text, encoding="utf-8")
    return ok


def main(argv: list[str]) -> int:
    """Convert the files named on the command line; exit 1 when one could not be."""
    world_name, *files = argv
    failed = [f for f in files if not convert(Path(f), world_name)]
    for name in failed:
        sys.stderr.write(f"left in the full format (the patch does not give it back): {name}\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
