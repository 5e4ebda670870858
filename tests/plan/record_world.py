"""Record the world of the plan cases from a real Incus daemon.

    python -m tests.plan.record_world [--provision] [--output FILE]

Copies ``tests/fixtures/infra-min`` to a temporary directory, applies it
with ``site.yml`` (the framework's own playbook, without provisioning unless
``--provision``, without pre-apply snapshots, and without deploying a host
firewall table: the fixture is generated files only, it has no
``infra.yml`` to render a table from; its bridges have NAT off), reads
the live state the way the roles read it (one ``incus … --format json``
per kind), keeps the fixture's resources and the keys the planners
read, and writes ``tests/plan/worlds/incus-<major>.<minor>.yaml`` (or
``FILE``). Then it deletes exactly what it created. Run it as root on a host
where ``scripts/incus-setup.sh`` ran and the image ``anklume/debian-12``
exists; nothing else on the daemon may use the fixture's names
(``anklume-t*`` projects and instances, ``net-t*`` bridges, 10.199.x.0/24).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from anklume.apply import runner, workspace
from anklume.apply.framework import find_ansible_playbook, find_framework
from anklume.incus.run import query, run
from tests.plan.convert import dump
from tests.plan.world import WORLDS

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "infra-min"
HOST_DIRS = Path("/tmp/anklume-t-data")
"""Where the fixture's ``persistent_data`` directory is created (see host_vars/t-db.yml)."""
NO_FIREWALL = {"incus_nftables_enabled": False}
"""Extra variables that turn the host table deployment into a no-op for the recording."""
KEPT = {
    "projects": ("config", "description", "name", "used_by"),
    "networks": ("config", "description", "managed", "name", "project", "status", "type", "used_by"),
    "profiles": ("config", "description", "devices", "name", "project", "used_by"),
    "instances": ("config", "description", "devices", "name", "profiles", "project", "status", "type"),
    "images": ("aliases", "cached", "fingerprint", "profiles", "project", "type", "update_source"),
}
"""The keys of each live object the planners read; the rest of incus' output is dropped."""
VOLATILE_KEPT = ("volatile.base_image", "volatile.eth0.hwaddr")
HEADER = """\
# The recorded world of the plan cases on Incus {version}: tests/fixtures/infra-min
# applied on a real daemon by `python -m tests.plan.record_world`.
# `declared` holds the generated variables as site.yml passes them to the
# planners; `live` the output of `incus project list`, `incus network list`,
# `incus profile list --all-projects`, `incus query
# /1.0/instances?recursion=1&all-projects=true` and `incus image list` (all
# --format json), trimmed to the keys the planners read.
"""


