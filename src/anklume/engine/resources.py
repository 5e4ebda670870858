"""Enrichment step: CPU and memory limits from ``global.resource_policy``.

Machines that set neither ``limits.cpu`` nor ``limits.cpu.allowance`` get a
CPU share; machines without ``limits.memory`` get a memory share. Shares are
by ``weight`` (proportional) or equal, out of what the host has left after
``host_reserve``. Declared plus allocated limits beyond that are an error
unless ``overcommit: true``.
"""

from __future__ import annotations

import re

from anklume.engine.model import ResourcePolicy

MIB = 1024 * 1024
MIN_MEMORY = 128 * MIB
_UNITS = {"": 1, "K": 1024, "M": MIB, "G": 1024 * MIB, "T": 1024 * 1024 * MIB}


def parse_size(text: str) -> int:
    """Return a size such as ``4GiB`` or ``512MB`` in bytes (binary units).

    >>> parse_size("4GiB"), parse_size("512M"), parse_size("1024")
    (4294967296, 536870912, 1024)
    """
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([KMGT]?)i?B?", text.strip())
    if not match:
        msg = f"not a size: {text!r}"
        raise ValueError(msg)
    return int(float(match.group(1)) * _UNITS[match.group(2)])


def format_size(size: int) -> str:
    """Return bytes as whole MiB, the unit Incus accepts everywhere.

    >>> format_size(4294967296)
    '4096MiB'
    """
    return f"{size // MIB}MiB"


def _reserve(value: str | float, total: float) -> float:
    if isinstance(value, str) and value.endswith("%"):
        return total * float(value[:-1]) / 100
    if isinstance(value, str):
        return float(parse_size(value))
    return float(value)


def allocate(
    policy: ResourcePolicy,
    cpus: int,
    memory: int,
    machines: dict[str, tuple[int, dict[str, str]]],
) -> tuple[dict[str, dict[str, str]], str | None]:
    """Return the limits to add per machine, and an overcommit message or None.

    ``machines`` maps a machine name to its weight and declared config.

    >>> p = ResourcePolicy(cpu_mode="count")
    >>> limits, over = allocate(p, 10, 10 * 1024**3, {"a": (1, {}), "b": (3, {})})
    >>> limits["a"]["limits.cpu"], limits["b"]["limits.cpu"], over
    ('2', '6', None)

    Machines that set their own limits take them out of the pool first:

    >>> limits, over = allocate(p, 10, 10 * 1024**3, {"a": (1, {}), "b": (1, {"limits.cpu": "4"})})
    >>> limits["a"]["limits.cpu"], "limits.cpu" in limits.get("b", {}), over
    ('4', False, None)
    """
    free_cpu = cpus - _reserve(policy.host_reserve.cpu, cpus)
    free_mem = memory - _reserve(policy.host_reserve.memory, memory)
    if free_cpu <= 0 or free_mem <= 0:
        return {}, f"host_reserve leaves nothing for instances ({cpus} CPUs, {format_size(memory)})"
    need_cpu = {m: w for m, (w, c) in machines.items() if not {"limits.cpu", "limits.cpu.allowance"} & set(c)}
    need_mem = {m: w for m, (w, c) in machines.items() if "limits.memory" not in c}
    declared_cpu, declared_mem = _declared(machines, cpus)
    pool_cpu, pool_mem = max(free_cpu - declared_cpu, 0), max(free_mem - declared_mem, 0)
    out: dict[str, dict[str, str]] = {m: {} for m in machines}
    for name, share in _shares(need_cpu, pool_cpu, policy.mode).items():
        if policy.cpu_mode == "count":
            out[name]["limits.cpu"] = str(max(1, int(share)))
        else:
            out[name]["limits.cpu.allowance"] = f"{max(1, int(share / cpus * 100))}%"
    for name, share in _shares(need_mem, pool_mem, policy.mode).items():
        out[name]["limits.memory"] = format_size(max(MIN_MEMORY, int(share)))
    if policy.memory_enforce == "soft":
        for name, (_, config) in machines.items():
            if "limits.memory" in config or "limits.memory" in out[name]:
                out[name].setdefault("limits.memory.enforce", "soft")
    return {m: v for m, v in out.items() if v}, _overcommit(machines, out, free_cpu, free_mem, cpus)


def _declared(machines: dict[str, tuple[int, dict[str, str]]], cpus: int) -> tuple[float, int]:
    """CPUs and memory that machines reserve through their own limits."""
    cpu = 0.0
    mem = 0
    for _, config in machines.values():
        if config.get("limits.cpu", "").isdigit():
            cpu += int(config["limits.cpu"])
        elif config.get("limits.cpu.allowance", "").endswith("%"):
            cpu += float(config["limits.cpu.allowance"][:-1]) * cpus / 100
        if "limits.memory" in config and not config["limits.memory"].endswith("%"):
            mem += parse_size(config["limits.memory"])
    return cpu, mem


def _shares(weights: dict[str, int], total: float, mode: str) -> dict[str, float]:
    if not weights:
        return {}
    denominator = len(weights) if mode == "equal" else sum(weights.values())
    return {m: total * (1 if mode == "equal" else w) / denominator for m, w in weights.items()}


def _overcommit(
    machines: dict[str, tuple[int, dict[str, str]]],
    added: dict[str, dict[str, str]],
    free_cpu: float,
    free_mem: float,
    cpus: int,
) -> str | None:
    count = allowance = 0.0
    mem = 0
    for name, (_, declared) in machines.items():
        config = {**declared, **added[name]}
        if config.get("limits.cpu", "").isdigit():
            count += int(config["limits.cpu"])
        elif config.get("limits.cpu.allowance", "").endswith("%"):
            allowance += float(config["limits.cpu.allowance"][:-1])
        if "limits.memory" in config and not config["limits.memory"].endswith("%"):
            mem += parse_size(config["limits.memory"])
    parts = []
    if count > free_cpu * 1.001:
        parts.append(f"CPU: {count:.0f} > {free_cpu:.1f} available")
    if allowance > free_cpu / cpus * 100 * 1.001:
        parts.append(f"CPU allowance: {allowance:.0f}% > {free_cpu / cpus * 100:.0f}%")
    if mem > free_mem:
        parts.append(f"memory: {format_size(mem)} > {format_size(int(free_mem))}")
    return "; ".join(parts) or None
