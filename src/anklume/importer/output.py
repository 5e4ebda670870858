"""Write the imported infra.yml inside the infra directory, never over an existing file unasked."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from anklume.engine import safeio
from anklume.errors import UsageError

MODE = 0o600
"""The file may hold config keys the user chose to include: private until they decide otherwise."""


def relative(directory: Path, output: Path) -> Path:
    """The output path relative to the infra directory; outside it is refused.

    >>> relative(Path("/srv/infra"), Path("infra.yml")), relative(Path("/srv/infra"), Path("/srv/infra/x.yml"))
    (PosixPath('infra.yml'), PosixPath('x.yml'))
    >>> relative(Path("/srv/infra"), Path("../elsewhere.yml"))
    Traceback (most recent call last):
    ...
    anklume.errors.UsageError: -o ../elsewhere.yml is outside the infra directory /srv/infra
    """
    rel = output.relative_to(directory) if output.is_absolute() and output.is_relative_to(directory) else output
    if rel.is_absolute() or ".." in rel.parts or not rel.parts:
        msg = f"-o {output} is outside the infra directory {directory}"
        raise UsageError(msg)
    return rel


def render(document: dict[str, Any], projects: list[str], now: datetime | None = None) -> str:
    """The YAML text, with a header saying where it comes from and what to review."""
    when = (now or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")
    head = (
        f"# Written by 'anklume import' from the Incus projects {', '.join(projects) or '(none)'} on {when}.\n"
        "# Trust levels and subnet_ids were chosen so that every domain keeps its subnet: review them.\n"
        "# Next: anklume sync && anklume domain check --adopt\n"
    )
    return head + yaml.safe_dump(document, sort_keys=False, default_flow_style=False, allow_unicode=True, width=120)


def write(directory: Path, output: Path, text: str, *, force: bool) -> Path:
    """Write ``text`` at ``output`` (inside ``directory``); refuse to replace a file without ``force``."""
    rel = relative(directory, output)
    if safeio.lstat(directory, rel) is not None and not force:
        msg = f"{directory / rel} exists; pass --force to replace it"
        raise UsageError(msg)
    safeio.write_atomic(directory, rel, text.encode("utf-8"), MODE, None)
    return directory / rel