def _yaml(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else {}


def declared_state(infra: Path) -> dict[str, Any]:
    """Return the fixture's ``{domains, machines, settings}`` as ``site.yml`` builds them."""
    groups: dict[str, list[str]] = {}
    for path in sorted((infra / "inventory").glob("*.yml")):
        for group, body in (_yaml(path).get("all", {}).get("children") or {}).items():
            groups[str(group)] = list((body or {}).get("hosts") or {})
    domains = [gv for g in sorted(groups) if "incus_network" in (gv := _yaml(infra / "group_vars" / f"{g}.yml"))]
    hosts = [h for d in domains for h in groups[str(d["domain_name"])]]
    machines = []
    for host in hosts:
        hv = _yaml(infra / "host_vars" / f"{host}.yml")
        machines.append({k: v for k, v in hv.items() if k.startswith("instance_")})
    settings = {"infra": _yaml(infra / "group_vars" / "all.yml").get("project_name", "")}
    return {"domains": domains, "machines": machines, "settings": settings}


def _trim(kind: str, obj: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: obj[k] for k in KEPT[kind] if k in obj and obj[k] is not None}
    if kind == "instances":
        out["config"] = {
            k: v for k, v in obj.get("config", {}).items() if not k.startswith("volatile.") or k in VOLATILE_KEPT
        }
    return out


def live_state(declared: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Read every kind once and keep the fixture's resources, trimmed."""
    projects = {str(d["incus_project"]) for d in declared["domains"]}
    networks = {str(d["incus_network"]["name"]) for d in declared["domains"]}
    images = {str(m.get("instance_os_image")) for m in declared["machines"]}
    raw: dict[str, Iterable[Mapping[str, Any]]] = {
        "projects": query(["project", "list"]),
        "networks": query(["network", "list", "--project", "default"]),
        "profiles": query(["profile", "list", "--all-projects"]),
        "instances": query(["query", "/1.0/instances?recursion=1&all-projects=true"]),
        "images": query(["image", "list", "--project", "default"]),
    }
    keep = {
        "projects": lambda o: o.get("name") in projects,
        "networks": lambda o: o.get("name") in networks,
        "profiles": lambda o: o.get("project") in projects,
        "instances": lambda o: o.get("project") in projects,
        "images": lambda o: any(a.get("name") in images for a in o.get("aliases") or ()),
    }
    return {kind: [_trim(kind, o) for o in objs if keep[kind](o)] for kind, objs in raw.items()}


def apply_fixture(infra: Path, etc: Path, *, provision: bool) -> None:
    """Run ``site.yml`` on the fixture, as ``anklume domain apply`` would."""
    fw = find_framework()
    playbook_bin = find_ansible_playbook()
    inventory = tuple(sorted((infra / "inventory").glob("*.yml")))
    base = {**os.environ, "ANKLUME_ETC": str(etc)}
    with (
        workspace.staged_inventory(infra, inventory, fw.playbook) as stage,
        tempfile.TemporaryDirectory(prefix="anklume-world-") as tmp,
    ):
        req = runner.PlaybookRequest(provision=provision, snapshot=False)
        argv = runner.playbook_argv(
            playbook_bin, fw, stage / workspace.INVENTORY, req, playbook=stage / workspace.PLAYBOOK
        )
        argv[-1:-1] = ["--extra-vars", json.dumps(NO_FIREWALL)]
        env = runner.playbook_env(base, fw, infra, playbook_bin, Path(tmp) / "summary.json")
        rc = runner.run_playbook(argv, env, infra)
    if rc != 0:
        msg = f"applying {FIXTURE} failed (exit {rc})"
        raise SystemExit(msg)


def cleanup(declared: Mapping[str, Any]) -> None:
    """Delete the fixture's instances, profiles, projects and bridges."""
    for dom in declared["domains"]:
        project = str(dom["incus_project"])
        if project not in {str(p.get("name")) for p in query(["project", "list"])}:
            continue
        for inst in query(["list", "--project", project]):
            name = str(inst["name"])
            run(["config", "set", name, "security.protection.delete=false"], project=project, check=False)
            run(["delete", "--force", name], project=project, check=False)
        for prof in query(["profile", "list", "--project", project]):
            if prof.get("name") != "default":
                run(["profile", "delete", str(prof["name"])], project=project, check=False)
        run(["project", "delete", project], check=False)
    for dom in declared["domains"]:
        run(["network", "delete", str(dom["incus_network"]["name"])], check=False)


def incus_version() -> str:
    """Return the daemon's ``major.minor`` version."""
    server = query(["query", "/1.0"])
    full = str(server.get("environment", {}).get("server_version", "unknown"))
    return ".".join(full.split(".")[:2])


def main(argv: list[str]) -> int:
    """Apply the fixture, record the world, clean up."""
    parser = argparse.ArgumentParser(prog="python -m tests.plan.record_world", description=__doc__.splitlines()[0])
    parser.add_argument("--provision", action="store_true", help="also provision the instances (base_system)")
    parser.add_argument("--output", type=Path, help="world file (default tests/plan/worlds/incus-<version>.yaml)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="anklume-world-") as tmp:
        infra = Path(tmp) / "infra"
        shutil.copytree(FIXTURE, infra)
        (Path(tmp) / "etc").mkdir()
        declared = declared_state(infra)
        made_host_dirs = not HOST_DIRS.exists()
        cleanup(declared)
        try:
            apply_fixture(infra, Path(tmp) / "etc", provision=args.provision)
            world = {"declared": declared, "live": live_state(declared)}
        finally:
            cleanup(declared)
            if made_host_dirs:
                shutil.rmtree(HOST_DIRS, ignore_errors=True)
    version = incus_version()
    target = args.output or WORLDS / f"incus-{version}.yaml"
    target.write_text(HEADER.format(version=version) + dump({**world, "incus": version}), encoding="utf-8")
    sys.stdout.write(f"recorded {target}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
