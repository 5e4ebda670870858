#!/usr/bin/env python3
"""Benchmark: `anklume sync` on synthetic infras of growing size.

For each size (domains x machines) it writes a synthetic infra.yml into a
temporary directory, runs a first sync, then times re-syncs (the common case:
nothing or little changed) as separate processes, interpreter start included,
and reports wall time and peak memory (max RSS of the child).

    .venv/bin/python bench/sync_scale.py            # 10x5, 50x10, 200x10
    .venv/bin/python bench/sync_scale.py 400x10     # any sizes
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

TRUST = ["admin", "trusted", "semi-trusted", "untrusted", "disposable"]
DEFAULT_SIZES = [(10, 5), (50, 10), (200, 10)]
RUNS = 5


def synthetic(domains: int, machines: int) -> dict[str, object]:
    """An infra with ``domains`` domains of ``machines`` containers each."""
    out: dict[str, object] = {}
    for d in range(domains):
        name = f"d{d:04d}"
        out[name] = {
            "trust_level": TRUST[d % len(TRUST)],
            "nat": False,
            "machines": {
                f"{name}-m{m:02d}": {"description": f"machine {m}", "config": {"limits.cpu": "1"}}
                for m in range(machines)
            },
        }
    policies = [{"from": f"d{d:04d}", "to": f"d{d + 1:04d}", "ports": [22]} for d in range(0, domains - 1, 2)]
    return {
        "project_name": "bench",
        "global": {"addressing": {"zone_base": 10, "zone_step": 1}, "default_os_image": "anklume/debian-12"},
        "domains": out,
        "network_policies": policies,
    }


def timed_sync(root: Path) -> tuple[float, int]:
    """Run one `anklume sync` process; return wall seconds and its max RSS in MiB."""
    anklume = Path(sys.executable).parent / "anklume"
    env = {**os.environ, "ANKLUME_SKIP_HOST_SUBNET_CHECK": "1"}
    start = time.perf_counter()
    subprocess.run([str(anklume), "-C", str(root), "sync"], check=True, capture_output=True, env=env)
    elapsed = time.perf_counter() - start
    rss_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return elapsed, rss_kib // 1024


def bench(domains: int, machines: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "infra.yml").write_text(yaml.safe_dump(synthetic(domains, machines), sort_keys=False))
        first, _ = timed_sync(root)
        times = [timed_sync(root)[0] for _ in range(RUNS)]
        _, rss = timed_sync(root)
        files = sum(1 for _ in root.rglob("*.yml")) - 1
        total = domains * machines
        median = statistics.median(times)
        print(
            f"{domains:>4} x {machines:<3} ({total:>5} machines, {files:>5} files): "
            f"first {first:6.3f} s   re-sync median {median:6.3f} s (min {min(times):.3f})   "
            f"{1000 * median / total:6.3f} ms/machine   peak RSS <= {rss} MiB"
        )


def main() -> None:
    sizes = [tuple(int(x) for x in arg.split("x")) for arg in sys.argv[1:]] or DEFAULT_SIZES
    print(f"anklume sync benchmark: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, {RUNS} runs each")
    for domains, machines in sizes:
        bench(domains, machines)


if __name__ == "__main__":
    main()
