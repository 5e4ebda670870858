"""Stage 4: the variables of each generated file, as YAML text.

File names, variable names and their order follow the format existing users
already have (docs/SPEC.md, "Generated files"); keys whose value is unset are
omitted. Disabled domains get no files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from anklume.engine.enrich_firewall import routers
from anklume.engine.resolved import Resolved, ResolvedDomain, ResolvedMachine
from anklume.proxy.spec import proxy_var

try:
    from yaml import CSafeDumper as _BaseDumper
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeDumper as _BaseDumper  # type: ignore[assignment]  # same API


class _Dumper(_BaseDumper):
    """A safe dumper that never writes anchors and aliases."""

    def ignore_aliases(self, data: Any) -> bool:
        del data
        return True


#: What makes Ansible evaluate a string as a Jinja template.
_JINJA = ("{{", "{%", "{#")


def _represent_str(dumper: Any, data: str) -> Any:
    """Tag a string Ansible would template as ``!unsafe``: it stays text, never evaluated.

    >>> print(to_yaml({"a": "{{ lookup('pipe', 'id') }}", "b": "plain"}), end="")
    a: !unsafe '{{ lookup(''pipe'', ''id'') }}'
    b: plain
    """
    if any(marker in data for marker in _JINJA):
        return dumper.represent_scalar("!unsafe", data, style="'")
    return dumper.represent_str(data)


class _UnsafeDumper(_Dumper):
    """:class:`_Dumper` that tags template-like strings ``!unsafe`` (slower: used only when needed)."""


_UnsafeDumper.add_representer(str, _represent_str)


def to_yaml(data: dict[str, Any]) -> str:
    """Dump variables in block style, keys in the given order.

    >>> print(to_yaml({"b": 1, "a": [1, 2]}), end="")
    b: 1
    a:
    - 1
    - 2
    """
    options: dict[str, Any] = {"default_flow_style": False, "sort_keys": False, "allow_unicode": True, "width": 1000}
    text: str = yaml.dump(data, Dumper=_Dumper, **options)
    if any(marker in text for marker in _JINJA):  # rare: dump again, tagging the strings Ansible would template
        text = yaml.dump(data, Dumper=_UnsafeDumper, **options)
    return text


def _present(pairs: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in pairs.items() if v is not None}


def all_vars(res: Resolved) -> dict[str, Any]:
    """Variables of ``group_vars/all.yml``."""
    images = res.images()
    return _present(
        {
            "project_name": res.project_name,
            "addressing": res.addressing,
            "base_subnet": res.base_subnet,
            "default_os_image": res.default_os_image,
            "psot_default_connection": res.default_connection,
            "psot_default_user": res.default_user,
            "incus_all_images": images or None,
            "network_policies": res.raw_policies,
        }
    )


def inventory_vars(dom: ResolvedDomain) -> dict[str, Any]:
    """Variables of ``inventory/<domain>.yml``."""
    hosts = {m.name: ({"ansible_host": m.ip} if m.ip else None) for m in dom.machines.values()}
    return {"all": {"children": {dom.name: {"hosts": hosts or None}}}}


def domain_vars(dom: ResolvedDomain, router: str | None = None) -> dict[str, Any]:
    """Variables of ``group_vars/<domain>.yml``.

    ``router`` (``firewall_mode: vm`` only) is the firewall's address on the
    domain's bridge, which DHCP hands out as the default gateway.
    """
    network: dict[str, Any] = {"name": dom.network_name, "subnet": dom.subnet, "gateway": dom.gateway}
    if not dom.nat:
        network["nat"] = False
        network["dns"] = "local"  # no way out, DNS included: the bridge's dnsmasq forwards nothing upstream
    if router is not None:
        network["router"] = router
    return _present(
        {
            "domain_name": dom.name,
            "domain_description": dom.description,
            "domain_ephemeral": dom.ephemeral,
            "domain_trust_level": dom.trust_level if dom.trust_level_declared else None,
            "domain_ai_provider": dom.ai_provider,
            "domain_ai_sanitize": dom.ai_sanitize,
            "incus_project": dom.incus_project,
            "incus_network": network,
            "subnet_id": dom.subnet_id,
            "incus_profiles": dom.profiles,
            "anklume_package_proxy": proxy_var(dom.gateway) if dom.package_proxy else None,
        }
    )


def machine_vars(m: ResolvedMachine) -> dict[str, Any]:
    """Variables of ``host_vars/<machine>.yml``."""
    return _present(
        {
            "instance_name": m.instance_name,
            "instance_type": m.type,
            "instance_description": m.description,
            "instance_domain": m.domain,
            "instance_ephemeral": m.ephemeral,
            "instance_os_image": m.os_image,
            "instance_ip": m.ip,
            "instance_gpu": m.gpu,
            "instance_profiles": m.profiles,
            "instance_config": m.config,
            "instance_devices": m.devices,
            "instance_storage_volumes": m.storage_volumes,
            "instance_roles": m.roles,
            "instance_boot_autostart": m.boot_autostart,
            "instance_boot_priority": m.boot_priority,
            "instance_snapshots_schedule": m.snapshots_schedule,
            "instance_snapshots_expiry": m.snapshots_expiry,
        }
    )


def render(res: Resolved, /) -> dict[Path, str]:
    """Return the managed-block body of every generated file, by relative path."""
    files = {Path("group_vars/all.yml"): to_yaml(all_vars(res))}
    via = routers(res)
    for dom in res.domains.values():
        if not dom.enabled:
            continue
        files[Path(f"inventory/{dom.name}.yml")] = to_yaml(inventory_vars(dom))
        files[Path(f"group_vars/{dom.name}.yml")] = to_yaml(domain_vars(dom, via.get(dom.name)))
        for machine in dom.machines.values():
            files[Path(f"host_vars/{machine.name}.yml")] = to_yaml(machine_vars(machine))
    return files
