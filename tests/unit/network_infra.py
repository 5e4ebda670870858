"""An infra with every policy form, shared by the network unit tests."""

from __future__ import annotations

import textwrap
from pathlib import Path

from anklume.engine.pipeline import resolve
from anklume.engine.resolved import Resolved

INFRA = """\
project_name: nettest
global:
  addressing: {base_octet: 10, zone_base: 60, zone_step: 10}
domains:
  tna:
    trust_level: admin
    nat: false
    machines:
      tna-1: {}
  tnb:
    trust_level: trusted
    machines:
      tnb-1: {}
      tnb-2: {ip: 10.70.0.20}
  tnc:
    trust_level: semi-trusted
    nat: false
    machines:
      tnc-1: {}
network_policies:
  - description: machine to machine
    from: tna-1
    to: tnb-1
    ports: [8080, 22]
  - description: both ways, every port
    from: tnb
    to: tnc
    ports: all
    bidirectional: true
  - description: syslog over udp
    from: tnc
    to: tna
    ports: [5514]
    protocol: udp
  - description: a machine reaches the host
    from: tna-1
    to: host
    ports: [8443]
  - description: the host, both ways
    from: host
    to: tnc
    ports: [9000]
    bidirectional: true
"""


def resolved(directory: Path, text: str = INFRA, *, firewall_vm: bool = False) -> Resolved:
    """Write ``text`` as infra.yml in ``directory`` and resolve it."""
    if firewall_vm:
        text = text.replace("global:\n", "global:\n  firewall_mode: vm\n").replace(
            "domains:\n", "domains:\n  anklume:\n    trust_level: admin\n    nat: false\n", 1
        )
    (directory / "infra.yml").write_text(textwrap.dedent(text), encoding="utf-8")
    return resolve(directory, check_roles=False)
