"""The two sides of a copy as the user writes them: ``instance:/path`` or a host path."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from anklume.errors import UsageError

_SIDE = re.compile(r"^([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?):(/.*)$", re.DOTALL)


@dataclass(frozen=True)
class Spec:
    """One side as written: ``machine`` is None for a host path."""

    machine: str | None
    path: str

    def __str__(self) -> str:
        return f"{self.machine}:{self.path}" if self.machine else self.path


def parse(text: str, machines: set[str], cwd: str) -> Spec:
    """Read ``instance:/path`` (a declared machine) or a host path (made absolute from ``cwd``).

    >>> parse("pro-dev:/srv/a", {"pro-dev"}, "/root")
    Spec(machine='pro-dev', path='/srv/a')
    >>> parse("notes/a.txt", {"pro-dev"}, "/root")
    Spec(machine=None, path='/root/notes/a.txt')
    >>> parse("./pro-dv:/x", {"pro-dev"}, "/root")
    Spec(machine=None, path='/root/./pro-dv:/x')
    >>> parse("x:/a", {"pro-dev"}, "/")
    Traceback (most recent call last):
    ...
    anklume.errors.UsageError: unknown instance 'x' in 'x:/a'; a host path with ':' is written ./x:/a
    """
    if not text or "\x00" in text:
        msg = "a copy side is an instance:/path or a host path, not empty"
        raise UsageError(msg)
    found = _SIDE.match(text)
    if found:
        machine, path = found.groups()
        if machine not in machines:
            from anklume.ops.targets import suggest  # noqa: PLC0415 -- light, but keeps this module stand-alone

            msg = (
                f"unknown instance '{machine}' in '{text}'{suggest(machine, machines)}; "
                f"a host path with ':' is written ./{text}"
            )
            raise UsageError(msg)
        return Spec(machine, path)
    if re.match(r"^[^/]*:", text) and not text.startswith("."):
        msg = f"'{text}': an instance side is NAME:/absolute/path (write ./{text} for a host path)"
        raise UsageError(msg)
    return Spec(None, os.path.join(cwd, text))
