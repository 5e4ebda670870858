"""Lookup ``anklume_incus_json``: run one ``incus`` client command, return its JSON output parsed.

The terms are the arguments after ``incus``, passed as an argv list (never
through a shell). The lookup runs in the controller process, so a read costs
the ``incus`` call alone, without the worker process and module start-up of
a ``command`` task (about 0.3 s each on a 2-core host)::

    {{ lookup('anklume_incus_json', 'query', '/1.0/instances?recursion=1&all-projects=true') }}
"""

from __future__ import annotations

import json
from typing import Any

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase

from anklume.errors import IncusError
from anklume.incus.run import run as incus_run

DOCUMENTATION = """
name: anklume_incus_json
short_description: Run one incus client command and return its JSON output, parsed
description:
  - Runs C(incus) (or C($ANKLUME_INCUS)) through anklume's incus runner, on the controller.
  - The terms are its arguments, an argv list (no shell).
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
        argv = [str(t) for t in terms]
        try:
            proc = incus_run(argv, timeout=TIMEOUT_S)  # the one incus runner: argv list, $ANKLUME_INCUS honoured
        except (IncusError, ValueError, TypeError) as exc:
            raise AnsibleLookupError(str(exc)) from exc
        try:
            return [json.loads(proc.stdout)]
        except ValueError as exc:
            msg = f"incus {' '.join(argv)} printed no JSON: {exc}"
            raise AnsibleLookupError(msg) from exc
