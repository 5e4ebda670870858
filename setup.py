"""Ship the Ansible framework (site.yml, roles, plugins) inside the wheel.

The framework lives at the top of the repository, where Ansible and the
developers expect it. A wheel built from here copies it into
``anklume/_framework`` so that ``pip install anklume`` alone gives a
complete product: ``anklume domain apply`` finds it there when no checkout
or ``ANKLUME_HOME`` provides one.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
FRAMEWORK = (
    "site.yml",
    "ansible.cfg",
    "roles",
    "action_plugins",
    "callback_plugins",
    "filter_plugins",
    "lookup_plugins",
)
SKIP = shutil.ignore_patterns("molecule", "__pycache__", "*.pyc", ".pytest_cache")


class BuildWithFramework(build_py):
    """build_py that also copies the framework into the built package."""

    def run(self) -> None:
        super().run()
        target = Path(self.build_lib) / "anklume" / "_framework"
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        for name in FRAMEWORK:
            source = ROOT / name
            if source.is_dir():
                shutil.copytree(source, target / name, ignore=SKIP)
            elif source.is_file():
                shutil.copy2(source, target / name)


setup(cmdclass={"build_py": BuildWithFramework})
