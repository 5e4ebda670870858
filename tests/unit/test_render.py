"""Stage 4: the variables of each file, in the format existing users have."""

from __future__ import annotations

import textwrap
from pathlib import Path

from anklume.engine.enrich import enrich
from anklume.engine.host import HostFacts
from anklume.engine.load import load
from anklume.engine.render import render
from anklume.engine.validate import validate

INFRA = """\
project_name: shop
global:
  base_subnet: "10.100"
  default_os_image: anklume/debian-12
  default_connection: community.general.incus
domains:
  pro:
    description: Work
    subnet_id: 3
    profiles:
      big: {config: {limits.cpu: 4}}
    machines:
      web:
        ip: 10.100.3.10
        profiles: [default, big]
        config: {boot.autostart: true}
        roles: [base_system]
        boot_priority: 10
      tmp: {ephemeral: true}
  off:
    subnet_id: 4
    enabled: false
    machines: {gone: {}}
network_policies:
  - {from: pro, to: host, ports: [53], protocol: udp}
"""


def rendered(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "infra.yml").write_text(INFRA)
    doc = load(tmp_path)
    files = render(enrich(validate(doc), HostFacts(), doc.source))
    return {str(k): v for k, v in files.items()}


def test_files_of_enabled_domains_only(tmp_path: Path) -> None:
    assert sorted(rendered(tmp_path)) == [
        "group_vars/all.yml",
        "group_vars/pro.yml",
        "host_vars/tmp.yml",
        "host_vars/web.yml",
        "inventory/pro.yml",
    ]


def test_all_yml(tmp_path: Path) -> None:
    assert rendered(tmp_path)["group_vars/all.yml"] == textwrap.dedent(
        """\
        project_name: shop
        base_subnet: '10.100'
        default_os_image: anklume/debian-12
        psot_default_connection: community.general.incus
        incus_all_images:
        - anklume/debian-12
        network_policies:
        - from: pro
          to: host
          ports:
          - 53
          protocol: udp
        """
    )


def test_inventory_without_address_has_a_bare_host(tmp_path: Path) -> None:
    assert rendered(tmp_path)["inventory/pro.yml"] == textwrap.dedent(
        """\
        all:
          children:
            pro:
              hosts:
                web:
                  ansible_host: 10.100.3.10
                tmp: null
        """
    )


def test_domain_vars(tmp_path: Path) -> None:
    assert rendered(tmp_path)["group_vars/pro.yml"] == textwrap.dedent(
        """\
        domain_name: pro
        domain_description: Work
        domain_ephemeral: false
        domain_ai_provider: local
        domain_ai_sanitize: false
        incus_project: pro
        incus_network:
          name: net-pro
          subnet: 10.100.3.0/24
          gateway: 10.100.3.254
        subnet_id: 3
        incus_profiles:
          big:
            config:
              limits.cpu: '4'
        """
    )


def test_machine_vars(tmp_path: Path) -> None:
    files = rendered(tmp_path)
    assert files["host_vars/web.yml"] == textwrap.dedent(
        """\
        instance_name: web
        instance_type: lxc
        instance_description: ''
        instance_domain: pro
        instance_ephemeral: false
        instance_os_image: anklume/debian-12
        instance_ip: 10.100.3.10
        instance_profiles:
        - default
        - big
        instance_config:
          boot.autostart: 'true'
        instance_roles:
        - base_system
        instance_boot_priority: 10
        """
    )
    assert "instance_ephemeral: true" in files["host_vars/tmp.yml"]
    assert "instance_ip" not in files["host_vars/tmp.yml"]
