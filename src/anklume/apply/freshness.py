"""Refuse to apply generated files that no longer match infra.yml.

The sync engine computes, without writing, what ``anklume sync`` would
write. When a file would change, the apply stops and asks for a sync. The
same computation says which inventory files are declared, so orphaned ones
(a domain removed from infra.yml, its file kept) are never applied.

Nothing is recorded between runs: freshness is recomputed from the sources
as they are now, so an edit saved after (or during) a sync is always seen
by the next check. The apply runs this check holding the apply and infra
locks, so no sync can change the files between the check and the run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from anklume.errors import UsageError

if TYPE_CHECKING:
    from anklume.engine.resolved import Resolved


class StaleFilesError(UsageError):
    """Generated files differ from what infra.yml describes."""

    def __init__(self, directory: Path, files: Sequence[Path]) -> None:
        self.files = list(files)
        shown = ", ".join(str(f) for f in self.files[:5])
        more = f" and {len(self.files) - 5} more" if len(self.files) > 5 else ""
        super().__init__(
            f"generated files are out of date with infra.yml ({shown}{more}); run 'anklume sync' in {directory} first"
        )


@dataclass(frozen=True)
class Generated:
    """The up-to-date generated files of an infra directory."""

    resolved: Resolved
    inventory: tuple[Path, ...]

    @property
    def disabled(self) -> tuple[str, ...]:
        """The domains infra.yml disables: left exactly as they are, never orphans."""
        return tuple(sorted(n for n, d in self.resolved.domains.items() if not d.enabled))


def inventory_of(directory: Path, files: Sequence[Path]) -> tuple[Path, ...]:
    """Return the absolute inventory files among generated (relative) paths.

    >>> inventory_of(Path("/i"), [Path("inventory/pro.yml"), Path("host_vars/web.yml")])
    (PosixPath('/i/inventory/pro.yml'),)
    """
    return tuple(directory / f for f in sorted(files) if f.parts[:1] == ("inventory",))


def ensure_fresh(directory: Path) -> Generated:
    """Return the generated files; raise :class:`StaleFilesError` when a sync would change one."""
    from anklume.engine.pipeline import sync  # noqa: PLC0415 -- the engine is heavy to import
    from anklume.engine.write import stale  # noqa: PLC0415 -- same

    result = sync(directory, write=False)
    pending = stale(result.plan)
    if pending:
        raise StaleFilesError(directory, pending)
    inventory = inventory_of(directory, [f.path for f in result.plan.files])
    if not inventory:
        msg = f"infra.yml in {directory} declares no enabled domain: nothing to apply"
        raise UsageError(msg)
    return Generated(result.resolved, inventory)
