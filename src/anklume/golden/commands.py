"""The golden commands on an infra: names from infra.yml, templates from Incus, lines to print."""

from __future__ import annotations

import re
from pathlib import Path

from anklume.engine.resolved import Resolved
from anklume.errors import UsageError
from anklume.golden import live, ops, provenance
from anklume.golden.live import Template
from anklume.ops import targets

_ALIAS = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,199}$")


def check_alias(alias: str) -> str:
    """Refuse an alias a machine could not name as its local ``os_image``.

    >>> check_alias("golden/tpl-web")
    'golden/tpl-web'
    >>> check_alias("images:debian/13")
    Traceback (most recent call last):
    ...
    anklume.errors.UsageError: invalid image alias 'images:debian/13' (letters, digits, '.', '_', '/' and '-')
    """
    if not _ALIAS.match(alias):
        msg = f"invalid image alias {alias!r} (letters, digits, '.', '_', '/' and '-')"
        raise UsageError(msg)
    return alias


def find_template(resolved: Resolved, name: str) -> Template:
    """The template named by its infra.yml name, or else by its instance name."""
    targets.check_name(name, "template")
    found = live.templates(live.read_instances())
    declared = targets.all_targets(resolved).get(name)
    if declared is not None:
        key = (declared.project, declared.instance)
        if key in found:
            return found[key]
        msg = f"{name!r} is not a template yet; make it one with 'anklume golden create {name}'"
        raise UsageError(msg)
    return live.find_template(found, name, None)


def run_derive(directory: Path, template_name: str, new: str, domain: str, *, start: bool) -> list[str]:
    """Derive ``new`` in ``domain`` from a template; return what to print."""
    resolved = targets.load(directory)
    targets.check_domain(resolved, domain)
    targets.check_name(new, "instance")
    template = find_template(resolved, template_name)
    project = resolved.domains[domain].incus_project
    if not ops.project_exists(project):
        msg = f"domain {domain} has no Incus project yet; run 'anklume domain apply {domain}' first"
        raise UsageError(msg)
    machine = resolved.machines().get(new)
    declared, instance, profiles = None, new, ["default"]
    if machine is not None:
        if machine.domain != domain:
            msg = f"{new!r} is declared in domain {machine.domain!r}, not {domain!r}"
            raise UsageError(msg)
        declared = ops.Declared(domain, resolved.project_name, machine.ephemeral)
        instance, profiles = machine.instance_name, list(machine.profiles or ["default"])
    driver, kind = ops.derive(template, instance, project, profiles=profiles, declared=declared, start=start)
    source = f"{template.project}/{template.name}/{template.snapshot}"
    why = "" if kind == "copy-on-write" else ", which cannot copy on write"
    lines = [f"{domain}/{new}: {kind} of {source} ({driver} pool '{template.pool}'{why})"]
    if machine is not None:
        lines.append(f"run 'anklume domain apply {domain}' to give it its declared network, devices and roles")
    else:
        lines.append(f"{new} is not in infra.yml: it has the network of the domain's default profile only")
    return lines


def run_publish(directory: Path, template_name: str, alias: str | None, compression: str | None) -> list[str]:
    """Publish a template's current snapshot with its provenance; return what to print."""
    if compression is not None and compression not in ops.COMPRESSIONS:
        msg = f"unknown compression {compression!r} (one of {', '.join(ops.COMPRESSIONS)})"
        raise UsageError(msg)
    resolved = targets.load(directory)
    template = find_template(resolved, template_name)
    name = check_alias(alias or f"golden/{template_name}")
    machine = next((m for m in resolved.machines().values() if m.instance_name == template.name), None)
    roles = list(machine.roles or []) if machine is not None else []
    props = provenance.properties(
        source=f"{template.project}/{template.name}",
        origin=f"{template.project}/{template.name}/{template.snapshot}",
        commit=provenance.infra_commit(directory),
        digests=provenance.digests_of(roles, directory),
    )
    fingerprint = ops.publish(template, name, props, compression)
    lines = [f"image {name} ({fingerprint[:12]}) published from {props['anklume.golden.origin']}"]
    lines += [f"  {key}: {value}" for key, value in props.items() if key.startswith("anklume.")]
    lines.append(f"machines use it with 'os_image: {name}'")
    return lines
