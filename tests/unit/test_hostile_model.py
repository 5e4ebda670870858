"""Nothing from infra.yml reaches a generated file or a command line unescaped; reserved names are refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from anklume.cli.main import main
from anklume.engine.managed import extract, merge, render_block
from anklume.engine.yamlsrc import load_bounded
from tests.unit.conftest import WriteInfra

BASE = """\
project_name: demo
global:
  addressing: {zone_base: 100}
domains:
  pro:
    trust_level: trusted
    machines:
      pro-a: {}
"""


def _sync(root: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    rc = main(["-C", str(root), "sync"])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return rc, err


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        ("project_name: demo", 'project_name: "x\\nflush ruleset"', "infra.yml:1: project_name: must be letters"),
        ("project_name: demo", "project_name: my lab", "infra.yml:1: project_name: must be letters"),
        ("project_name: demo", 'project_name: "demo\\n"', "infra.yml:1: project_name: must be letters"),
        (
            "pro-a: {}",
            'pro-a: {description: "a\\nb"}',
            "infra.yml:8: domains.pro.machines.pro-a.description: must be one",
        ),
        ("pro-a: {}", 'pro-a: {description: "a\\rb"}', "domains.pro.machines.pro-a.description: must be one line"),
        ("pro-a: {}", 'pro-a: {description: "x\\u2028y"}', "domains.pro.machines.pro-a.description: must be one"),
        (
            "pro-a: {}",
            "pro-a: {description: 'x # === END MANAGED ==='}",
            "infra.yml:8: domains.pro.machines.pro-a.description: must not contain a managed-block marker",
        ),
        (
            "pro-a: {}",
            "pro-a: {config: {user.note: 'a\\n# === MANAGED BY infra.yml ===\\n'}}",
            "domains.pro.machines.pro-a.config.user.note: must not contain a managed-block marker",
        ),
        ("trust_level: trusted", 'trust_level: trusted\n    description: "a\\nb"', "domains.pro.description: must"),
        (
            "pro-a: {}",
            "pro-a: {config: {limits.cpu: .nan}}",
            "infra.yml:8: domains.pro.machines.pro-a.config.limits.cpu",
        ),
        ("pro-a: {}", "pro-a: {config: {limits.cpu: -.inf}}", "NaN and infinite numbers are not allowed (got -inf)"),
        ("pro-a: {}", 'pro-a: {config: {user.x: "a\\0b"}}', "config.user.x: must not contain a NUL character"),
        ("pro-a: {}", 'pro-a: {persistent_data: {d: {path: "/srv/a\\nb"}}}', "persistent_data.d.path: must be an"),
        ("pro-a: {}", 'pro-a: {snapshots_schedule: "0 6 * * \\x01*"}', "snapshots_schedule: must be a cron"),
        (
            "addressing: {zone_base: 100}",
            'addressing: {zone_base: 100}\n  shared_volumes_base: "/a\\tb"',
            "global.shared",
        ),
        ("  addressing: {zone_base: 100}", "  resource_policy: {host_reserve: {cpu: .inf}}", "host_reserve.cpu"),
    ],
)
def test_unsafe_values_are_one_clear_error(
    write_infra: WriteInfra, capsys: pytest.CaptureFixture[str], old: str, new: str, where: str
) -> None:
    root = write_infra(BASE.replace(old, new, 1))
    rc, err = _sync(root, capsys)
    assert rc == 2
    assert where in err
    assert not (root / "group_vars").exists()


def test_policy_description_is_one_line(write_infra: WriteInfra, capsys: pytest.CaptureFixture[str]) -> None:
    root = write_infra(BASE + 'network_policies:\n  - {description: "a\\nflush ruleset", from: host, to: pro}\n')
    rc, err = _sync(root, capsys)
    assert rc == 2
    assert "infra.yml:10: network_policies[0].description: must be one line" in err


def test_multi_line_config_values_stay_allowed(write_infra: WriteInfra, capsys: pytest.CaptureFixture[str]) -> None:
    text = BASE.replace(
        "pro-a: {}",
        "pro-a:\n        config:\n          cloud-init.user-data: |\n"
        "            #cloud-config\n            packages: [vim]\n",
    )
    root = write_infra(text)
    rc, _ = _sync(root, capsys)
    assert rc == 0
    body = load_bounded(extract((root / "host_vars" / "pro-a.yml").read_text()) or "")
    assert body["instance_config"]["cloud-init.user-data"] == "#cloud-config\npackages: [vim]\n"


def test_jinja_in_a_value_is_written_as_unsafe_text(
    write_infra: WriteInfra, capsys: pytest.CaptureFixture[str]
) -> None:
    evil = "{{ lookup('pipe', 'touch /tmp/pwned') }}"
    root = write_infra(BASE.replace("pro-a: {}", f'pro-a: {{description: "{evil}", config: {{user.x: "{{% x %}}"}}}}'))
    rc, _ = _sync(root, capsys)
    assert rc == 0
    text = (root / "host_vars" / "pro-a.yml").read_text()
    assert "instance_description: !unsafe '{{ lookup(''pipe'', ''touch /tmp/pwned'') }}'" in text
    assert "user.x: !unsafe '{% x %}'" in text
    assert load_bounded(extract(text) or "")["instance_description"] == evil
    assert main(["-C", str(root), "sync", "--check"]) == 0


@pytest.mark.parametrize(
    ("snippet", "key"),
    [
        ("  all:\n    trust_level: trusted\n", "infra.yml:9: domains.all: 'all' is reserved"),
        ("  ungrouped: {trust_level: trusted}\n", "infra.yml:9: domains.ungrouped: 'ungrouped' is reserved"),
        ("  localhost: {trust_level: trusted}\n", "infra.yml:9: domains.localhost: 'localhost' is reserved"),
        ("  web:\n    machines:\n      all: {}\n", "infra.yml:11: domains.web.machines.all: 'all' is reserved"),
        ("  web:\n    machines:\n      localhost: {}\n", "domains.web.machines.localhost: 'localhost' is reserved"),
        ("  web:\n    machines:\n      ungrouped: {}\n", "domains.web.machines.ungrouped: 'ungrouped' is reserved"),
    ],
)
def test_reserved_names_are_refused(
    write_infra: WriteInfra, capsys: pytest.CaptureFixture[str], snippet: str, key: str
) -> None:
    root = write_infra(BASE + snippet)
    rc, err = _sync(root, capsys)
    assert rc == 2
    assert key in err
    assert not (root / "group_vars").exists()


def test_names_from_the_files_never_reach_the_terminal_raw(
    write_infra: WriteInfra, capsys: pytest.CaptureFixture[str]
) -> None:
    root = write_infra(BASE.replace("pro-a: {}", 'pro-a: {}\n      "\\e]0;owned\\a\\e[2J": {}'))
    rc, err = _sync(root, capsys)
    assert rc == 2
    assert "\x1b" not in err
    assert "\x07" not in err
    assert "invalid name '\\x1b]0;owned\\x07\\x1b[2J'" in err


def test_orphan_file_names_are_shown_escaped(write_infra: WriteInfra, capsys: pytest.CaptureFixture[str]) -> None:
    root = write_infra(BASE)
    assert main(["-C", str(root), "sync"]) == 0
    (root / "host_vars" / "\x1b[2Jgone.yml").write_text(merge(None, render_block("instance_ephemeral: false\n")))
    capsys.readouterr()
    assert main(["-C", str(root), "sync", "--check"]) == 3
    assert main(["-C", str(root), "sync"]) == 0
    captured = capsys.readouterr()
    assert "\x1b" not in captured.out + captured.err
    assert "host_vars/\\x1b[2Jgone.yml (orphan)" in captured.out
    assert "orphan host_vars/\\x1b[2Jgone.yml is protected" in captured.err
