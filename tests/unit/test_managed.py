"""The managed block: rendering, finding, replacing, and the bytes around it."""

from __future__ import annotations

import typing as t
from pathlib import Path

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from anklume.engine.managed import (
    CLOSE,
    NEW_FILE_TAIL,
    NOTICE,
    NOTICES,
    OPEN,
    GeneratedFileError,
    extract,
    locate,
    merge,
    render_block,
)
from anklume.errors import AnklumeError

BLOCK = render_block("new: 1\n")
OLD_BLOCK = render_block("old: 1\n")
LEGACY_NOTICE = "# Do not edit this section — it will be overwritten by `make sync`"


def test_render_block_is_markers_notice_and_body() -> None:
    assert render_block("a: 1\nb: 2\n") == f"{OPEN}\n{NOTICE}\na: 1\nb: 2\n{CLOSE}\n"


def test_render_block_adds_a_missing_final_newline() -> None:
    assert render_block("a: 1") == render_block("a: 1\n")


def test_render_block_of_an_empty_body_has_no_blank_line() -> None:
    assert render_block("") == f"{OPEN}\n{NOTICE}\n{CLOSE}\n"


@pytest.mark.parametrize("marker", [OPEN, CLOSE])
def test_render_block_rejects_a_body_holding_a_marker(marker: str) -> None:
    with pytest.raises(ValueError, match="marker"):
        render_block(f"a: 1\n{marker}\n")


def test_markers_are_exactly_those_of_existing_files() -> None:
    assert OPEN == "# === MANAGED BY infra.yml ==="
    assert CLOSE == "# === END MANAGED ==="
    assert NOTICE.startswith("# Do not edit")


@pytest.mark.parametrize("existing", [None, ""])
def test_new_file_is_document_start_block_blank_line_and_invitation(existing: str | None) -> None:
    assert merge(existing, BLOCK) == f"---\n{BLOCK}\n# Your custom variables below:\n"
    assert NEW_FILE_TAIL == "\n# Your custom variables below:\n"


class Kept(t.NamedTuple):
    test_id: str
    before: str
    after: str


KEPT = [
    Kept("typical", "---\n", "\n# Your custom variables below:\nmine: 1\n"),
    Kept("no_trailing_newline", "---\n", "\nmine: 1"),
    Kept("block_at_end_of_file", "---\nmine: 0\n", ""),
    Kept("crlf", "---\r\nmine: 0\r\n", "\r\n\r\nmine: 1\r\n"),
    Kept("unicode", "# café ☕ 日本\n", "\nclé: «valeur» 🚀\u2028x\n"),
    Kept("lone_cr_and_tabs", "a:\r\tb\n", "\n\x0bweird\x0c\r\rstuff"),
    Kept("surrogate_escaped_bytes", "# \udcff\udc80\n", "\nbad: \udce9\n"),
    Kept("block_first", "", "\nmine: 1\n"),
    Kept("near_miss_text", "# === MANAGED BY infra.yaml ===\n", "\n#=== END MANAGED ===\n"),
]


@pytest.mark.parametrize("case", KEPT, ids=[c.test_id for c in KEPT])
def test_merge_replaces_only_the_block(case: Kept) -> None:
    existing = f"{case.before}{OLD_BLOCK[:-1]}{case.after}"
    assert merge(existing, BLOCK) == f"{case.before}{BLOCK[:-1]}{case.after}"


def test_merge_replaces_a_block_with_crlf_marker_lines() -> None:
    old = OLD_BLOCK.replace("\n", "\r\n")
    merged = merge(f"---\r\n{old}\r\nmine: 1\r\n", BLOCK)
    assert merged == f"---\r\n{BLOCK[:-1]}\r\n\r\nmine: 1\r\n"


def test_merge_replaces_a_block_with_the_legacy_notice() -> None:
    existing = f"---\n{OPEN}\n{LEGACY_NOTICE}\nold: 1\n{CLOSE}\n\nmine: 1\n"
    assert merge(existing, BLOCK) == f"---\n{BLOCK}\nmine: 1\n"


class Unmarked(t.NamedTuple):
    test_id: str
    existing: str
    expected: str


