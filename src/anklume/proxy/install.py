"""Install the proxy's components on the host, once, from the registries the host already uses.

- apt-cacher-ng from Debian (``apt-get``); the distribution's own service
  is stopped and disabled when anklume installed the package, since it
  would listen on every address;
- proxpi and gunicorn from PyPI, pinned, in their own virtual environment;
- verdaccio from the npm registry, pinned, with Node.js and npm from Debian
  when the host has none;
- the system user the daemons run as.

Every step is skipped when already done, so a second setup runs no installer.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

from anklume.proxy.errors import ProxyError
from anklume.proxy.layout import ACNG, USER, state_root
from anklume.proxy.spec import PIP_PACKAGES, VERDACCIO

log = logging.getLogger(__name__)

NPM_OVERRIDES = {"node-fetch": "2.7.0"}
"""verdaccio 6.8's dependency tree resolves node-fetch 3 (ESM only) where CommonJS needs it; 2.7 is the fix."""


def _run(argv: list[str], *, what: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> None:
    log.info("running %s", " ".join(argv))
    done = subprocess.run(argv, capture_output=True, text=True, check=False, env=env, cwd=cwd, timeout=900)
    if done.returncode != 0:
        raise ProxyError(what, f"{' '.join(argv)} exited {done.returncode}: {done.stderr.strip()[-800:]}")


def _dpkg_installed(package: str) -> bool:
    done = subprocess.run(
        ["dpkg-query", "--show", "--showformat=${db:Status-Abbrev}", package],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.returncode == 0 and done.stdout.startswith("ii")


def _apt_install(*packages: str) -> None:
    env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
    argv = ["apt-get", "install", "-y", "--no-install-recommends", *packages]
    try:
        _run(argv, what=f"installing {', '.join(packages)}", env=env)
    except ProxyError:
        _run(["apt-get", "update"], what="apt-get update", env=env)
        _run(argv, what=f"installing {', '.join(packages)}", env=env)


def _disable_distro_acng() -> None:
    """Stop the distribution's apt-cacher-ng: it listens on every address (anklume runs its own)."""
    if Path("/run/systemd/system").is_dir():
        subprocess.run(["systemctl", "disable", "--now", "apt-cacher-ng.service"], check=False, capture_output=True)
        return
    init = Path("/etc/init.d/apt-cacher-ng")
    if init.exists():
        subprocess.run([str(init), "stop"], check=False, capture_output=True)
        subprocess.run(["update-rc.d", "apt-cacher-ng", "disable"], check=False, capture_output=True)


def ensure_apt() -> bool:
    """apt-cacher-ng from Debian; return whether it was installed now."""
    if Path(ACNG).exists():
        return False
    _apt_install("apt-cacher-ng")
    _disable_distro_acng()
    return True


def ensure_pip() -> bool:
    """proxpi and gunicorn, pinned, in ``<state>/venv``; return whether anything was installed."""
    venv = state_root() / "venv"
    marker = venv / "anklume-packages.txt"
    wanted = "\n".join(PIP_PACKAGES) + "\n"
    if marker.exists() and marker.read_text(encoding="utf-8") == wanted and (venv / "bin" / "gunicorn").exists():
        return False
    # the daemons run as an unprivileged user: the interpreter must be one it can read (not a root-only pyenv)
    python = "/usr/bin/python3" if Path("/usr/bin/python3").exists() else sys.executable
    _run([python, "-m", "venv", "--clear", str(venv)], what="creating the proxpi environment")
    _run([str(venv / "bin" / "pip"), "install", "--quiet", *PIP_PACKAGES], what="installing proxpi from PyPI")
    marker.write_text(wanted, encoding="utf-8")
    return True


def node_binary() -> str:
    """Node.js on the host (``node``, or Debian's ``nodejs``)."""
    for name in ("node", "nodejs"):
        found = shutil.which(name)
        if found:
            return found
    what, why = "serving npm", "Node.js is missing: install it (apt-get install nodejs npm)"
    raise ProxyError(what, why)


def ensure_npm() -> bool:
    """verdaccio, pinned, in ``<state>/npm``; return whether anything was installed."""
    root = state_root() / "npm"
    installed = root / "node_modules" / "verdaccio" / "package.json"
    if installed.exists() and json.loads(installed.read_text(encoding="utf-8")).get("version") == VERDACCIO:
        return False
    if shutil.which("npm") is None:
        _apt_install("nodejs", "npm")
    root.mkdir(parents=True, exist_ok=True)
    manifest = {"private": True, "dependencies": {"verdaccio": VERDACCIO}, "overrides": NPM_OVERRIDES}
    (root / "package.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    npm = shutil.which("npm") or "npm"
    _run([npm, "install", "--omit=dev", "--no-audit", "--no-fund"], what="installing verdaccio from npm", cwd=root)
    return True


def ensure_user() -> None:
    """The system user of the daemons (no login, no home)."""
    done = subprocess.run(["getent", "passwd", USER], capture_output=True, check=False)
    if done.returncode != 0:
        _run(
            [
                "useradd",
                "--system",
                "--no-create-home",
                "--home-dir",
                "/nonexistent",
                "--shell",
                "/usr/sbin/nologin",
                USER,
            ],
            what=f"creating the system user {USER}",
        )


def ensure_all() -> list[str]:
    """Install whatever is missing; return what was installed.

    Under a host-wide lock: the setups of two infras applied at once would
    otherwise run apt-get, pip and npm into the same place side by side.
    """
    state_root().mkdir(parents=True, exist_ok=True, mode=0o755)
    with (state_root() / ".install.lock").open("a") as lock:  # released when closed
        fcntl.flock(lock, fcntl.LOCK_EX)
        ensure_user()
        return [
            name
            for name, step in (("apt-cacher-ng", ensure_apt), ("proxpi", ensure_pip), ("verdaccio", ensure_npm))
            if step()
        ]
