"""Nothing reaches the nftables ruleset unescaped: names validated, free text escaped, cut by bytes."""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from anklume.engine.resolved import Resolved, ResolvedPolicy
from anklume.network.nftsafe import COMMENT_BYTES, comment, table_for, text
from anklume.network.ruleset import render
from tests.unit.network_infra import resolved

NFT = shutil.which("nft") or shutil.which("nft", path="/usr/sbin:/sbin")
UNSHARE = shutil.which("unshare")
NEEDS_NFT = pytest.mark.skipif(
    NFT is None or UNSHARE is None or os.geteuid() != 0,
    reason="needs nft, unshare and root (a throw-away network namespace)",
)

_BASE: dict[str, Resolved] = {}


def base(tmp_path_factory: pytest.TempPathFactory) -> Resolved:
    if "r" not in _BASE:
        _BASE["r"] = resolved(tmp_path_factory.mktemp("escape"))
    return _BASE["r"]


def tweak(res: Resolved, project: str, description: str, domain: str, bridge: str | None = None) -> Resolved:
    """The base infra with an odd project name, policy descriptions and one domain's name (and bridge)."""
    tna = res.domains["tna"]
    renamed = dataclasses.replace(tna, name=domain, network_name=tna.network_name if bridge is None else bridge)
    domains = {**{k: v for k, v in res.domains.items() if k != "tna"}, "tna": renamed}
    policies = [dataclasses.replace(p, description=description) for p in res.policies]
    return dataclasses.replace(res, project_name=project, domains=domains, policies=policies)


def statements(ruleset: str, table: str) -> list[str]:
    """The top-level statements of a rendered file (every line outside the table body and comments)."""
    depth, found = 0, []
    for line in ruleset.splitlines():
        if line.startswith("#"):
            continue
        if depth == 0 and line:
            found.append(line)
        bare = re.sub(r'"[^"]*"', '""', line)  # braces inside quoted strings do not count
        depth += bare.count("{") - bare.count("}")
    return found


def own_only(ruleset: str, table: str) -> None:
    allowed = {f"table inet {table} {{}}", f"delete table inet {table}", f"table inet {table} {{"}
    assert set(statements(ruleset, table)) <= allowed, statements(ruleset, table)
    for line in ruleset.splitlines():  # every quoted string is closed on its line: no quote inside a comment
        assert line.count('"') % 2 == 0, line
        found = re.search(r'comment "([^"]*)"', line)
        if found:
            assert len(found.group(1).encode()) <= COMMENT_BYTES


_LIST = (
    "import subprocess, sys; nft = sys.argv[1]; "
    "subprocess.run([nft, '-f', '-'], stdin=sys.stdin, check=True); "
    "sys.exit(subprocess.run([nft, 'list', 'ruleset']).returncode)"
)


def loaded_ruleset(ruleset: str) -> str:
    """Load the text into an empty network namespace and list the whole ruleset back."""
    assert NFT is not None and UNSHARE is not None
    argv = [UNSHARE, "--net", "--", sys.executable, "-c", _LIST, NFT]
    proc = subprocess.run(argv, input=ruleset, capture_output=True, text=True, timeout=30, check=False)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_comments_are_cut_by_bytes_without_splitting_a_character() -> None:
    cut = text("€" * 100)  # 3 bytes each
    assert len(cut.encode()) <= COMMENT_BYTES
    assert cut == "€" * (COMMENT_BYTES // 3)
    assert text("a" * 119 + "€") == "a" * 119
    assert comment('a"b\\c\nd\x00e\u2028f') == 'comment "a b c d e f"'


def test_the_header_cannot_carry_a_statement(tmp_path: Path) -> None:
    res = tweak(resolved(tmp_path), "lab\nflush ruleset\n#", "d", "tna")
    out = render(res, table="anklume_x").text
    assert "\nflush ruleset" not in out
    own_only(out, "anklume_x")


def test_bad_bridge_names_are_refused(tmp_path: Path) -> None:
    for bridge in ('net-x" accept', "net-x\n", "a" * 16, "net x", "net/x", ""):
        with pytest.raises(ValueError, match="invalid interface name"):
            render(tweak(resolved(tmp_path), "p", "d", "tna", bridge), table="anklume_x")


def test_a_bad_protocol_is_refused(tmp_path: Path) -> None:
    res = resolved(tmp_path)
    bad = [dataclasses.replace(p, protocol="tcp accept; drop") if p.ports != "all" else p for p in res.policies]
    assert any(p.protocol not in {"tcp", "udp"} for p in bad)
    with pytest.raises(ValueError, match="invalid protocol"):
        render(dataclasses.replace(res, policies=bad), table="anklume_x")


def test_policy_ports_must_be_numbers(tmp_path: Path) -> None:
    res = resolved(tmp_path)
    bad = [ResolvedPolicy("x", "tna", "tnb", ["22 } accept"], "tcp", False)]  # type: ignore[list-item]
    with pytest.raises(ValueError):
        render(dataclasses.replace(res, policies=bad), table="anklume_x")


ANY_TEXT = st.text(min_size=0, max_size=200)
NAMES = st.text(min_size=1, max_size=100)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(project=NAMES, description=ANY_TEXT, domain=NAMES, bridge=st.one_of(st.none(), st.text(max_size=20)))
def test_random_strings_only_ever_declare_the_own_table(
    tmp_path_factory: pytest.TempPathFactory, project: str, description: str, domain: str, bridge: str | None
) -> None:
    res = tweak(base(tmp_path_factory), project, description, domain, bridge)
    table = table_for(project)
    try:
        out = render(res, table=table).text
    except ValueError as exc:  # refused cleanly: only a bad bridge name may be refused
        assert bridge is not None and "invalid interface name" in str(exc)
        return
    own_only(out, table)


@NEEDS_NFT
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(project=NAMES, description=ANY_TEXT, domain=NAMES)
def test_what_nft_accepts_is_only_the_own_table(
    tmp_path_factory: pytest.TempPathFactory, project: str, description: str, domain: str
) -> None:
    table = table_for(project)
    out = render(tweak(base(tmp_path_factory), project, description, domain), table=table).text
    listed = loaded_ruleset(out)
    assert re.findall(r"^table \S+ \S+", listed, re.MULTILINE) == [f"table inet {table}"]
    assert re.findall(r"^\tchain (\S+)", listed, re.MULTILINE) == ["forward", "input"]
    assert f'comment "{text("anklume infra " + project)}"' in listed
