"""Build and run the ``ansible-playbook`` command of one apply or check.

The command is an argv list (never a shell string); the environment points
Ansible at the framework's callbacks and at the roles search path
of the infra directory then of the framework (``roles_custom/``, ``roles/``,
``roles_vendor/``).
"""

from __future__ import annotations

import ctypes
import json
import logging
import os
import signal
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from anklume.apply.framework import Framework
from anklume.errors import CommandFailed
from anklume.paths import role_search_path

log = logging.getLogger(__name__)

PROGRESS_CALLBACK = "anklume_progress"
SUMMARY_CALLBACK = "anklume_summary"
PROVISION_TAG = "provision"
_PR_SET_PDEATHSIG = 1


class PlaybookFailed(CommandFailed):
    """``ansible-playbook`` exited non-zero; its own output already said why, task by task."""

    def __init__(self, what: str, argv: list[str], rc: int, detail: str = "") -> None:
        self.argv = argv
        self.rc = rc
        super().__init__(f"{what} failed (ansible-playbook exit {rc}){detail}")


@dataclass(frozen=True)
class PlaybookRequest:
    """What one run of ``site.yml`` should do."""

    domains: tuple[str, ...] = ()
    disabled: tuple[str, ...] = ()
    prune: bool = False
    recreate: bool = False
    adopt: bool = False
    tags: tuple[str, ...] = ()
    limit: str | None = None
    provision: bool = True
    force_provision: bool = False
    snapshot: bool = True
    plan_file: Path | None = None
    plan_only: bool = False
    verbose: int = 0


def extra_vars(req: PlaybookRequest) -> dict[str, object]:
    """Return the extra variables ``site.yml`` reads.

    >>> extra_vars(PlaybookRequest(domains=("pro",), prune=True))["anklume_domains"]
    ['pro']
    >>> extra_vars(PlaybookRequest(plan_file=Path("/t/plan.json")))["anklume_plan_file"]
    '/t/plan.json'
    """
    data: dict[str, object] = {
        "anklume_domains": list(req.domains),
        "anklume_disabled_domains": list(req.disabled),
        "anklume_prune": req.prune,
        "anklume_recreate": req.recreate,
        "anklume_adopt": req.adopt,
        "anklume_force_provision": req.force_provision,
        "anklume_pre_apply_snapshot": req.snapshot,
        "anklume_plan_only": req.plan_only,
    }
    if req.plan_file is not None:
        data["anklume_plan_file"] = str(req.plan_file)
    return data


def playbook_argv(
    playbook_bin: Path, fw: Framework, inventory: Path, req: PlaybookRequest, *, playbook: Path | None = None
) -> list[str]:
    """Return the ``ansible-playbook`` argv (``playbook`` defaults to the framework's site.yml).

    >>> fw = Framework(Path("/fw"))
    >>> argv = playbook_argv(Path("/v/ansible-playbook"), fw, Path("/i"),
    ...                      PlaybookRequest(tags=("a", "b"), provision=False))
    >>> argv[:3], argv[-5:]
    (['/v/ansible-playbook', '-i', '/i'], ['--tags', 'a,b', '--skip-tags', 'provision', '/fw/site.yml'])
    """
    argv = [str(playbook_bin), "-i", str(inventory)]
    argv += ["--extra-vars", json.dumps(extra_vars(req), separators=(",", ":"))]
    if req.limit:
        argv += ["--limit", f"{req.limit}:localhost"]  # the infra play runs on localhost
    if req.tags:
        argv += ["--tags", ",".join(req.tags)]
    if not req.provision:
        argv += ["--skip-tags", PROVISION_TAG]
    if req.verbose > 1:
        argv.append("-" + "v" * min(req.verbose - 1, 4))
    argv.append(str(playbook or fw.playbook))
    return argv


def roles_path(infra_dir: Path) -> str:
    """Return the roles search path: the infra directory's roles, then the framework's.

    Same order as the engine's role check (:func:`anklume.paths.role_search_path`):
    ``roles_custom/``, ``roles/``, ``roles_vendor/``.
    """
    return os.pathsep.join(str(d) for d in role_search_path(infra_dir))


def playbook_env(
    base: Mapping[str, str],
    fw: Framework,
    infra_dir: Path,
    playbook_bin: Path,
    summary_file: Path,
    *,
    quiet: bool = False,
    verbose: int = 0,
) -> dict[str, str]:
    """Return the environment of the run (callbacks, roles path, config).

    >>> env = playbook_env({"PATH": "/usr/bin"}, Framework(Path("/fw")), Path("/i"),
    ...                    Path("/v/bin/ansible-playbook"), Path("/t/s.json"))
    >>> env["ANSIBLE_STDOUT_CALLBACK"], env["ANSIBLE_CALLBACKS_ENABLED"], env["PATH"]
    ('anklume_progress', 'anklume_summary', '/v/bin:/usr/bin')
    """
    env = dict(base)
    env["PATH"] = os.pathsep.join([str(playbook_bin.parent), base.get("PATH", os.defpath)])
    env["ANSIBLE_ROLES_PATH"] = roles_path(infra_dir)
    env["ANSIBLE_CALLBACK_PLUGINS"] = str(fw.callback_plugins)
    enabled = [c for c in base.get("ANSIBLE_CALLBACKS_ENABLED", "").split(",") if c.strip()]
    env["ANSIBLE_CALLBACKS_ENABLED"] = ",".join([*enabled, SUMMARY_CALLBACK])
    if verbose == 0 or quiet:
        env["ANSIBLE_STDOUT_CALLBACK"] = PROGRESS_CALLBACK
    env["ANKLUME_PROGRESS"] = "quiet" if quiet else "normal"
    env["ANKLUME_SUMMARY_FILE"] = str(summary_file)
    env["ANKLUME_INFRA_DIR"] = str(infra_dir)
    if fw.ansible_cfg.is_file():
        env["ANSIBLE_CONFIG"] = str(fw.ansible_cfg)
    env.setdefault("ANSIBLE_RETRY_FILES_ENABLED", "false")
    return env


def _die_with_parent() -> None:
    """Ask the kernel to kill this (child) process when its parent dies (Linux)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: the playbook then outlives a killed anklume
        return


def run_playbook(argv: list[str], env: dict[str, str], cwd: Path, keep_fds: tuple[int, ...] = ()) -> int:
    """Run ansible-playbook with inherited stdout/stderr; return its exit code.

    ``keep_fds`` (the lock) are inherited, so the lock lives until the last
    process of the run ends: Ansible's workers run in their own sessions and
    finish the task in flight even when the run is killed. The playbook
    itself dies with anklume.
    """
    log.debug("running playbook", extra={"ansible_argv": argv})
    # preexec_fn only calls prctl, and anklume starts no threads before it
    proc = subprocess.run(argv, env=env, cwd=cwd, pass_fds=keep_fds, check=False, preexec_fn=_die_with_parent)
    log.debug("playbook finished", extra={"ansible_rc": proc.returncode})
    return proc.returncode
