"""Decisions of the file portal: file_portal, read_only, file_policies, trust direction; path arithmetic."""

from __future__ import annotations

import typing as t

import pytest

from anklume.engine.model_portal import FilePolicy, FilePortal
from anklume.errors import UsageError
from anklume.portal import sides, spec
from anklume.portal.policy import Side, decide, under

PORTALS: dict[str, FilePortal | None] = {
    "pro": FilePortal(allowed_paths=["/srv/inbox", "/srv/out"]),
    "perso": FilePortal(allowed_paths=["/srv/share"]),
    "vault": FilePortal(allowed_paths=["/srv/pub"], read_only=True),
    "tmp": None,
}
TRUST = {"pro": "trusted", "perso": "semi-trusted", "vault": "admin", "tmp": "disposable"}
HOST = Side(None, None, "admin", "/root/x")


def side(machine: str, path: str) -> Side:
    domain = machine.split("-", maxsplit=1)[0]
    return Side(machine, domain, TRUST[domain], path)


class Case(t.NamedTuple):
    test_id: str
    src: Side
    dst: Side
    rules: list[FilePolicy]
    allowed: bool
    says: str  # in the reasons (denied) or the warnings (allowed); "" for none


RULE = [FilePolicy(from_="perso", to="pro")]
CASES = [
    Case("rule-allows", side("perso-web", "/srv/share/a"), side("pro-dev", "/srv/inbox/a"), RULE, True, "lower trust"),
    Case("no-rule", side("perso-web", "/srv/share/a"), side("pro-dev", "/srv/inbox/a"), [], False, "no file_policies"),
    Case("rule-one-way", side("pro-dev", "/srv/out/a"), side("perso-web", "/srv/share/a"), RULE, False, "no file_pol"),
    Case(
        "bidirectional",
        side("pro-dev", "/srv/out/a"),
        side("perso-web", "/srv/share/a"),
        [FilePolicy(from_="perso", to="pro", bidirectional=True)],
        True,
        "",
    ),
    Case(
        "machine-rule",
        side("perso-web", "/srv/share/a"),
        side("pro-dev", "/srv/inbox/a"),
        [FilePolicy(from_="perso-web", to="pro-dev")],
        True,
        "semi-trusted",
    ),
    Case(
        "other-machine-rule",
        side("perso-web", "/srv/share/a"),
        side("pro-dev", "/srv/inbox/a"),
        [FilePolicy(from_="perso-db", to="pro-dev")],
        False,
        "no file_policies",
    ),
    Case("same-domain", side("pro-dev", "/srv/out/a"), side("pro-web", "/srv/inbox/a"), [], True, ""),
    Case("outside-source", side("pro-dev", "/etc/passwd"), HOST, [], False, "outside the paths"),
    Case("outside-destination", HOST, side("pro-dev", "/etc/x"), [], False, "outside the paths"),
    Case("prefix-is-not-parent", HOST, side("pro-dev", "/srv/inboxes/x"), [], False, "outside the paths"),
    Case("no-portal", side("tmp-box", "/srv/a"), HOST, [], False, "has no file_portal"),
    Case("read-only-written", HOST, side("vault-box", "/srv/pub/a"), [], False, "read_only"),
    Case("read-only-read", side("vault-box", "/srv/pub/a"), HOST, [], True, ""),
    Case("host-in", HOST, side("pro-dev", "/srv/inbox/a"), [], True, ""),
    Case("host-out-warns", side("perso-web", "/srv/share/a"), HOST, [], True, "to the host (admin)"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.test_id for c in CASES])
def test_decisions(case: Case) -> None:
    decision = decide(case.src, case.dst, PORTALS, case.rules)
    assert decision.allowed is case.allowed
    text = " ".join(decision.warnings if case.allowed else decision.reasons)
    assert case.says in text if case.says else decision.warnings == []


