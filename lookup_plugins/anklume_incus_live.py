"""Lookup ``anklume_incus_live``: the live state of every resource kind, read once, the reads side by side.

Returns one dict, ``{projects, networks, profiles, images, instances}``,
each the parsed JSON of one incus client call (:data:`anklume.apply.live.READS`).
The five calls run at the same time in the controller process: one task
whose cost is about the slowest call::

    {{ lookup('anklume_incus_live') }}
"""

from __future__ import annotations

import json
from typing import Any

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase

from anklume.apply.live import read_all
from anklume.errors import IncusError
from anklume.incus.run import run as incus_run

DOCUMENTATION = """
name: anklume_incus_live
short_description: Read every kind of live Incus state anklume plans from, in one call
description:
  - Runs the incus client (or C($ANKLUME_INCUS)) once per resource kind, the calls side by side, on the controller.
  - Fails with the command, its exit code and its standard error when one fails or prints no JSON.
options: {}
"""

EXAMPLES = """
- name: Read the live state
  ansible.builtin.set_fact:
    live: "{{ lookup('anklume_incus_live') }}"
"""

RETURN = """
_raw:
  description: One dict, projects, networks, profiles, images and instances, each the parsed JSON output.
  type: list
"""

TIMEOUT_S = 300


def _read(argv: list[str]) -> Any:
    proc = incus_run(argv, timeout=TIMEOUT_S)  # the one incus runner: argv list, $ANKLUME_INCUS honoured
    try:
        return json.loads(proc.stdout)
    except ValueError as exc:
        msg = f"incus {' '.join(argv)} printed no JSON: {exc}"
        raise AnsibleLookupError(msg) from exc


class LookupModule(LookupBase):  # type: ignore[misc]  # ansible ships no type hints
    """Return ``[{kind: parsed JSON}]``."""

    def run(self, terms: list[Any], variables: dict[str, Any] | None = None, **kwargs: Any) -> list[Any]:
        """Read every kind; takes no terms."""
        if terms:
            msg = f"anklume_incus_live takes no terms (got {terms!r})"
            raise AnsibleLookupError(msg)
        try:
            return [read_all(_read)]
        except (IncusError, ValueError, TypeError) as exc:
            raise AnsibleLookupError(str(exc)) from exc
