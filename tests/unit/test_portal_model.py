"""infra.yml keys of the portal: file_portal (existing users' key) and file_policies."""

from __future__ import annotations

import typing as t

import pytest

from anklume.engine import model, model_portal
from anklume.engine.pipeline import resolve
from anklume.engine.render import render
from anklume.errors import InfraError
from tests.unit.conftest import WriteInfra

HEAD = "project_name: x\nglobal:\n  addressing: {zone_base: 100}\n"
DOMAINS = """\
domains:
  pro:
    trust_level: trusted
    file_portal: {allowed_paths: [/srv/share, /home/user/Documents], read_only: false}
    machines: {pro-dev: {}}
  perso:
    file_portal:
      allowed_paths: ["/shared/perso"]
    machines: {perso-web: {}}
  tmp:
    machines: {tmp-box: {}}
"""


def test_the_key_existing_files_carry_is_accepted(write_infra: WriteInfra) -> None:
    infra = resolve(
        write_infra(HEAD + DOMAINS + "file_policies:\n  - {from: perso-web, to: pro, bidirectional: true}\n")
    )
    assert infra.domains["pro"].name == "pro"


def test_file_portal_changes_no_generated_file(write_infra: WriteInfra) -> None:
    bare = "".join(
        line for line in DOMAINS.splitlines(keepends=True) if "file_portal" not in line and "/shared" not in line
    )
    plain = render(resolve(write_infra(HEAD + bare)))
    ported = render(resolve(write_infra(HEAD + DOMAINS + "file_policies:\n  - {from: perso, to: pro}\n")))
    assert plain == ported and len(plain) == 10  # all.yml, 3 inventories, 3 group_vars, 3 host_vars


class BadPortal(t.NamedTuple):
    test_id: str
    body: str
    says: str


CASES = [
    BadPortal(
        "unknown-endpoint", "file_policies:\n  - {from: nope, to: pro}\n", "'nope' is neither a domain nor a machine"
    ),
    BadPortal(
        "host-endpoint", "file_policies:\n  - {from: host, to: pro}\n", "the host is not a file_policies endpoint"
    ),
    BadPortal(
        "domain-without-portal", "file_policies:\n  - {from: tmp-box, to: pro}\n", "domain 'tmp' has no file_portal"
    ),
    BadPortal("same-ends", "file_policies:\n  - {from: pro, to: pro}\n", "'from' and 'to' are the same"),
    BadPortal("unknown-key", "file_policies:\n  - {from: perso, to: pro, paths: [/x]}\n", "unknown key"),
    BadPortal("relative-path", "", "must be an absolute path"),
    BadPortal("dotdot-path", "", "has '.' or '..' components"),
    BadPortal("portal-typo", "", "did you mean 'read_only'"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.test_id for c in CASES])
def test_bad_portal_keys_are_one_clear_problem(case: BadPortal, write_infra: WriteInfra) -> None:
    domains = DOMAINS
    if case.test_id == "relative-path":
        domains = domains.replace("/shared/perso", "shared/perso")
    if case.test_id == "dotdot-path":
        domains = domains.replace("/shared/perso", "/shared/../etc")
    if case.test_id == "portal-typo":
        domains = domains.replace("read_only: false", "readonly: false")
    with pytest.raises(InfraError) as err:
        resolve(write_infra(HEAD + domains + case.body))
    assert case.says in str(err.value)
    assert "infra.yml:" in str(err.value)


def test_the_portal_classes_keep_the_model_configuration_and_patterns() -> None:
    assert model_portal.PortalModel.model_config == model.Model.model_config
    assert (model_portal.NAME, model_portal.ABS_PATH, model_portal.TEXT) == (model.NAME, model.ABS_PATH, model.TEXT)
