"""The top of an imported infra.yml: addressing, default image, protection (pure)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from anklume.importer.addressing import fit
from anklume.vocab import DEFAULT_IMAGE


def document(
    project_name: str, domains: dict[str, dict[str, Any]], subnets: dict[str, str], warnings: list[str]
) -> dict[str, Any]:
    """Return the whole document: addressing fitted to ``subnets``, defaults factored out, protection per domain."""
    found = fit(subnets) if subnets else None
    if subnets and found is None:
        warnings.append(
            "the bridges' subnets fit no zone addressing (10.<zone>.<n>.0/24): anklume gives the domains new subnets"
        )
    images = Counter(
        str(m.get("os_image")) for d in domains.values() for m in d["machines"].values() if m.get("os_image")
    )
    default_image = images.most_common(1)[0][0] if images else DEFAULT_IMAGE
    for name, body in domains.items():
        machines = body["machines"]
        protected = [m.pop("_protected") for m in machines.values()]
        body["ephemeral"] = bool(machines) and not any(protected)
        for entry, prot in zip(machines.values(), protected, strict=True):
            if prot == body["ephemeral"]:
                entry["ephemeral"] = not prot
            if entry.get("os_image") == default_image:
                del entry["os_image"]
            if found is None or name not in found.trust:
                entry.pop("ip", None)
        if found is not None and name in found.trust:
            body["trust_level"] = found.trust[name]
            body["subnet_id"] = found.subnet_id[name]
        body["machines"] = machines  # last, for reading
        domains[name] = {k: body[k] for k in sorted(body, key=_order)}
    addressing = {"zone_base": found.zone_base, "zone_step": found.zone_step} if found else {"zone_base": 100}
    return {
        "project_name": project_name,
        "global": {"addressing": addressing, "default_os_image": default_image},
        "domains": domains,
    }


_ORDER = ("description", "trust_level", "subnet_id", "ephemeral", "nat", "profiles", "machines")


def _order(key: str) -> int:
    return _ORDER.index(key) if key in _ORDER else len(_ORDER)
