"""The one place that runs ``nft``: check, load, list, and canonical listing.

``$ANKLUME_NFT`` overrides the binary. Texts are passed on stdin (``-f -``)
or as files, never through a shell. :func:`canonical` loads a ruleset into a
throw-away network namespace (``unshare --net``) and lists it back, which
gives the kernel's own normal form of what *would* be loaded: comparing that
with the live listing is an exact drift check.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import subprocess
import sys
from typing import Any

from anklume.network.errors import NftFailed, NftNotFound
from anklume.network.nftsafe import table_name

log = logging.getLogger(__name__)

TIMEOUT = 30


def binary() -> str:
    """Return the path of ``nft`` (``$ANKLUME_NFT`` overrides it)."""
    name = os.environ.get("ANKLUME_NFT") or "nft"
    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if path is None:
        raise NftNotFound(name)
    return path


def run(args: list[str], *, stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run ``nft ARGS`` and return the process; raise NftFailed on a non-zero exit when ``check``."""
    argv = [binary(), *args]
    proc = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=TIMEOUT, check=False)
    log.debug("nft ran", extra={"nft_argv": argv, "nft_rc": proc.returncode})
    if check and proc.returncode != 0:
        raise NftFailed(["nft", *args], proc.returncode, proc.stderr)
    return proc


def check(text: str) -> None:
    """Syntax- and semantics-check a ruleset without applying it (``nft -c -f -``)."""
    run(["-c", "-f", "-"], stdin=text)


def load(text: str) -> None:
    """Apply a ruleset in one transaction (``nft -f -``)."""
    run(["-f", "-"], stdin=text)


def list_table(table: str) -> str | None:
    """Return the live listing of ``inet <table>``, or None when it does not exist."""
    proc = run(["list", "table", "inet", table_name(table)], check=False)
    if proc.returncode != 0:
        if "No such file or directory" in proc.stderr:
            return None
        raise NftFailed(["nft", "list", "table", "inet", table], proc.returncode, proc.stderr)
    return normalize(proc.stdout)


def ruleset_json() -> list[dict[str, Any]]:
    """Return the objects of ``nft -j list ruleset``."""
    data = json.loads(run(["-j", "list", "ruleset"]).stdout or "{}")
    items = data.get("nftables", []) if isinstance(data, dict) else []
    return [i for i in items if isinstance(i, dict)]


_IN_SCRATCH = (
    "import subprocess, sys; nft, table = sys.argv[1], sys.argv[2]; "
    "subprocess.run([nft, '-f', '-'], stdin=sys.stdin, check=True); "
    "sys.exit(subprocess.run([nft, 'list', 'table', 'inet', table]).returncode)"
)


def canonical(text: str, table: str) -> str:
    """Return how the kernel lists ``inet <table>`` once ``text`` is loaded (in a scratch namespace)."""
    unshare = shutil.which("unshare") or "unshare"
    argv = [unshare, "--net", "--", sys.executable, "-c", _IN_SCRATCH, binary(), table_name(table)]
    proc = subprocess.run(argv, input=text, capture_output=True, text=True, timeout=TIMEOUT, check=False)
    if proc.returncode != 0:
        raise NftFailed(["unshare", "--net", "nft", "-f", "-"], proc.returncode, proc.stderr)
    return normalize(proc.stdout)


_BRACES = re.compile(r"\{ ([^{}]*,[^{}]*) \}")


def normalize(listing: str) -> str:
    r"""Return a listing with set elements on one line and sorted (the kernel's order varies).

    >>> normalize('\telements = { "b",\n\t\t     "a" }\n\ttcp dport { 80, 22 } accept\n')
    '\telements = { "a", "b" }\n\ttcp dport { 22, 80 } accept\n'
    """
    joined = re.sub(r",\n\s*", ", ", listing)

    def ordered(match: re.Match[str]) -> str:
        items = [i.strip() for i in match.group(1).split(",")]
        return "{ " + ", ".join(sorted(items, key=lambda i: (len(i), i) if i.isdigit() else (0, i))) + " }"

    return _BRACES.sub(ordered, joined)
