"""Fixtures for unit tests: infra directories written from text."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

WriteInfra = Callable[[str], Path]


@pytest.fixture
def write_infra(tmp_path: Path) -> WriteInfra:
    """Return a function that writes infra.yml (dedented) and returns its directory."""

    def write(text: str) -> Path:
        (tmp_path / "infra.yml").write_text(textwrap.dedent(text), encoding="utf-8")
        for role in ("base_system", "web"):
            (tmp_path / "roles_custom" / role / "tasks").mkdir(parents=True, exist_ok=True)
        return tmp_path

    return write


MINIMAL = """\
project_name: demo
global:
  addressing: {zone_base: 100}
domains:
  perso:
    trust_level: trusted
    subnet_id: 0
    machines:
      perso-a: {}
  pro:
    trust_level: trusted
    machines:
      pro-a: {}
      pro-b: {ip: 10.110.1.1}
"""
