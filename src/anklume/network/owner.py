"""Whose rules a live host table holds: the infra its comment names.

Every table anklume loads carries ``comment "anklume infra <project_name>"``.
Deploy refuses to replace a table naming another infra, and teardown removes
only the tables naming its own.
"""

from __future__ import annotations

import re

from anklume.network.errors import NetworkError
from anklume.network.nftsafe import comment, table_for, text
from anklume.network.ruleset import OWNER

_OWNER_LINE = re.compile(r'^\tcomment "' + re.escape(OWNER) + r'(.*)"$', re.MULTILINE)


def owner(listing: str) -> str | None:
    r"""Return the infra named by a live table's comment (None for a table without one).

    >>> owner('table inet anklume {\n\tcomment "anklume infra lab"\n\tset bridges {\n')
    'lab'
    >>> owner('\t' + comment(OWNER + 'a "b"'))
    'a b'
    >>> owner('table inet anklume {\n\tset bridges {\n') is None
    True
    """
    found = _OWNER_LINE.search(listing)
    return found.group(1) if found else None


class TableOwned(NetworkError):
    """The table holds another infra's rules: replacing it would drop that infra's isolation."""

    def __init__(self, table: str, other: str, mine: str) -> None:
        super().__init__(
            f"table inet {table} holds the host firewall of infra '{other}', not of '{text(mine)}': replacing it "
            f"would remove the isolation of '{other}'s domains. Unset ANKLUME_NFT_TABLE (each infra then gets "
            f"its own table, {table_for(mine)}) or give it another name; if '{other}' is gone, delete its "
            f"table first (nft delete table inet {table})"
        )


def as_stored(project_name: str) -> str | None:
    """The name of an infra as a table's comment stores it (quotes dropped, length capped).

    >>> as_stored('a "b"')
    'a b'
    """
    return owner("\t" + comment(OWNER + project_name))
