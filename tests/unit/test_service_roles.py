"""The service roles: documented defaults, the shape rules, and installs only through registries.

Each default has a comment and a README row (habit H13) and carries the role
prefix; ``tasks/main.yml`` only dispatches; no task file over 200 lines; no
``meta`` dependency; every command task says when it changes something; and
nothing is fetched by a shell pipe or a git clone: packages come from the
Debian, PyPI and npm registries (through the domain's package proxy) or
from an archive the user provides with its checksum.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent.parent
SERVICE_ROLES = (
    "ollama_server",
    "open_webui",
    "stt_server",
    "lobechat",
    "opencode_server",
    "openclaw_server",
    "code_sandbox",
    "dev_test_runner",
    "dev_agent_runner",
)
SCENARIOS = {
    "dev_test_runner": {"default"},
    "opencode_server": {"default"},
    "dev_agent_runner": {"default", "services"},
}
"""Each role's Molecule scenarios: ``default`` runs in ``make test``, ``services`` in ``make test-services``.

dev_agent_runner has both: its PyPI install (light) in ``make test``, its npm one in ``services``.
The roles not named here have only ``services``.
"""
_DEFAULT = re.compile(r"^([a-z][a-z0-9_]*):")
_FORBIDDEN = re.compile(r"curl[^\n]*\|\s*(ba)?sh|wget[^\n]*\|\s*(ba)?sh|ansible\.builtin\.git\b|git, clone|git clone")


def _defaults(role: str) -> list[tuple[str, bool]]:
    lines = (ROOT / "roles" / role / "defaults" / "main.yml").read_text(encoding="utf-8").splitlines()
    return [
        (m.group(1), i > 0 and lines[i - 1].startswith("#"))
        for i, line in enumerate(lines)
        if (m := _DEFAULT.match(line))
    ]


def _tasks(role: str) -> list[dict[str, object]]:
    found: list[dict[str, object]] = []
    for path in [*sorted((ROOT / "roles" / role).glob("tasks/*.yml")), ROOT / "roles" / role / "handlers/main.yml"]:
        if path.is_file():
            found += yaml.safe_load(path.read_text(encoding="utf-8")) or []
    return found


@pytest.mark.parametrize("role", SERVICE_ROLES)
def test_every_default_is_prefixed_commented_and_in_the_readme(role: str) -> None:
    readme = (ROOT / "roles" / role / "README.md").read_text(encoding="utf-8")
    defaults = _defaults(role)
    assert defaults
    for name, commented in defaults:
        assert name.startswith(f"{role}_"), f"{name}: role variables carry the role prefix"
        assert commented, f"{name}: add a comment above the default"
        assert f"| `{name}` |" in readme, f"{name}: add a row to the README table"


@pytest.mark.parametrize("role", SERVICE_ROLES)
def test_role_shape(role: str) -> None:
    base = ROOT / "roles" / role
    main = yaml.safe_load((base / "tasks" / "main.yml").read_text(encoding="utf-8"))
    assert all(t.get("ansible.builtin.include_tasks") for t in main), "tasks/main.yml only dispatches"
    for task_file in (base / "tasks").glob("*.yml"):
        assert len(task_file.read_text(encoding="utf-8").splitlines()) <= 200, task_file.name
    assert yaml.safe_load((base / "meta" / "main.yml").read_text(encoding="utf-8"))["dependencies"] == []
    health = [t for t in _tasks(role) if "health" in str(t.get("name", "")).lower() or "check" in str(t.get("name"))]
    assert health, "every service role checks that what it installed answers"


@pytest.mark.parametrize("role", SERVICE_ROLES)
def test_nothing_is_fetched_by_a_pipe_or_a_clone(role: str) -> None:
    for path in (ROOT / "roles" / role).rglob("*"):
        if path.is_file() and path.suffix in {".yml", ".j2", ".sh"}:
            assert not _FORBIDDEN.search(path.read_text(encoding="utf-8")), path


@pytest.mark.parametrize("role", SERVICE_ROLES)
def test_command_tasks_say_when_they_change(role: str) -> None:
    for task in _tasks(role):
        if "ansible.builtin.command" in task:
            assert "changed_when" in task or "creates" in dict(task["ansible.builtin.command"]), task["name"]  # type: ignore[call-overload]


@pytest.mark.parametrize("role", SERVICE_ROLES)
def test_services_bind_the_instance_address_not_every_interface(role: str) -> None:
    service = ROOT / "roles" / role / "tasks" / "service.yml"
    for unit in (ROOT / "roles" / role / "templates").glob("*.service.j2"):
        text = unit.read_text(encoding="utf-8")
        assert "0.0.0.0" not in text, unit
        assert f"{role}_address" in text + service.read_text(encoding="utf-8"), f"{unit}: bind the instance's address"
    defaults = (ROOT / "roles" / role / "defaults" / "main.yml").read_text(encoding="utf-8")
    if f"{role}_address:" in defaults:
        assert "instance_ip" in defaults


@pytest.mark.parametrize("role", SERVICE_ROLES)
def test_each_role_has_its_molecule_scenario_in_the_right_target(role: str) -> None:
    wanted = SCENARIOS.get(role, {"services"})
    for scenario in wanted:
        base = ROOT / "roles" / role / "molecule" / scenario
        for name in ("molecule.yml", "prepare.yml", "converge.yml", "verify.yml", "cleanup.yml"):
            assert (base / name).is_file(), f"{base / name}"
    assert {p.name for p in (ROOT / "roles" / role / "molecule").iterdir()} == wanted


@pytest.mark.parametrize("role", SERVICE_ROLES)
def test_installs_go_through_the_package_proxy_variable(role: str) -> None:
    defaults = (ROOT / "roles" / role / "defaults" / "main.yml").read_text(encoding="utf-8")
    uses_registry = any(k in str(_tasks(role)) for k in ("community.general.npm", "ansible.builtin.pip"))
    if uses_registry:
        assert "anklume_package_proxy" in defaults, "npm/pip installs default to the domain's package proxy"
