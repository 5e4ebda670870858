"""Action ``anklume_host_firewall``: deploy the infra's host table and second layer, in the controller.

The same call as ``anklume network deploy``
(:func:`anklume.network.deploy_host.deploy_host`), run inside Ansible: no
Python process, CLI start-up nor module of its own (about 1.5 s per apply
on a 2-core host). It takes the infra lock as the command does; within
``anklume domain apply``, which holds it, that is a no-op. The result looks
like the command's: ``stdout_lines`` its report and ``changed=true|false``,
``stderr_lines`` its warnings.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ansible.plugins.action import ActionBase

try:
    from anklume.apply.lock import infra_lock
    from anklume.engine.pipeline import resolve
    from anklume.errors import AnklumeError
    from anklume.network.deploy_host import deploy_host
except ImportError:  # the framework checkout is used without installing the package
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
    from anklume.apply.lock import infra_lock
    from anklume.engine.pipeline import resolve
    from anklume.errors import AnklumeError
    from anklume.network.deploy_host import deploy_host

DOCUMENTATION = """
module: anklume_host_firewall
short_description: Deploy an anklume infra's host nftables table and its second isolation layer
description:
  - Renders the infra's table from infra.yml, checks it, loads it only when the live table differs,
    writes its boot file and installs its boot unit; then adds and removes the infra's ip rules.
  - Runs on the controller, in the Ansible process (same code as C(anklume network deploy)).
options:
  infra_dir:
    description: Infra directory holding infra.yml.
    type: path
    required: true
  table:
    description: Name of the table (inet family); empty derives it from the infra's project_name.
    type: str
    default: ""
  etc_dir:
    description: Directory of anklume's host configuration (boot files go to its nftables.d/ and iprules.d/).
    type: path
    default: /etc/anklume
"""

#: The task's options, as the environment variables the anklume code reads.
ENVIRONMENT = {"table": "ANKLUME_NFT_TABLE", "etc_dir": "ANKLUME_ETC"}


class ActionModule(ActionBase):  # type: ignore[misc]  # ansible ships no type hints
    """Deploy in the controller process."""

    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset({"infra_dir", "table", "etc_dir"})

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result: dict[str, Any] = super().run(tmp, task_vars)
        args = self._task.args
        infra_dir = Path(str(args.get("infra_dir") or ""))
        if not (infra_dir / "infra.yml").is_file():
            return {**result, "failed": True, "msg": f"infra_dir {infra_dir}: no infra.yml there"}
        values = {"table": str(args.get("table") or ""), "etc_dir": str(args.get("etc_dir") or "/etc/anklume")}
        try:
            with _environment({ENVIRONMENT[k]: v for k, v in values.items()}), infra_lock(infra_dir):
                done = deploy_host(resolve(infra_dir, check_roles=False))
        except (AnklumeError, OSError) as exc:
            return {**result, "failed": True, "msg": f"host firewall of {infra_dir}: {exc}"}
        stdout = [*done.lines, f"changed={str(done.changed).lower()}"]
        result.update(
            changed=done.changed,
            stdout="\n".join(stdout),
            stdout_lines=stdout,
            stderr="\n".join(done.warnings),
            stderr_lines=done.warnings,
        )
        return result


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    """Set environment variables for the duration of the call, then restore them."""
    before = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in before.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
