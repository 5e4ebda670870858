"""Stage the infra directory's generated files as one Ansible inventory.

``anklume sync`` writes ``inventory/``, ``group_vars/`` and ``host_vars/``
side by side in the infra directory. Ansible loads ``group_vars/`` and
``host_vars/`` next to an inventory source or next to the playbook; the
playbook is the framework's, which may live elsewhere. So each run builds a
private directory of symbolic links::

    anklume-inventory-XXXX/
        site.yml            -> the framework's playbook
        inventory/          passed as ``-i``
            <domain>.yml    -> the infra's inventory files
            group_vars      -> the infra's group_vars/
            host_vars       -> the infra's host_vars/

The playbook is run from its link: run in place, Ansible would also load
the ``group_vars/`` beside the framework's ``site.yml`` (the framework
checkout's own demo infra) into every other infra. It sits outside
``inventory/`` so that Ansible does not try to parse it as an inventory.
Nothing is written into the infra directory.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from anklume.vocab import VARS_DIRS

PLAYBOOK = "site.yml"
INVENTORY = "inventory"


def populate(stage: Path, infra_dir: Path, inventory: Sequence[Path], playbook: Path | None = None) -> Path:
    """Fill ``stage`` with links to the inventory files, the vars directories and the playbook.

    Returns ``stage``; the inventory directory is ``stage / INVENTORY``.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     infra, stage = Path(d, "infra"), Path(d, "stage")
    ...     (infra / "inventory").mkdir(parents=True)
    ...     (infra / "group_vars").mkdir()
    ...     _ = (infra / "inventory" / "pro.yml").write_text("all: {}\\n")
    ...     stage.mkdir()
    ...     sorted(p.name for p in (populate(stage, infra, [infra / "inventory/pro.yml"]) / INVENTORY).iterdir())
    ['group_vars', 'pro.yml']
    """
    inventory_dir = stage / INVENTORY
    inventory_dir.mkdir()
    for src in inventory:
        (inventory_dir / src.name).symlink_to(src.resolve())
    for name in VARS_DIRS:
        src = infra_dir / name
        if src.is_dir():
            (inventory_dir / name).symlink_to(src.resolve(), target_is_directory=True)
    if playbook is not None:
        (stage / PLAYBOOK).symlink_to(playbook.resolve())
    return stage


@contextlib.contextmanager
def staged_inventory(infra_dir: Path, inventory: Sequence[Path], playbook: Path | None = None) -> Iterator[Path]:
    """Yield a temporary inventory directory for one run (with ``site.yml`` linked in), removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="anklume-inventory-") as tmp:
        yield populate(Path(tmp), infra_dir, inventory, playbook)
