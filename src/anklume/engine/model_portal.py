"""The infra.yml keys of the file portal: ``domains.<d>.file_portal`` and ``file_policies``.

``file_portal`` (per domain, the key existing infra files carry) says which
paths of the domain's instances ``anklume portal copy`` may read or write,
and whether it may write there at all. ``file_policies`` (top level, like
``network_policies``) says which domains or machines may send files to
which others. See docs/portal.md.

The classes repeat the configuration and patterns of
:class:`anklume.engine.model.Model` (model.py imports this module, so this
one cannot import model.py); a unit test checks that they stay equal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

if TYPE_CHECKING:  # model.py imports this module: no import of it at run time
    from anklume.engine.model import Infra
    from anklume.engine.yamlsrc import SourceMap
    from anklume.errors import Problem

# The same strings as model.NAME, model.ABS_PATH and model.TEXT (error messages are looked up by pattern).
NAME = r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$"
ABS_PATH = r"^/[^\x00-\x1f\x7f]*$"
TEXT = r"^[^\x00-\x1f\x7f-\x9f\u2028\u2029]*$"

PortalPath = Annotated[str, StringConstraints(pattern=ABS_PATH, max_length=4096)]
PortalEndpoint = Annotated[str, StringConstraints(pattern=NAME, max_length=59)]


class PortalModel(BaseModel):
    """Frozen, strict, no unknown keys: the configuration of ``model.Model``."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, populate_by_name=True, allow_inf_nan=False)


class FilePortal(PortalModel):
    """What the file portal may do in this domain's instances (absent: nothing)."""

    allowed_paths: list[PortalPath] = Field(
        default_factory=list,
        description="Paths inside the domain's instances the portal may read and write (with everything below).",
    )
    read_only: bool = Field(False, description="true: files may be copied out of the domain, never into it.")


class FilePolicy(PortalModel):
    """A rule letting files cross from one domain (or machine) to another."""

    description: Annotated[str, StringConstraints(pattern=TEXT, max_length=1000)] = ""
    from_: PortalEndpoint = Field(alias="from", description="The domain or machine files come from.")
    to: PortalEndpoint = Field(description="The domain or machine files go to.")
    bidirectional: bool = Field(False, description="true: files may also go from 'to' to 'from'.")


def check_portal(infra: Infra, sm: SourceMap, /) -> list[Problem]:
    """Cross-reference problems of ``file_portal`` and ``file_policies`` (empty when consistent)."""
    domains = infra.domains
    owner = {m: d for d, dom in domains.items() for m in dom.machines or {}}
    problems = []
    for index, policy in enumerate(infra.file_policies or []):
        for key, name in (("from", policy.from_), ("to", policy.to)):
            where = ("file_policies", index, key)
            domain = name if name in domains else owner.get(name)
            if name == "host":
                msg = "the host is not a file_policies endpoint: its copies are governed by each domain's file_portal"
                problems.append(sm.problem(where, msg))
            elif domain is None:
                problems.append(sm.problem(where, f"'{name}' is neither a domain nor a machine"))
            elif domains[domain].file_portal is None:
                msg = f"domain '{domain}' has no file_portal: the portal never reads or writes its instances"
                hint = f"add 'file_portal: {{allowed_paths: [/some/path]}}' to domain '{domain}'"
                problems.append(sm.problem(where, msg, hint))
        if policy.from_ == policy.to:
            problems.append(sm.problem(("file_policies", index), "'from' and 'to' are the same"))
    for dname, dom in domains.items():
        portal = dom.file_portal
        for index, path in enumerate(portal.allowed_paths if portal else []):
            if "/../" in f"{path}/" or "/./" in f"{path}/":
                msg = f"'{path}' has '.' or '..' components; write the plain absolute path"
                problems.append(sm.problem(("domains", dname, "file_portal", "allowed_paths", index), msg))
    return problems
