"""anklume: declarative compartmentalization of a Linux host with Incus and Ansible."""

from __future__ import annotations

__version__ = "0.1.0"
