"""Provisioning inputs: the fingerprint that lets an apply skip an unchanged instance.

Unlike the planners of :mod:`anklume.plan`, which are pure, this package
reads files: the code of the roles a machine is provisioned with
(:mod:`anklume.provision.role_digest`). The Ansible filter plugin
``anklume_plan`` exposes its functions to ``site.yml``'s provision play.
"""

from __future__ import annotations

from anklume.provision.fingerprint import INFRA_ONLY, fingerprint, provision_vars, provisioned
from anklume.provision.role_digest import role_digest, role_digests

__all__ = ["INFRA_ONLY", "fingerprint", "provision_vars", "provisioned", "role_digest", "role_digests"]
