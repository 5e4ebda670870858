"""Locate the framework (``site.yml``, ``roles/``, ``callback_plugins/``) and ansible-playbook.

The framework directory is ``$ANKLUME_HOME`` when set, otherwise the
checkout the ``anklume`` package was installed from (two levels above
``src/anklume``); see :func:`anklume.paths.framework_dir`. The infra
directory (``-C DIR``) may live anywhere else.
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from anklume.errors import UsageError
from anklume.paths import framework_dir


@dataclass(frozen=True)
class Framework:
    """Paths of the framework that runs the reconcile."""

    root: Path

    @property
    def playbook(self) -> Path:
        """The master playbook."""
        return self.root / "site.yml"

    @property
    def roles(self) -> Path:
        """The framework's own roles."""
        return self.root / "roles"

    @property
    def callback_plugins(self) -> Path:
        """The progress and summary callbacks."""
        return self.root / "callback_plugins"

    @property
    def ansible_cfg(self) -> Path:
        """The framework's Ansible configuration (may be absent)."""
        return self.root / "ansible.cfg"


def find_framework() -> Framework:
    """Return the framework directory (``$ANKLUME_HOME``, else the package's checkout)."""
    return Framework(framework_dir())


def find_ansible_playbook() -> Path:
    """Return the ``ansible-playbook`` of this Python environment (or the one on PATH)."""
    beside = Path(sys.executable).parent / "ansible-playbook"
    if beside.is_file() and os.access(beside, os.X_OK):
        return beside
    found = shutil.which("ansible-playbook")
    if found:
        return Path(found)
    msg = "ansible-playbook not found beside anklume; reinstall anklume into its environment (pip install anklume)"
    raise UsageError(msg)
