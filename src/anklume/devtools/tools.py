"""Find the external analysis tools, and say how to install the missing ones."""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
from pathlib import Path

from anklume.errors import AnklumeError, CommandFailed

log = logging.getLogger(__name__)

INSTALL_HINTS = {
    "pyan3": "pip install pyan3 (or: pip install -e '.[dev]')",
    "pydeps": "pip install pydeps (or: pip install -e '.[dev]')",
    "vulture": "pip install vulture (or: pip install -e '.[dev]')",
    "little-timmy": "pip install little-timmy (or: pip install -e '.[dev]')",
    "dot": "apt-get install graphviz",
    "shellcheck": "apt-get install shellcheck",
    "make": "apt-get install make",
}


class ToolMissing(AnklumeError):
    """An external tool is not installed."""

    def __init__(self, tool: str) -> None:
        self.tool = tool
        hint = INSTALL_HINTS.get(tool, f"install {tool}")
        super().__init__(f"{tool} not found; install it: {hint}")


class ToolFailed(CommandFailed):
    """An external tool exited with an unexpected code."""

    def __init__(self, argv: list[str], rc: int, stderr: str) -> None:
        self.argv = argv
        self.rc = rc
        tail = " / ".join(stderr.strip().splitlines()[-3:]) or "no output"
        super().__init__(f"{Path(argv[0]).name} failed (exit {rc}): {tail}")


def find(tool: str) -> str:
    """Return the path of a tool: next to this Python (its virtualenv) first, then on PATH."""
    beside = Path(sys.executable).parent / tool
    if beside.is_file():
        return str(beside)
    found = shutil.which(tool)
    if found is None:
        raise ToolMissing(tool)
    return found


def run(argv: list[str], *, cwd: Path, ok: tuple[int, ...] = (0,)) -> subprocess.CompletedProcess[str]:
    """Run a tool (argv list, no shell), capture its output, raise when its exit code is not in ``ok``."""
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
    log.debug("tool run", extra={"tool_argv": argv, "tool_rc": proc.returncode})
    if proc.returncode not in ok:
        raise ToolFailed(argv, proc.returncode, proc.stderr or proc.stdout)
    return proc
