"""Remove what an end-to-end test created on the real daemon, and only that.

Every test infra names its own projects, bridges and tables; this module
deletes exactly those. Instances lose their delete protection first (the
tests create protected ones on purpose). A project's images are deleted
only when the project has its own (``features.images=true``): otherwise the
listing shows the default project's images, which are never the tests'.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterable

from anklume.errors import IncusError
from anklume.incus.run import query as incus_query
from anklume.incus.run import run as incus_run


def names(argv: list[str]) -> set[str]:
    """Names listed by ``incus ARGV`` (empty when the listing fails, e.g. a missing project)."""
    try:
        return {str(i.get("name")) for i in incus_query(argv) or []}
    except IncusError:
        return set()


def remove_project(project: str) -> None:
    """Delete a project with its instances, own images and profiles (nothing when it does not exist)."""
    if project not in names(["project", "list"]):
        return
    for name in names(["list", "--project", project]):
        incus_run(["config", "set", name, "security.protection.delete=false"], project=project, check=False)
        incus_run(["delete", "--force", name], project=project, check=False)
    if incus_run(["project", "get", project, "features.images"], check=False).stdout.strip() == "true":
        for image in incus_query(["image", "list"], project=project) or []:
            incus_run(["image", "delete", str(image["fingerprint"])], project=project, check=False)
    for profile in names(["profile", "list", "--project", project]) - {"default"}:
        incus_run(["profile", "delete", profile], project=project, check=False)
    incus_run(["project", "delete", project], check=False)


def remove(projects: Iterable[str], *, bridges: Iterable[str] = (), tables: Iterable[str] = ()) -> None:
    """Delete these projects (with their content), then these bridges and ``inet`` tables."""
    for project in projects:
        remove_project(project)
    for bridge in bridges:
        incus_run(["network", "delete", bridge], check=False)
    for table in tables if shutil.which("nft") else ():
        subprocess.run(["nft", "delete", "table", "inet", table], capture_output=True, check=False)
