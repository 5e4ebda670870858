"""Restore every anklume table from its boot rules file (the boot command without systemd).

``anklume network restore`` loads each ``<etc>/nftables.d/<table>.nft`` with
``nft -f`` (each file replaces only its own table) and fails loudly: an
empty directory, a file whose name is not a table name, or a file nft
refuses is an error, after every other file has been loaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from anklume.network import nft
from anklume.network.errors import NetworkError, NftFailed
from anklume.network.nftsafe import table_name


@dataclass(frozen=True, slots=True)
class Restored:
    """One rules file and what loading it did (``error`` empty when the table is back)."""

    path: Path
    table: str
    error: str = ""


class RestoreFailed(NetworkError):
    """At least one table could not be restored (or there was none to restore)."""


def restore(directory: Path) -> list[Restored]:
    """Load every rules file of ``directory`` (failures are in the result); raise RestoreFailed when none exists."""
    files = sorted(directory.glob("*.nft")) if directory.is_dir() else []
    if not files:
        msg = f"no rules file in {directory}: no anklume table restored (run 'anklume network deploy' first)"
        raise RestoreFailed(msg)
    done = []
    for path in files:
        try:
            name = table_name(path.stem)
            nft.run(["-f", str(path)])
            done.append(Restored(path, name))
        except (ValueError, NftFailed) as exc:
            done.append(Restored(path, path.stem, str(exc)))
    return done
