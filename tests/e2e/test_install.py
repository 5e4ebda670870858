"""``pip install anklume`` alone gives a complete product.

The wheel is built from this checkout and installed into a fresh virtual
environment, with its dependencies resolved by pip as a user's install
would. Every command then runs from that environment, outside the checkout
and without ``ANKLUME_HOME``: the console and telemetry libraries, Ansible
and the framework (site.yml, roles, plugins) must all come with the package.
``domain check`` runs the framework's playbook against the real Incus.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
INSTALL_TIMEOUT = 900

INFRA = """\
project_name: anklume-e2e-pkg
global:
  addressing: {base_octet: 10, zone_base: 245, zone_step: 1}
  default_os_image: anklume/debian-12
domains:
  pkg:
    trust_level: admin
    subnet_id: 3
    nat: false
"""


def _run(argv: list[str], env: dict[str, str], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)


def _copy_of_the_checkout(target: Path) -> Path:
    """Copy the files git tracks or would track (uncommitted edits included) into ``target``."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = REPO / name
        if source.is_file() and not source.is_symlink():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, str], Path]]:
    """(bin directory of a fresh venv holding the wheel, its environment, a working directory)."""
    root = tmp_path_factory.mktemp("install")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANKLUME_", "VIRTUAL_ENV", "PYTHON"))}
    env["HOME"] = str(root / "home")
    env["PATH"] = f"{root / 'venv' / 'bin'}:/usr/sbin:/usr/bin:/sbin:/bin"
    (root / "home").mkdir()
    source = _copy_of_the_checkout(root / "source")  # a build in the checkout would leave build/ behind
    wheels = root / "wheels"
    built = _run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), str(source)],
        env,
        root,
        INSTALL_TIMEOUT,
    )
    assert built.returncode == 0, built.stderr[-3000:]
    wheel = next(wheels.glob("anklume-*.whl"))
    made = _run([sys.executable, "-m", "venv", str(root / "venv")], env, root)
    assert made.returncode == 0, made.stderr
    pip = _run([str(root / "venv" / "bin" / "pip"), "install", "-q", str(wheel)], env, root, INSTALL_TIMEOUT)
    assert pip.returncode == 0, pip.stderr[-3000:]
    yield root / "venv" / "bin", env, root


@pytest.mark.incus
def test_the_installed_package_is_not_the_checkout(installed: tuple[Path, dict[str, str], Path]) -> None:
    bindir, env, cwd = installed
    code = "import anklume, anklume.paths as p; print(anklume.__file__); print(p.framework_dir())"
    proc = _run([str(bindir / "python"), "-c", code], env, cwd)
    assert proc.returncode == 0, proc.stderr
    module, framework = proc.stdout.split()
    assert "site-packages" in module and not module.startswith(str(REPO)), module
    assert framework.endswith("anklume/_framework"), framework
    for part in ("site.yml", "ansible.cfg", "roles/incus_instances/tasks/main.yml", "filter_plugins/anklume_plan.py"):
        assert (Path(framework) / part).is_file(), part


@pytest.mark.incus
def test_every_command_runs_from_a_plain_install(installed: tuple[Path, dict[str, str], Path]) -> None:
    bindir, env, cwd = installed
    anklume = str(bindir / "anklume")
    top = _run([anklume, "--help"], env, cwd)
    assert top.returncode == 0, top.stderr
    for command in ("sync", "domain", "network", "image", "console", "telemetry", "doctor", "schema"):
        assert command in top.stdout, f"'{command}' missing from a plain install's --help"
        helped = _run([anklume, command, "--help"], env, cwd)
        assert helped.returncode == 0 and "Traceback" not in helped.stderr, helped.stderr
    report = _run([anklume, "telemetry", "report"], env, cwd)  # plotext, imported only here
    assert report.returncode == 0 and "Traceback" not in report.stderr, report.stdout + report.stderr
    assert (bindir / "ansible-playbook").is_file(), "Ansible must come with anklume"
    listed = _run([str(bindir / "ansible-galaxy"), "collection", "list", "community.general"], env, cwd)
    assert "community.general" in listed.stdout, listed.stdout + listed.stderr


@pytest.mark.incus
def test_domain_check_runs_the_packaged_framework(installed: tuple[Path, dict[str, str], Path]) -> None:
    bindir, env, cwd = installed
    infra = cwd / "infra"
    infra.mkdir(exist_ok=True)
    (infra / "infra.yml").write_text(INFRA, encoding="utf-8")
    env = {**env, "ANKLUME_SKIP_HOST_SUBNET_CHECK": "1", "ANKLUME_LOCK_FILE": str(cwd / "apply.lock")}
    synced = _run([str(bindir / "anklume"), "-C", str(infra), "sync"], env, cwd)
    assert synced.returncode == 0, synced.stdout + synced.stderr
    checked = _run([str(bindir / "anklume"), "-C", str(infra), "domain", "check"], env, cwd, 600)
    # exit 3: changes pending (the project and the bridge of 'pkg' do not exist); nothing is created
    assert checked.returncode == 3, checked.stdout[-3000:] + checked.stderr[-3000:]
    assert "pkg" in checked.stdout + checked.stderr
    assert "Traceback" not in checked.stderr
