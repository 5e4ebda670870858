"""JSON Schemas of the infra format, generated from the one model.

``infra`` describes infra.yml; ``base``, ``domains`` and ``policies``
describe the files of the directory mode (infra/base.yml,
infra/domains/*.yml, infra/policies.yml).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, TypeAdapter, create_model

from anklume.engine.model import Domain, DomainName, Global, Infra, Model, Policy, ProjectName, SharedVolume, VolumeName
from anklume.engine.model_portal import FilePolicy

PARTS = ("infra", "base", "domains", "policies")


def _base() -> type[Model]:
    return create_model(
        "Base",
        __base__=Model,
        project_name=(ProjectName, ...),
        global_=(Global, Field(alias="global")),
        shared_volumes=(dict[VolumeName, SharedVolume] | None, None),
    )


def _policies() -> type[Model]:
    return create_model(
        "Policies",
        __base__=Model,
        network_policies=(list[Policy] | None, None),
        file_policies=(list[FilePolicy] | None, None),
    )


def schema(part: str = "infra") -> dict[str, Any]:
    """Return the JSON Schema of one part of the format."""
    if part == "infra":
        out = Infra.model_json_schema(by_alias=True)
    elif part == "base":
        out = _base().model_json_schema(by_alias=True)
    elif part == "policies":
        out = _policies().model_json_schema(by_alias=True)
    elif part == "domains":
        out = TypeAdapter(dict[DomainName, Domain]).json_schema(by_alias=True)
        out["title"] = "Domains"
    else:
        msg = f"unknown schema part {part!r}; choose one of {', '.join(PARTS)}"
        raise ValueError(msg)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **_close_name_maps(out)}


def _close_name_maps(node: Any) -> Any:
    """Make name-keyed maps reject keys that are not valid names.

    Pydantic writes ``dict[Name, X]`` as ``patternProperties`` only, which
    lets any other key through; the engine rejects such keys, so the schema
    must too: the pattern moves to ``propertyNames`` and the value schema to
    ``additionalProperties``.

    >>> _close_name_maps({"patternProperties": {"^a$": {"type": "string"}}, "propertyNames": {"maxLength": 3}})
    {'propertyNames': {'maxLength': 3, 'pattern': '^a$'}, 'additionalProperties': {'type': 'string'}}
    """
    if isinstance(node, list):
        return [_close_name_maps(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _close_name_maps(value) for key, value in node.items()}
    patterns = out.get("patternProperties")
    if isinstance(patterns, dict) and len(patterns) == 1 and "additionalProperties" not in out:
        ((pattern, value),) = patterns.items()
        del out["patternProperties"]
        out["propertyNames"] = {**out.get("propertyNames", {}), "pattern": pattern}
        out["additionalProperties"] = value
    return out
