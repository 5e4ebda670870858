"""Deploy an infra's host table and compare it with the live one.

Each infra has its own table, ``inet anklume_<slug>_<hash>`` derived from
its ``project_name`` (``$ANKLUME_NFT_TABLE`` overrides it), so several infra
directories share a host without configuration. Deploy renders the
ruleset (fencing the bridges of removed domains), checks it (``nft -c``),
loads it in one transaction (``nft -f``: the file deletes and re-declares
only this table, and deletes the shared ``inet anklume`` of earlier
versions when it held this infra), then writes it as the table's boot
file. Status lists the live table and the intended one in the kernel's
normal form and diffs them.
"""

from __future__ import annotations

import difflib
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from anklume.engine.host import etc_dir
from anklume.engine.resolved import Resolved
from anklume.errors import UsageError
from anklume.network import fence, foreign, hook, nft
from anklume.network.bootfile import write_if_changed
from anklume.network.nftsafe import table_for, table_name
from anklume.network.owner import TableOwned, as_stored, owner
from anklume.network.ruleset import DEFAULT_TABLE, Fenced, Ruleset, render

log = logging.getLogger(__name__)


def overridden() -> str | None:
    """The table named by ``$ANKLUME_NFT_TABLE`` (validated), or None."""
    name = os.environ.get("ANKLUME_NFT_TABLE")
    if not name:
        return None
    try:
        return table_name(name)
    except ValueError as exc:
        msg = f"ANKLUME_NFT_TABLE: {exc}"
        raise UsageError(msg) from None


def table(resolved: Resolved | None = None) -> str:
    """The table of an infra: ``$ANKLUME_NFT_TABLE``, else derived from its project_name (else ``anklume``)."""
    name = overridden()
    if name:
        return name
    return table_for(resolved.project_name) if resolved is not None else DEFAULT_TABLE


def loaded_tables(items: list[dict[str, Any]]) -> list[str]:
    """Return the anklume tables among ``nft -j list ruleset`` objects (by name: ``anklume``, ``anklume_*``).

    >>> loaded_tables([{"table": {"family": "inet", "name": "anklume_lab_1"}}, {"table": {"family": "inet",
    ...                "name": "incus"}}, {"table": {"family": "ip", "name": "anklume"}}])
    ['anklume_lab_1']
    """
    names = [
        str(t.get("name", "")) for i in items if isinstance(t := i.get("table"), dict) and t.get("family") == "inet"
    ]
    return sorted(n for n in names if n == DEFAULT_TABLE or n.startswith(DEFAULT_TABLE + "_"))


def rules_dir() -> Path:
    """Directory of the boot rules files, one per table: ``<etc>/nftables.d`` (/etc/anklume or $ANKLUME_ETC)."""
    return etc_dir() / "nftables.d"


def rules_file(name: str) -> Path:
    """The boot rules file of table ``name``."""
    return rules_dir() / f"{table_name(name)}.nft"


def legacy_files(name: str, *, shared: bool) -> list[Path]:
    """Boot files earlier versions wrote for this table (and for the shared table when it is replaced)."""
    files = [etc_dir() / f"nftables-{table_name(name)}.nft"]
    return [etc_dir() / "nftables.nft", *files] if shared else files


@dataclass(frozen=True, slots=True)
class Status:
    """Live table versus intended table."""

    table: str
    present: bool
    diff: str
    foreign: list[foreign.ForeignChain] = field(default_factory=list)
    explanations: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    legacy: bool = False
    """The shared table of an earlier version still holds this infra (deploy migrates it)."""

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
    replaced: list[str] = field(default_factory=list)
    fenced: list[Fenced] = field(default_factory=list)
    retired: bool = False

    @property
    def changed(self) -> bool:
        """Whether anything on the host changed (table, boot file or boot unit)."""
        return self.loaded or self.rules_written or self.hook.changed or self.retired


def intended(resolved: Resolved, fenced: list[Fenced] | None = None) -> Ruleset:
    """The ruleset this infra wants on the host (``fenced`` None: ask Incus which bridges to fence)."""
    warnings: list[str] = []
    if fenced is None:
        fenced, warnings = fence.fenced(resolved)
    ruleset = render(resolved, table=table(resolved), fenced=fenced)
    return Ruleset(ruleset.table, ruleset.text, ruleset.warnings + warnings)


def _legacy(resolved: Resolved, name: str) -> bool:
    """Say whether the shared table of earlier versions holds this infra's rules (or no owner)."""
    if overridden() or name == DEFAULT_TABLE:
        return False
    live = nft.list_table(DEFAULT_TABLE)
    return live is not None and owner(live) in (None, as_stored(resolved.project_name))


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
        legacy=live is None and _legacy(resolved, wanted.table),
    )


def deploy(resolved: Resolved, *, run_dir: Path = Path("/run/systemd/system")) -> Deployed:
    """Check, load and persist the table; install the boot hook. Loads only when the live table differs.

    Refuses to replace a table whose comment names another infra (:class:`TableOwned`).
    """
    fenced, fence_warnings = fence.fenced(resolved)
    wanted = intended(resolved, fenced)
    nft.check(wanted.text)
    live = nft.list_table(wanted.table)
    other = owner(live) if live is not None else None
    mine = owner(wanted.text)  # the project name as the comment holds it (escaped, length capped)
    if other is not None and other != mine:
        raise TableOwned(wanted.table, other, resolved.project_name)
    shared = _legacy(resolved, wanted.table)
    replaced = [DEFAULT_TABLE] if shared else []
    loaded = shared or live is None or live != nft.canonical(wanted.text, wanted.table)
    if loaded:
        load = render(resolved, table=wanted.table, fenced=fenced, replaces=replaced) if shared else wanted
        nft.check(load.text)
        nft.load(load.text)  # one transaction: the shared table goes as this one comes
    path = rules_file(wanted.table)
    written = write_if_changed(path, wanted.text)
    result = hook.install(wanted.table, nft.binary(), path, run_dir=run_dir)
    retired = hook.retire_legacy(legacy_files(wanted.table, shared=shared), run_dir=run_dir)
    log.debug("table deployed", extra={"nft_table": wanted.table, "loaded": loaded, "replaced": replaced})
    warnings = wanted.warnings + fence_warnings
    return Deployed(wanted.table, loaded, path, result, warnings, written, replaced, fenced, retired)
