"""The single entry point for every incus command.

The client binary is looked up once (``$ANKLUME_INCUS`` overrides the name or
path). Commands are argv lists, never shell strings. Reads go through
:func:`query`, which asks for JSON. Every call is logged at DEBUG with the
``incus_argv`` and ``incus_rc`` extra keys, and failures raise
:class:`~anklume.errors.IncusNotFound` or
:class:`~anklume.errors.IncusCommandFailed`.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import re
import shutil
import subprocess
from collections.abc import Sequence
from typing import Any, TypeVar, overload

from pydantic import TypeAdapter

from anklume.errors import IncusCommandFailed, IncusError, IncusNotFound

log = logging.getLogger(__name__)

T = TypeVar("T")

_PROJECT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]{0,62}")


@functools.cache
def binary() -> str:
    """Return the absolute path of the incus client (looked up once).

    ``binary.cache_clear()`` forgets it, e.g. after ``$ANKLUME_INCUS`` changed.
    """
    name = os.environ.get("ANKLUME_INCUS") or "incus"
    path = shutil.which(name)
    if path is None:
        raise IncusNotFound(name)
    return path


def project_argv(project: str | None) -> list[str]:
    """Return the global option selecting ``project`` (nothing for None).

    >>> project_argv("pro")
    ['--project', 'pro']
    >>> project_argv(None)
    []
    >>> project_argv("-x")
    Traceback (most recent call last):
    ...
    ValueError: invalid Incus project name '-x'
    """
    if project is None:
        return []
    if not _PROJECT.fullmatch(project):
        msg = f"invalid Incus project name {project!r}"
        raise ValueError(msg)
    return ["--project", project]


def _check_argv(argv: Sequence[str]) -> list[str]:
    if isinstance(argv, str) or not all(isinstance(arg, str) for arg in argv):
        msg = "incus argv must be a list of strings"
        raise TypeError(msg)
    if not argv:
        msg = "incus argv is empty"
        raise ValueError(msg)
    return list(argv)


def run(
    argv: Sequence[str],
    *,
    project: str | None = None,
    check: bool = True,
    input: str | None = None,
    timeout: float | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``incus [--project P] ARGV`` and return the completed process.

    Raises IncusCommandFailed when it exits non-zero (unless ``check`` is
    False) or does not finish within ``timeout`` seconds (rc -1).
    """
    full = [binary(), *project_argv(project), *_check_argv(argv)]
    shown = ["incus", *full[1:]]
    try:
        proc = subprocess.run(full, capture_output=True, text=True, input=input, timeout=timeout, check=False)
    except FileNotFoundError as exc:
        binary.cache_clear()
        raise IncusNotFound(full[0]) from exc
    except subprocess.TimeoutExpired as exc:
        log.debug("incus timed out", extra={"incus_argv": shown, "incus_rc": -1})
        raise IncusCommandFailed(shown, -1, f"timed out after {timeout} s") from exc
    log.debug("incus ran", extra={"incus_argv": shown, "incus_rc": proc.returncode})
    if check and proc.returncode != 0:
        raise IncusCommandFailed(shown, proc.returncode, proc.stderr)
    return proc


@overload
def query(argv: Sequence[str], *, project: str | None = None) -> Any: ...
@overload
def query(argv: Sequence[str], *, project: str | None = None, model: type[T]) -> T: ...
def query(argv: Sequence[str], *, project: str | None = None, model: type[Any] | None = None) -> Any:
    """Run a read command with ``--format json`` and return the parsed JSON.

    ``incus query`` (raw API) already answers JSON and gets no format flag.
    With ``model`` (a type pydantic understands, e.g. ``list[Live]``) the
    JSON is validated into it.
    """
    args = _check_argv(argv)
    if args[0] != "query":
        args += ["--format", "json"]
    proc = run(args, project=project)
    try:
        data = json.loads(proc.stdout) if proc.stdout.strip() else None
    except json.JSONDecodeError as exc:
        msg = f"'incus {' '.join(args)}' did not answer JSON: {exc}"
        raise IncusError(msg) from exc
    if model is None:
        return data
    return TypeAdapter(model).validate_python(data)


def available() -> bool:
    """Return True when the incus client exists and the daemon answers."""
    try:
        return run(["info"], check=False, timeout=30).returncode == 0
    except IncusError:
        return False