def test_the_warning_names_both_trust_levels() -> None:
    decision = decide(side("perso-web", "/srv/share/a"), side("pro-dev", "/srv/inbox/a"), PORTALS, RULE)
    assert decision.warnings == [
        "copying from lower trust to higher trust: from domain 'perso' (semi-trusted) to domain 'pro' (trusted); "
        "the files may be hostile, open them with care"
    ]


def test_every_reason_is_given_at_once() -> None:
    decision = decide(side("tmp-box", "/x"), side("vault-box", "/etc/x"), PORTALS, [])
    assert len(decision.reasons) == 4  # no portal; read_only; outside; no rule


@pytest.mark.parametrize(
    ("path", "ok"),
    [("/srv/inbox", True), ("/srv/inbox/a/b", True), ("/srv/inbox/../etc", False), ("/srv/in", False), ("x", False)],
)
def test_under_is_lexical_and_refuses_dotdot(path: str, ok: bool) -> None:
    assert under(path, ["/srv/inbox"]) is ok


class Dest(t.NamedTuple):
    test_id: str
    probe: bytes
    expected: tuple[str, str] | str  # (landing, name) or the error text


DESTS = [
    Dest("into-directory", b"/srv/in\0dir\0missing\0dir\0", ("/srv/in", "tree")),
    Dest("new-name", b"/srv/in/new\0missing\0none\0dir\0", ("/srv/in", "new")),
    Dest("exists-inside", b"/srv/in\0dir\0file\0dir\0", "already exists there"),
    Dest("link-inside", b"/srv/in\0dir\0link\0dir\0", "already exists there"),
    Dest("file-exists", b"/srv/in/f\0file\0none\0dir\0", "never overwrites"),
    Dest("no-parent", b"/srv/no/f\0missing\0none\0missing\0", "parent directory does not exist"),
    Dest("marker-name", b"/srv/in/.anklume-portal-done\0missing\0none\0dir\0", "cannot be the name"),
]


@pytest.mark.parametrize("case", DESTS, ids=[d.test_id for d in DESTS])
def test_destination_follows_cp_and_never_overwrites(case: Dest) -> None:
    found = sides.parse_probe(case.probe)
    if isinstance(case.expected, tuple):
        assert sides.destination(found, "tree", "x") == case.expected
    else:
        with pytest.raises(UsageError, match=case.expected):
            sides.destination(found, "tree", "x")


@pytest.mark.parametrize(
    "answer", [b"", b"relative\0dir\0none\0dir\0", b"/a\0weird\0none\0dir\0", b"/a\0dir\0none\0dir\0extra\0"]
)
def test_a_probe_answer_that_is_not_ours_is_refused(answer: bytes) -> None:
    with pytest.raises(Exception, match="not what the portal's own script prints"):
        sides.parse_probe(answer)


def test_the_source_must_exist_and_not_be_the_root() -> None:
    assert sides.source_name(sides.parse_probe(b"/srv/a\0file\0none\0dir\0"), "x") == "a"
    with pytest.raises(UsageError, match="no such file"):
        sides.source_name(sides.parse_probe(b"/srv/a\0missing\0none\0dir\0"), "x")
    with pytest.raises(UsageError, match="whole root"):
        sides.source_name(sides.parse_probe(b"/\0dir\0none\0dir\0"), "x")


@pytest.mark.parametrize(
    ("text", "machine", "path"),
    [
        ("pro-dev:/a", "pro-dev", "/a"),
        ("rel/x", None, "/cwd/rel/x"),
        ("/abs", None, "/abs"),
        ("./a:b", None, "/cwd/./a:b"),
    ],
)
def test_sides_as_written(text: str, machine: str | None, path: str) -> None:
    assert spec.parse(text, {"pro-dev"}, "/cwd") == spec.Spec(machine, path)


@pytest.mark.parametrize("text", ["", "pro-dev:rel", "nope:/x"])
def test_bad_sides_are_usage_errors(text: str) -> None:
    with pytest.raises(UsageError):
        spec.parse(text, {"pro-dev"}, "/cwd")
