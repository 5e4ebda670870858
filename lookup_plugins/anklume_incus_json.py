"""Lookup ``anklume_incus_json``: run one ``incus`` client command, return its JSON output parsed.

The terms are the arguments after ``incus``, passed as an argv list (never
through a shell). The lookup runs in the controller process, so a read costs
the ``incus`` call alone, without the worker process and module start-up of
a ``command`` task (about 0.3 s each on a 2-core host)::

    {{ lookup('anklume_incus_json', 'query', '/1.0/instances?recursion=1&all-projects=true') }}
"""

from __future__ import annotations

import json
import subprocess
from typing import Any

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase

DOCUMENTATION = """
name: anklume_incus_json
short_description: Run one incus client command and return its JSON output, parsed
description:
  - Runs C(incus) with the given terms as its arguments (an argv list, no shell) on the controller.
  - Fails with the command, its exit code and its standard error when it fails or prints no JSON.
options:
  _terms:
    description: The arguments after C(incus).
    required: true
    type: list
    elements: str
"""

EXAMPLES = """
- name: Read every instance of every project
  ansible.builtin.set_fact:
    live: "{{ lookup('anklume_incus_json', 'query', '/1.0/instances?recursion=1&all-projects=true') }}"
"""

RETURN = """
_raw:
  description: The parsed JSON output (one element).
  type: list
"""

TIMEOUT_S = 300


class LookupModule(LookupBase):  # type: ignore[misc]  # ansible ships no type hints
    """Run ``incus TERMS...`` and return ``[parsed JSON]``."""

    def run(self, terms: list[Any], variables: dict[str, Any] | None = None, **kwargs: Any) -> list[Any]:
        """Return the parsed standard output of ``incus *terms`` as a one-element list."""
        argv = ["incus", *(str(t) for t in terms)]
        shown = " ".join(argv)
        try:
            proc = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=TIMEOUT_S)
        except (OSError, subprocess.TimeoutExpired) as exc:
            msg = f"cannot run {shown}: {exc}"
            raise AnsibleLookupError(msg) from exc
        if proc.returncode != 0:
            msg = f"{shown} failed (exit {proc.returncode}): {proc.stderr.strip()}"
            raise AnsibleLookupError(msg)
        try:
            return [json.loads(proc.stdout)]
        except ValueError as exc:
            msg = f"{shown} printed no JSON: {exc}"
            raise AnsibleLookupError(msg) from exc
