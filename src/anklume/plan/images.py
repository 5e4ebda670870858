"""Plan the images that instances about to be created need.

A local alias (``anklume/debian-12``) must already be in the image store:
otherwise the plan says ``missing`` and the run stops before creating
anything, pointing at ``anklume image build``. A remote image
(``images:debian/13``) that is not cached is a ``create`` (fetched on first
use); the role checks the remote answers before any instance is created.
"""

from __future__ import annotations

from anklume.plan import commands as cmd
from anklume.plan.action import Action
from anklume.plan.model import Declared, Instance, Live, PlanOptions
from anklume.vocab import owned


def split(image: str) -> tuple[str, str]:
    """Return ``(remote, alias)``; the remote is '' for local images.

    >>> split("images:debian/13"), split("anklume/debian-12"), split("local:x")
    (('images', 'debian/13'), ('', 'anklume/debian-12'), ('', 'x'))
    """
    remote, sep, alias = image.partition(":")
    if not sep:
        return "", image
    return ("" if remote == "local" else remote), alias


def needs_image(declared: Declared, live: Live, options: PlanOptions) -> list[Instance]:
    """Return the instances this run creates (or recreates) from their image."""
    by_key = {(str(i.get("project", "default")), str(i["name"])): i for i in live.instances}
    result = []
    for inst in declared.instances:
        if not options.in_scope(inst.domain):
            continue
        cur = by_key.get((inst.project, inst.name))
        if cur is None:
            result.append(inst)
        elif options.recreate and owned(cur.get("config")):
            from anklume.plan.instances import recreate_reasons  # noqa: PLC0415 -- avoids an import cycle

            if recreate_reasons(inst, cur):
                result.append(inst)
    return result


def plan_images(declared: Declared, live: Live, options: PlanOptions) -> list[Action]:
    """Return ``missing`` and ``create`` actions for the images needed now."""
    aliases = {str(a.get("name")) for img in live.images for a in img.get("aliases") or ()}
    cached = {str((img.get("update_source") or {}).get("alias", "")) for img in live.images if img.get("update_source")}
    users: dict[str, list[str]] = {}
    for inst in needs_image(declared, live, options):
        users.setdefault(inst.image, []).append(inst.name)
    actions = []
    for image, names in sorted(users.items()):
        remote, alias = split(image)
        who = ", ".join(sorted(names))
        if not remote and alias not in aliases:
            actions.append(
                Action(
                    "missing",
                    "image",
                    image,
                    reason=f"image {alias!r} is not in the local image store (needed by {who}); "
                    f"build it offline with 'anklume image build --alias {alias}'",
                )
            )
        elif remote and alias not in cached:
            actions.append(
                Action(
                    "create",
                    "image",
                    image,
                    reason=f"downloaded from remote {remote!r} on first use (needed by {who})",
                    commands=cmd.image_check(image),
                )
            )
    return actions
