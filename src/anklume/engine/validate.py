"""Stage 2: check the loaded document against the model, all problems at once.

Schema errors (types, unknown keys, bad names) come from the pydantic model;
cross-reference errors (a policy naming an unknown machine, a profile that
is not defined...) from :mod:`anklume.engine.references`. Every problem
names the file, the line, the key path and what is allowed.
"""

from __future__ import annotations

import difflib
import math
import types
import typing
from typing import Any, Union

from pydantic import BaseModel, ValidationError

from anklume.engine.load import Document, KeyPath, SourceMap
from anklume.engine.managed import CLOSE, OPEN
from anklume.engine.model import PATTERN_HELP as PATTERNS
from anklume.engine.model import Infra
from anklume.engine.model_portal import check_portal
from anklume.engine.references import check_references
from anklume.errors import InfraError, Problem


def validate(doc: Document, /) -> Infra:
    """Return the typed infra, or raise :class:`InfraError` with every problem."""
    unsafe = unsafe_values(doc.data, doc.source)
    try:
        infra = Infra.model_validate(doc.data)
    except ValidationError as exc:
        seen = {p.key for p in unsafe}
        found = [p for p in _problems(exc, doc) if p.key not in seen]  # the specific message wins
        raise InfraError(doc.problems + unsafe + found) from None
    if unsafe:
        raise InfraError(doc.problems + unsafe)
    problems = doc.problems + check_references(infra, doc.source) + check_portal(infra, doc.source)
    if problems:
        raise InfraError(problems)
    return infra


def unsafe_values(data: Any, sm: SourceMap, path: KeyPath = ()) -> list[Problem]:
    """Values no field may hold: NUL, NaN and infinite numbers, managed-block markers.

    >>> [p.message for p in unsafe_values({"a": [float("nan"), "ok"]}, SourceMap())]
    ['NaN and infinite numbers are not allowed (got nan)']
    """
    if isinstance(data, dict):
        return [p for key, value in data.items() for p in unsafe_values(value, sm, (*path, key))]
    if isinstance(data, list):
        return [p for index, value in enumerate(data) for p in unsafe_values(value, sm, (*path, index))]
    message = ""
    if isinstance(data, float) and not math.isfinite(data):
        message = f"NaN and infinite numbers are not allowed (got {data})"
    elif isinstance(data, str) and "\x00" in data:
        message = "must not contain a NUL character"
    elif isinstance(data, str) and (OPEN in data or CLOSE in data):
        message = f"must not contain a managed-block marker ({OPEN!r} or {CLOSE!r})"
    return [sm.problem(path, message)] if message else []


def _walk(data: Any, loc: tuple[Any, ...]) -> KeyPath:
    """Keep the part of a pydantic location that names real keys of ``data``."""
    path: list[str | int] = []
    node = data
    for part in loc:
        if isinstance(node, dict) and isinstance(part, str) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        elif isinstance(node, dict) and isinstance(part, str):
            path.append(part)  # a missing or unknown key: still name it
            break
        else:
            continue  # pydantic's union-member tags ("str", "list[int]", ...)
        path.append(part)
    return tuple(path)


def _problems(exc: ValidationError, doc: Document) -> list[Problem]:
    merged: dict[KeyPath, list[str]] = {}
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        path = _walk(doc.data, tuple(p for p in loc if p != "[key]"))
        merged.setdefault(path, [])
        text = _message(err, path, doc.source)
        if "[key]" in loc:
            text = f"invalid name '{path[-1]}': {text}"
        if text not in merged[path]:
            merged[path].append(text)
    # a union reports one error per member; the deepest ones say what is wrong
    deeper = {path[:n] for path in merged for n in range(len(path))}
    out = []
    for path, texts in merged.items():
        if path in deeper:
            continue
        message = texts[0] if len(texts) == 1 else "expected one of: " + "; or ".join(texts)
        hint = _hint(path, texts)
        out.append(doc.source.problem(path, message, hint))
    return out


def _message(err: Any, path: KeyPath, sm: SourceMap) -> str:
    kind = err["type"]
    value = err.get("input")
    if kind == "extra_forbidden":
        allowed = sorted(_allowed_keys(path[:-1]))
        guess = difflib.get_close_matches(str(path[-1]), allowed, n=1, cutoff=0.6)
        did = f"; did you mean '{guess[0]}'?" if guess else ""
        return f"unknown key{did} (allowed: {', '.join(allowed)})"
    if kind == "missing":
        return "required key is missing"
    del sm
    shown = repr(value) if not isinstance(value, dict | list) else type(value).__name__
    msg = str(err["msg"])
    pattern = (err.get("ctx") or {}).get("pattern")
    if pattern is not None:
        msg = PATTERNS.get(pattern, f"must match {pattern}")
    return f"{msg} (got {shown})"


def _hint(path: KeyPath, texts: list[str]) -> str:
    if path and path[-1] == "ip":
        return "an IPv4 address inside the domain's subnet, such as 10.110.0.5"
    return ""


def _model_fields(model: type[BaseModel]) -> dict[str, Any]:
    return {(f.alias or name): f.annotation for name, f in model.model_fields.items()}


def _models_in(annotation: Any) -> list[Any]:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _models_in(typing.get_args(annotation)[0])
    if origin in {Union, types.UnionType}:
        return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]
    return [annotation]


def _allowed_keys(path: KeyPath) -> set[str]:
    """Return the keys the model allows at ``path`` (a mapping location)."""
    candidates: list[Any] = [Infra]
    for part in path:
        following: list[Any] = []
        for cand in candidates:
            if isinstance(cand, type) and issubclass(cand, BaseModel):
                field = _model_fields(cand).get(str(part))
                if field is not None:
                    following += _models_in(field)
            elif typing.get_origin(cand) in {dict, list}:
                following += _models_in(typing.get_args(cand)[-1])
        candidates = following
    keys: set[str] = set()
    for cand in candidates:
        if isinstance(cand, type) and issubclass(cand, BaseModel):
            keys |= set(_model_fields(cand))
    return keys
