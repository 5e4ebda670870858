"""Deploy table ``inet anklume`` on the host and compare it with the live one.

Deploy renders the ruleset, checks it (``nft -c``), loads it in one
transaction (``nft -f``: the file deletes and re-declares only anklume's
table), then writes it as the boot hook's rules file. Status lists the live
table and the intended one in the kernel's normal form and diffs them.
"""

from __future__ import annotations

import difflib
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from anklume.engine.host import etc_dir
from anklume.engine.resolved import Resolved
from anklume.errors import UsageError
from anklume.network import foreign, hook, nft
from anklume.network.errors import NetworkError
from anklume.network.ruleset import DEFAULT_TABLE, OWNER, Ruleset, render, table_name

log = logging.getLogger(__name__)


def table() -> str:
    """The table anklume owns (``$ANKLUME_NFT_TABLE`` overrides ``anklume``, e.g. for tests)."""
    try:
        return table_name(os.environ.get("ANKLUME_NFT_TABLE") or DEFAULT_TABLE)
    except ValueError as exc:
        msg = f"ANKLUME_NFT_TABLE: {exc}"
        raise UsageError(msg) from None


def rules_file() -> Path:
    """The boot hook's rules file: ``<etc>/nftables.nft`` (``<etc>`` is /etc/anklume or $ANKLUME_ETC)."""
    name = "nftables.nft" if table() == DEFAULT_TABLE else f"nftables-{table()}.nft"
    return etc_dir() / name


@dataclass(frozen=True, slots=True)
class Status:
    """Live table versus intended table."""

    table: str
    present: bool
    diff: str
    foreign: list[foreign.ForeignChain] = field(default_factory=list)
    explanations: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def in_sync(self) -> bool:
        """True when the live table is exactly the intended one."""
        return self.present and not self.diff


@dataclass(frozen=True, slots=True)
class Deployed:
    """What a deploy did."""

    table: str
    loaded: bool
    rules_file: Path
    hook: hook.HookResult
    warnings: list[str]
    rules_written: bool = False

    @property
    def changed(self) -> bool:
        """Whether anything on the host changed (table, boot file or boot unit)."""
        return self.loaded or self.rules_written or self.hook.changed


def _write_atomic(path: Path, text: str) -> bool:
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.chmod(0o644)
    tmp.replace(path)
    return True


def intended(resolved: Resolved) -> Ruleset:
    """The ruleset this infra wants on the host."""
    return render(resolved, table=table())


def status(resolved: Resolved) -> Status:
    """Compare the live table with the intended one and look for foreign drop chains."""
    wanted = intended(resolved)
    live = nft.list_table(wanted.table)
    canon = nft.canonical(wanted.text, wanted.table)
    diff = "".join(
        difflib.unified_diff(
            (live or "").splitlines(keepends=True),
            canon.splitlines(keepends=True),
            fromfile=f"live inet {wanted.table}",
            tofile=f"intended inet {wanted.table}",
        )
    )
    chains = foreign.find(nft.ruleset_json(), wanted.table)
    bridges = sorted(d.network_name for d in resolved.domains.values())
    return Status(
        wanted.table,
        live is not None,
        diff,
        chains,
        [foreign.explain(c, bridges) for c in chains],
        wanted.warnings,
    )


_OWNER_LINE = re.compile(r'^\tcomment "' + re.escape(OWNER) + r'(.*)"$', re.MULTILINE)


def owner(listing: str) -> str | None:
    r"""Return the infra named by a live table's comment (None for a table without one).

    >>> owner('table inet anklume {\n\tcomment "anklume infra lab"\n\tset bridges {\n')
    'lab'
    >>> owner('table inet anklume {\n\tset bridges {\n') is None
    True
    """
    found = _OWNER_LINE.search(listing)
    return found.group(1) if found else None


class TableOwned(NetworkError):
    """The table holds another infra's rules: replacing it would drop that infra's isolation."""

    def __init__(self, table: str, other: str, mine: str) -> None:
        super().__init__(
            f"table inet {table} holds the host firewall of infra '{other}', not of '{mine}': replacing it "
            f"would remove the isolation of '{other}'s domains. Each infra directory on one host needs its own "
            f"table: run this one with ANKLUME_NFT_TABLE=<name> (for example {table_name_for(mine)}); if "
            f"'{other}' is gone, delete its table first (nft delete table inet {table})"
        )


def table_name_for(project: str) -> str:
    """Suggest a table name for an infra.

    >>> table_name_for("Lab 2-B"), table_name_for("anklume-demo")
    ('anklume_lab_2_b', 'anklume_demo')
    """
    slug = re.sub(r"[^a-z0-9]+", "_", project.lower()).strip("_")
    return table_name((slug if slug.startswith("anklume") else f"anklume_{slug}")[:32])


def deploy(resolved: Resolved, *, run_dir: Path = Path("/run/systemd/system")) -> Deployed:
    """Check, load and persist the table; install the boot hook. Loads only when the live table differs.

    Refuses to replace a table whose comment names another infra (:class:`TableOwned`).
    """
    wanted = intended(resolved)
    nft.check(wanted.text)
    live = nft.list_table(wanted.table)
    other = owner(live) if live is not None else None
    mine = owner(wanted.text)  # the project name as the comment holds it (quotes dropped, length capped)
    if other is not None and other != mine:
        raise TableOwned(wanted.table, other, resolved.project_name)
    loaded = live is None or live != nft.canonical(wanted.text, wanted.table)
    if loaded:
        nft.load(wanted.text)
    path = rules_file()
    written = _write_atomic(path, wanted.text)
    result = hook.install(nft.binary(), path, run_dir=run_dir)
    log.debug("table deployed", extra={"nft_table": wanted.table, "loaded": loaded})
    return Deployed(wanted.table, loaded, path, result, wanted.warnings, written)
