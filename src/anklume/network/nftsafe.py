"""Make every string that reaches an nftables ruleset safe (pure).

Names (tables, interfaces) are validated against strict patterns and
rejected otherwise; free text (descriptions, project and domain names in
comments) is reduced to printable characters without quotes or
backslashes and cut to a byte budget without splitting a UTF-8 sequence,
since nft refuses comments longer than 128 bytes.
"""

from __future__ import annotations

import hashlib
import re

COMMENT_BYTES = 120
"""Largest comment text anklume writes (nft's limit is 128 bytes, terminating NUL included)."""

_TABLE = re.compile(r"[a-z][a-z0-9_]{0,63}")
# quotes and backslashes end or escape nft strings; control, separator and
# surrogate code points have no business in a comment
_UNSAFE = re.compile(r'["\\\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]')


def table_name(name: str) -> str:
    """Return ``name`` when it is a valid anklume table name.

    >>> table_name("anklume")
    'anklume'
    >>> table_name("Anklume; flush ruleset")
    Traceback (most recent call last):
    ...
    ValueError: invalid nftables table name 'Anklume; flush ruleset'
    """
    if not _TABLE.fullmatch(name):
        msg = f"invalid nftables table name {name!r}"
        raise ValueError(msg)
    return name


def text(value: str, limit: int = COMMENT_BYTES) -> str:
    """Return ``value`` as safe comment text: one line, no quote nor backslash, at most ``limit`` UTF-8 bytes.

    >>> text('say "hi"\\nthere')
    'say hi there'
    >>> len(text("é" * 100).encode()), text("é" * 100)[-1]
    (120, 'é')
    >>> text("a" * 119 + "é")  # the 2-byte character does not fit: it is dropped, not split
    'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'
    """
    clean = " ".join(_UNSAFE.sub(" ", value).split())
    return clean.encode("utf-8")[:limit].decode("utf-8", "ignore").rstrip()


def comment(value: str) -> str:
    """Return an nft ``comment "..."`` clause holding :func:`text` of ``value``.

    >>> comment('x" ; flush ruleset ; "')
    'comment "x ; flush ruleset ;"'
    """
    return f'comment "{text(value)}"'


def table_for(project: str) -> str:
    """Return the table name of an infra, derived from its ``project_name``.

    A readable slug plus a hash of the exact name: two infras get two tables
    even when their names differ only by punctuation or case.

    >>> table_for("anklume-demo")
    'anklume_demo_2441fe23'
    >>> table_for("Lab 2/B") != table_for("lab-2-b")
    True
    """
    slug = re.sub(r"[^a-z0-9]+", "_", project.lower()).strip("_")[:32].strip("_")
    digest = hashlib.sha256(project.encode("utf-8", "replace")).hexdigest()[:8]
    head = "anklume" if slug in ("", "anklume") else f"anklume_{slug.removeprefix('anklume_')}"
    return table_name(f"{head}_{digest}")
