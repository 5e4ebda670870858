"""Start, stop and check the proxy's daemons: systemd units where systemd is PID 1, processes otherwise.

With systemd each daemon is a unit ``anklume-package-proxy-<table>-<name>.service``
(restarted on failure, started after Incus so the gateways exist). Without
it, :func:`start` runs the same command detached, as the proxy's user, with
a pid file; ``anklume proxy start`` does that at boot for every table.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import signal
import socket
import subprocess
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from anklume.network.hook import systemd_dir, systemd_running
from anklume.proxy.errors import ProxyError
from anklume.proxy.layout import USER, Daemon, state_root

READY_SECONDS = 60.0


def unit_name(table: str, daemon: str) -> str:
    """The unit of one daemon.

    >>> unit_name("anklume_lab_1a2b", "apt")
    'anklume-package-proxy-anklume_lab_1a2b-apt.service'
    """
    return f"anklume-package-proxy-{table}-{daemon}.service"


def unit_text(table: str, d: Daemon) -> str:
    """The unit file of a daemon: its exact command, as the proxy's user, restarted when it fails."""
    env = [f'Environment="{k}={v}"' for k, v in sorted(d.env.items())]
    return "\n".join(
        [
            f"# Installed by anklume: package proxy ({d.name}) of table {table}.",
            "[Unit]",
            f"Description=anklume package proxy {d.name} ({table})",
            "After=network.target incus.service",
            "",
            "[Service]",
            f"User={USER}",
            f"Group={USER}",
            *env,
            f"ExecStart={' '.join(d.argv)}",
            "Restart=on-failure",
            "RestartSec=5",
            "NoNewPrivileges=yes",
            "",
            "[Install]",
            "WantedBy=multi-user.target",
            "",
        ]
    )


def _owned_dir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    user = pwd.getpwnam(USER)
    os.chown(path, user.pw_uid, user.pw_gid)
    path.chmod(0o700)


def write(table: str, daemons: list[Daemon]) -> set[str]:
    """Write the configuration of an infra's proxy; return the daemons whose command or files changed."""
    base = state_root() / table
    conf = base / "conf"
    changed: set[str] = set()
    old = _read_spec(table)
    for d in daemons:
        for rel, text in d.files.items():
            path = conf / rel
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                path.write_text(text, encoding="utf-8")
                path.chmod(0o644)
                changed.add(d.name)
        if old.get(d.name) != asdict(d):
            changed.add(d.name)
    var = base / "var"
    for sub in ("", "apt", "pip", "npm", "log"):
        _owned_dir(var / sub)
    (base / "run").mkdir(parents=True, exist_ok=True, mode=0o700)
    spec = base / "daemons.json"
    spec.write_text(json.dumps([asdict(d) for d in daemons], indent=1) + "\n", encoding="utf-8")
    return changed


def _read_spec(table: str) -> dict[str, Any]:
    spec = state_root() / table / "daemons.json"
    if not spec.exists():
        return {}
    return {d["name"]: d for d in json.loads(spec.read_text(encoding="utf-8"))}


def load(table: str) -> list[Daemon]:
    """The daemons an earlier setup recorded for a table."""
    return [
        Daemon(str(d["name"]), list(d["argv"]), dict(d["env"]), (d["listen"][0], int(d["listen"][1])), dict(d["files"]))
        for d in _read_spec(table).values()
    ]


def tables() -> list[str]:
    """Every table whose proxy is set up on this host."""
    root = state_root()
    return sorted(p.parent.name for p in root.glob("*/daemons.json")) if root.is_dir() else []


def answers(listen: tuple[str, int], timeout: float = 1.0) -> bool:
    """Return True when something accepts TCP connections on ``listen`` (an anklume gateway)."""
    with contextlib.suppress(OSError), socket.create_connection(listen, timeout=timeout):
        return True
    return False


def _pidfile(table: str, name: str) -> Path:
    return state_root() / table / "run" / f"{name}.pid"


def _running_pid(table: str, d: Daemon) -> int | None:
    """The pid of the daemon when its pid file (root's) names a live process of the proxy's user.

    The command line is not compared: gunicorn runs through its script's
    interpreter and verdaccio renames its process.
    """
    try:
        pid = int(_pidfile(table, d.name).read_text(encoding="utf-8"))
        status = Path(f"/proc/{pid}/status").read_text(encoding="utf-8")
    except (OSError, ValueError):
        return None
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    uid = fields.get("Uid", "").split()
    alive = not fields.get("State", "Z").strip().startswith("Z")
    return pid if alive and uid[:1] == [str(pwd.getpwnam(USER).pw_uid)] else None


def _wait_ready(table: str, d: Daemon, proc: subprocess.Popen[bytes] | None) -> None:
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        if answers(d.listen, 0.5):
            return
        if proc is not None and proc.poll() is not None:
            break
        time.sleep(0.2)
    log = state_root() / table / "var" / "log" / f"{d.name}.out"
    tail = log.read_text(encoding="utf-8", errors="replace")[-1500:] if log.exists() else ""
    what, why = f"starting {d.name}", f"nothing answers on {d.listen[0]}:{d.listen[1]}; its output: {tail}"
    raise ProxyError(what, why)


def _systemctl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["systemctl", *args], capture_output=True, text=True, check=False, timeout=120)


def start(table: str, d: Daemon, *, restart: bool = False) -> bool:
    """Make the daemon run (restart it when ``restart``); return whether anything was started."""
    if systemd_running():
        unit = unit_name(table, d.name)
        path = systemd_dir() / unit
        text = unit_text(table, d)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            _systemctl("daemon-reload")
            restart = True
        _systemctl("enable", unit)
        active = _systemctl("is-active", unit).stdout.strip() == "active"
        if active and not restart:
            return False
        _systemctl("restart", unit)
        _wait_ready(table, d, None)
        return True
    if _running_pid(table, d) is not None:
        if not restart:
            return False
        stop(table, d)
    return _spawn(table, d)


def _spawn(table: str, d: Daemon) -> bool:
    what = f"starting {d.name}"
    if answers(d.listen):
        raise ProxyError(what, f"another process already listens on {d.listen[0]}:{d.listen[1]}")
    log = state_root() / table / "var" / "log" / f"{d.name}.out"
    try:
        with log.open("ab") as out:
            proc = subprocess.Popen(
                d.argv,
                env=d.env,
                cwd=state_root(),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                user=USER,
                group=USER,
                extra_groups=[],
            )
    except OSError as exc:
        raise ProxyError(what, str(exc)) from None
    _pidfile(table, d.name).write_text(f"{proc.pid}\n", encoding="utf-8")
    _wait_ready(table, d, proc)
    return True


def stop(table: str, d: Daemon) -> bool:
    """Stop the daemon (and, with systemd, disable its unit); return whether it was running."""
    if systemd_running():
        unit = unit_name(table, d.name)
        path = systemd_dir() / unit
        was = _systemctl("is-active", unit).stdout.strip() == "active"
        if path.exists():
            _systemctl("disable", "--now", unit)
            path.unlink()
            _systemctl("daemon-reload")
        return was
    pid = _running_pid(table, d)
    if pid is None:
        return False
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGTERM)
    for _ in range(100):
        if not Path(f"/proc/{pid}").exists() or _zombie(pid):
            break
        time.sleep(0.1)
    else:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
    _pidfile(table, d.name).unlink(missing_ok=True)
    return True


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text(encoding="utf-8").split(") ", 1)[1].startswith("Z")
    except (OSError, IndexError):
        return True