UNMARKED = [
    Unmarked("plain", "mine: 1\n", f"---\n{BLOCK}\nmine: 1\n"),
    Unmarked("no_trailing_newline", "mine: 1", f"---\n{BLOCK}\nmine: 1"),
    Unmarked("document_start", "---\nmine: 1\n", f"---\n{BLOCK}\nmine: 1\n"),
    Unmarked("document_start_crlf", "---\r\nmine: 1\r\n", f"---\r\n{BLOCK}\nmine: 1\r\n"),
    Unmarked("document_start_comment", "--- # vars\nm: 1\n", f"--- # vars\n{BLOCK}\nm: 1\n"),
    Unmarked("comments_first", "# mine\n\n---\nm: 1\n", f"# mine\n\n---\n{BLOCK}\nm: 1\n"),
    Unmarked("directive", "%YAML 1.2\n---\nm: 1\n", f"%YAML 1.2\n---\n{BLOCK}\nm: 1\n"),
    Unmarked("comment_only", "# just a note\n", f"---\n{BLOCK}\n# just a note\n"),
    Unmarked("bare_document_start", "---", f"---\n{BLOCK}\n"),
    Unmarked("later_document_start", "m: 1\n---\n", f"---\n{BLOCK}\nm: 1\n---\n"),
    Unmarked("indented_dashes", "  ---\n", f"---\n{BLOCK}\n  ---\n"),
    Unmarked("bom", "\ufeffm: 1\n", f"\ufeff---\n{BLOCK}\nm: 1\n"),
    Unmarked("bom_document_start", "\ufeff---\nm: 1\n", f"\ufeff---\n{BLOCK}\nm: 1\n"),
]


@pytest.mark.parametrize("case", UNMARKED, ids=[c.test_id for c in UNMARKED])
def test_merge_puts_the_block_on_top_of_a_file_without_markers(case: Unmarked) -> None:
    merged = merge(case.existing, BLOCK)
    assert merged == case.expected
    assert merge(merged, BLOCK) == merged


def test_merge_refuses_content_on_the_document_start_line() -> None:
    with pytest.raises(GeneratedFileError, match=r"host_vars/web\.yml:2: content on the '---'"):
        merge("# head\n--- {a: 1}\n", BLOCK, Path("host_vars/web.yml"))


def test_merge_takes_only_a_rendered_block() -> None:
    with pytest.raises(ValueError, match="render_block"):
        merge("a: 1\n", "new: 1\n")


class Broken(t.NamedTuple):
    test_id: str
    text: str
    line: int
    message: str


BROKEN = [
    Broken("open_never_closed", f"---\n{OPEN}\na: 1\n", 2, "never closed"),
    Broken("close_alone", f"---\na: 1\n{CLOSE}\n", 3, "without an opening"),
    Broken("close_before_open", f"{CLOSE}\n{OPEN}\n", 1, "without an opening"),
    Broken("nested_open", f"{OPEN}\n{OPEN}\n{CLOSE}\n", 2, "inside the managed block"),
    Broken("two_blocks", f"{OPEN}\n{CLOSE}\nx: 1\n{OPEN}\n{CLOSE}\n", 4, "more than one"),
    Broken("two_closes", f"{OPEN}\n{CLOSE}\n{CLOSE}\n", 3, "more than one"),
    Broken("marker_with_text", f"{OPEN}\na: 1\n{CLOSE} # done\n", 3, "alone on its line"),
    Broken("indented_marker", f"  {OPEN}\n{CLOSE}\n", 1, "alone on its line"),
    Broken("marker_in_value", f"{OPEN}\n{CLOSE}\nk: '{OPEN}'\n", 3, "alone on its line"),
]


@pytest.mark.parametrize("case", BROKEN, ids=[c.test_id for c in BROKEN])
def test_broken_markers_are_an_error_naming_file_and_line(case: Broken) -> None:
    path = Path("group_vars/pro.yml")
    with pytest.raises(GeneratedFileError) as caught:
        merge(case.text, BLOCK, path)
    assert caught.value.path == path
    assert caught.value.line == case.line
    assert case.message in str(caught.value)
    assert str(caught.value).startswith(f"group_vars/pro.yml:{case.line}: ")
    with pytest.raises(GeneratedFileError, match=f"^group_vars/pro.yml:{case.line}: "):
        extract(case.text, path)


def test_generated_file_error_is_an_invalid_input_error() -> None:
    err = GeneratedFileError(Path("inventory/pro.yml"), "broken")
    assert isinstance(err, AnklumeError)
    assert err.exit_code == 2
    assert str(err) == "inventory/pro.yml: broken"


