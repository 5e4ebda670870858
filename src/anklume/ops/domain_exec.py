"""Run one command on every running machine of a domain, output prefixed by machine.

The machines run in parallel; each line of their output is printed as
``[name] line`` as soon as it arrives. The result is every machine's exit code.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from anklume.ops.live import incus_argv
from anklume.ops.targets import Target

_PRINT = threading.Lock()


def _one(target: Target, command: Sequence[str], width: int) -> int:
    argv = incus_argv(target, "exec", target.instance, "--", *command)
    prefix = f"[{target.name}]".ljust(width + 2)
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:
        with _PRINT:
            sys.stdout.write(f"{prefix} {line}" if line.endswith("\n") else f"{prefix} {line}\n")
            sys.stdout.flush()
    return proc.wait()


def run_on(targets: Sequence[Target], command: Sequence[str]) -> dict[str, int]:
    """Run ``command`` on each target in parallel; return exit codes by machine name."""
    if not targets:
        return {}
    width = max(len(t.name) for t in targets)
    with ThreadPoolExecutor(max_workers=min(8, len(targets))) as pool:
        futures = {t.name: pool.submit(_one, t, command, width) for t in targets}
        return {name: f.result() for name, f in futures.items()}
