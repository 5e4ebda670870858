"""The console layout model: built from the resolved infra, filtered by running state."""

from __future__ import annotations

import typing as t

import pytest

from anklume.console.colours import TRUST_LEVELS, border_format, colours_for, pane_style
from anklume.console.layout import (
    DomainPanes,
    Layout,
    MachinePane,
    describe,
    layout_from,
    running_only,
)
from anklume.console.running import running_instances
from anklume.console.session import idle_pane, incus_exec
from anklume.engine.pipeline import resolve
from anklume.errors import UsageError
from tests.unit.conftest import WriteInfra

INFRA = """\
project_name: demo
global:
  addressing: {zone_base: 100}
domains:
  admin:
    trust_level: admin
    machines:
      admin-ctl: {}
  pro:
    trust_level: trusted
    machines:
      pro-dev: {}
      pro-web: {}
  old:
    enabled: false
    trust_level: untrusted
    machines:
      old-box: {}
  lab:
    trust_level: disposable
"""


def test_layout_lists_enabled_domains_in_order_with_their_machines(write_infra: WriteInfra) -> None:
    layout = layout_from(resolve(write_infra(INFRA), check_roles=False))
    assert [(d.name, d.trust_level) for d in layout.domains] == [
        ("admin", "admin"),
        ("pro", "trusted"),
        ("lab", "disposable"),
    ]
    pro = layout.domains[1]
    assert pro.machines == (
        MachinePane("pro-dev", "pro-dev", "pro"),
        MachinePane("pro-web", "pro-web", "pro"),
    )
    assert layout.domains[2].machines == ()


def test_domain_option_keeps_one_window(write_infra: WriteInfra) -> None:
    layout = layout_from(resolve(write_infra(INFRA), check_roles=False), domain="pro")
    assert [d.name for d in layout.domains] == ["pro"]


@pytest.mark.parametrize("name", ["nope", "old"], ids=["unknown", "disabled"])
def test_domain_option_rejects_what_has_no_window(write_infra: WriteInfra, name: str) -> None:
    with pytest.raises(UsageError, match=f"no enabled domain named '{name}'.*admin, pro, lab"):
        layout_from(resolve(write_infra(INFRA), check_roles=False), domain=name)


class BadName(t.NamedTuple):
    test_id: str
    name: str
    incus_name: str
    project: str


BAD_NAMES = [
    BadName("option-like-instance", "web", "--force", "pro"),
    BadName("space-in-project", "web", "web", "pro jects"),
    BadName("semicolon-in-machine", "web;rm", "web", "pro"),
    BadName("empty-instance", "web", "", "pro"),
]


@pytest.mark.parametrize("case", BAD_NAMES, ids=[c.test_id for c in BAD_NAMES])
def test_names_that_would_reach_a_command_line_are_validated(case: BadName) -> None:
    with pytest.raises(ValueError, match="invalid"):
        MachinePane(case.name, case.incus_name, case.project)


def test_unknown_trust_level_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown trust level 'root'"):
        DomainPanes("pro", "root")


def test_every_trust_level_has_its_own_colours() -> None:
    colours = [colours_for(level) for level in TRUST_LEVELS]
    assert [c.name for c in colours] == ["blue", "green", "yellow", "red", "magenta"]
    assert len({c.border for c in colours}) == len({c.background for c in colours}) == 5
    assert pane_style("admin") == "bg=colour17"


def test_border_label_never_shows_the_pane_title() -> None:
    for level in TRUST_LEVELS:
        fmt = border_format(level)
        assert "#{@anklume_label}" in fmt
        assert "pane_title" not in fmt


def test_running_only_keeps_running_machines_and_every_domain() -> None:
    layout = Layout(
        (
            DomainPanes("pro", "trusted", (MachinePane("web", "001-web", "001-pro"), MachinePane("db", "db", "pro"))),
            DomainPanes("lab", "disposable", (MachinePane("x", "x", "lab"),)),
        )
    )
    running = running_instances(
        lambda: [
            {"name": "001-web", "project": "001-pro", "status": "Running"},
            {"name": "db", "project": "other", "status": "Running"},
            {"name": "x", "project": "lab", "status": "Frozen"},
        ]
    )
    kept = running_only(layout, running)
    assert [(d.name, [m.name for m in d.machines]) for d in kept.domains] == [("pro", ["web"]), ("lab", [])]


def test_describe_marks_every_machine_and_idle_domains() -> None:
    layout = Layout(
        (DomainPanes("lab", "disposable"), DomainPanes("pro", "trusted", (MachinePane("web", "web", "pro"),)))
    )
    assert describe(layout, state="declared") == [
        "window lab  (disposable, magenta)",
        "  (no machine: placeholder pane)",
        "window pro  (trusted, green)",
        "  pane pro/web  instance web in project pro  [declared]",
    ]


def test_pane_commands_are_argv_lists(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANKLUME_INCUS", "/opt/incus/bin/incus")
    assert incus_exec(MachinePane("web", "web", "pro")) == [
        "/opt/incus/bin/incus", "exec", "--project", "pro", "web", "--", "su", "-l",
    ]  # fmt: skip
    argv = idle_pane("lab")
    assert argv[:2] == ["sh", "-c"]
    assert "lab" not in argv[2]
    assert argv[-1] == "lab"