class Extracted(t.NamedTuple):
    test_id: str
    text: str
    body: str | None


EXTRACTED = [
    Extracted("no_block", "mine: 1\n", None),
    Extracted("rendered", f"---\n{render_block('a: 1')}\nmine: 1\n", "a: 1\n"),
    Extracted("empty_body", f"---\n{render_block('')}", ""),
    Extracted("legacy_notice", f"{OPEN}\n{LEGACY_NOTICE}\na: 1\n{CLOSE}", "a: 1\n"),
    Extracted("no_notice", f"{OPEN}\na: 1\n{CLOSE}\n", "a: 1\n"),
    Extracted("crlf", f"{OPEN}\r\n{NOTICE}\r\na: 1\r\n{CLOSE}\r\n", "a: 1\r\n"),
    Extracted("user_edited_notice", f"{OPEN}\n# mine\na: 1\n{CLOSE}\n", "# mine\na: 1\n"),
]


@pytest.mark.parametrize("case", EXTRACTED, ids=[c.test_id for c in EXTRACTED])
def test_extract_returns_the_block_body(case: Extracted) -> None:
    assert extract(case.text) == case.body


def test_locate_is_none_without_markers() -> None:
    assert locate("a: 1\n# MANAGED BY infra.yml\n") is None


# --- properties ----------------------------------------------------------------------------

PIECES = st.one_of(
    st.text(),
    st.sampled_from(["\n", "\r\n", "\r", "---", "--- ", "# ", "%YAML 1.2", "\ufeff", "\u2028", "\udcff"]),
    st.sampled_from(["# === MANAGED BY", "# === END MANAGED", " ===", "infra.yml", "é☕🚀"]),
)


def _clean(text: str) -> bool:
    return OPEN not in text and CLOSE not in text


TEXT = st.lists(PIECES, max_size=12).map("".join).filter(_clean)
LINE = st.lists(PIECES.filter(lambda p: "\n" not in p), max_size=5).map("".join)
BODY = (
    st.lists(LINE, max_size=6)
    .map(lambda lines: "".join(f"{line}\n" for line in lines))
    .filter(_clean)
    .filter(lambda body: body.partition("\n")[0].removesuffix("\r") not in NOTICES)
)
BEFORE = TEXT.map(lambda text: text if not text or text.endswith("\n") else f"{text}\n")
AFTER = st.one_of(st.just(""), st.tuples(st.sampled_from(["\n", "\r\n"]), TEXT).map("".join))


def _merge_or_reject(existing: str, block: str) -> str:
    try:
        return merge(existing, block)
    except GeneratedFileError:
        assume(False)  # content on a '---' line is refused by design
        raise


@given(before=BEFORE, after=AFTER, old=BODY, new=BODY, crlf=st.booleans())
def test_merge_keeps_every_byte_around_an_existing_block(
    before: str, after: str, old: str, new: str, crlf: bool
) -> None:
    old_block = render_block(old)[:-1]
    if crlf:
        old_block = old_block.replace("\n", "\r\n")
    existing = f"{before}{old_block}{after}"
    merged = merge(existing, render_block(new))
    assert merged == f"{before}{render_block(new)[:-1]}{after}"
    assert extract(merged) == new


@given(text=TEXT, body=BODY)
def test_merge_is_idempotent(text: str, body: str) -> None:
    block = render_block(body)
    once = _merge_or_reject(text, block)
    assert merge(once, block) == once


@given(text=TEXT, body=BODY)
def test_extract_returns_what_was_merged(text: str, body: str) -> None:
    assert extract(_merge_or_reject(text, render_block(body))) == body


@given(text=TEXT, first=BODY, second=BODY)
def test_a_second_merge_changes_only_the_block(text: str, first: str, second: str) -> None:
    via_first = merge(_merge_or_reject(text, render_block(first)), render_block(second))
    assert via_first == merge(text, render_block(second))


@given(text=TEXT, body=BODY)
def test_merge_keeps_a_file_without_markers_below_the_block(text: str, body: str) -> None:
    assume(text)
    block = render_block(body)
    merged = _merge_or_reject(text, block)
    assert merged.count(OPEN) == 1
    without_block = merged.replace(f"{block}\n", "", 1)
    bom = "\ufeff" if text.startswith("\ufeff") else ""
    assert without_block in {text, f"{text}\n", f"{bom}---\n{text[len(bom) :]}"}
