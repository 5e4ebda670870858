"""Where the framework (site.yml, roles/) and an infra directory keep things."""

from __future__ import annotations

import os
from pathlib import Path

from anklume.errors import UsageError

#: Role directories of an infra directory, searched before the framework's roles/.
ROLE_DIRS = ("roles_custom", "roles", "roles_vendor")


def framework_dir() -> Path:
    """Return the framework checkout holding ``site.yml`` and ``roles/``.

    ``ANKLUME_HOME`` wins; then the checkout this package was installed from
    (editable install), found above ``src/anklume``; then the copy a wheel
    carries in ``anklume/_framework`` (``pip install anklume``).
    """
    env = os.environ.get("ANKLUME_HOME")
    candidates = [Path(env)] if env else []
    here = Path(__file__).resolve()
    candidates += [here.parents[2], here.parent / "_framework"]
    for path in candidates:
        if (path / "site.yml").is_file() and (path / "roles").is_dir():
            return path
    msg = (
        "cannot find the anklume framework (site.yml, roles/): reinstall anklume (pip install anklume) "
        "or set ANKLUME_HOME to a checkout of it"
    )
    raise UsageError(msg)


def role_search_path(infra_dir: Path) -> list[Path]:
    """Directories searched for roles: the infra directory's, then the framework's."""
    dirs = [infra_dir / name for name in ROLE_DIRS]
    try:
        framework = framework_dir()
    except UsageError:
        return dirs
    for name in ROLE_DIRS:
        path = framework / name
        if path not in dirs:
            dirs.append(path)
    return dirs
