"""Run the probes of :mod:`.plan` on the live instances and compare with expectations.

Listeners start first (one ``incus exec`` per target instance, all ports at
once, plus sockets in this process on the gateways for host probes); then
one prober per source instance sends every probe in parallel; then the
listeners are stopped and report the tokens they got. The number of
``incus exec`` calls grows with instances, not with probes.
"""

from __future__ import annotations

import json
import logging
import re
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from anklume.engine.resolved import Resolved
from anklume.incus.run import binary, project_argv
from anklume.incus.run import query as incus_query
from anklume.network.errors import NetworkError
from anklume.network.verify import outside
from anklume.network.verify.hostlisten import HostListeners
from anklume.network.verify.plan import MAX_PROBES, Instance, Probe, plan
from anklume.network.verify.scripts import LISTENER, PROBER

log = logging.getLogger(__name__)

PROBE_TIMEOUT = 1.5
LISTEN_SECONDS = 60.0
READY_TIMEOUT = 20.0


@dataclass(frozen=True, slots=True)
class Outcome:
    """A probe and what happened; ``observed`` None means it could not be measured."""

    probe: Probe
    observed: bool | None
    detail: str

    @property
    def verdict(self) -> str:
        """``ok``, ``LEAK`` (got through, should not), ``BLOCKED`` (allowed, did not) or ``skipped``."""
        if self.observed is None:
            return "skipped"
        if self.observed == self.probe.expected:
            return "ok"
        return "LEAK" if self.observed else "BLOCKED"


@dataclass(frozen=True, slots=True)
class Report:
    """Every outcome of a verify run."""

    outcomes: list[Outcome]
    seconds: float
    left_out: int = 0
    notes: list[str] = field(default_factory=list)

    def count(self, verdict: str) -> int:
        """How many outcomes have ``verdict``."""
        return sum(1 for o in self.outcomes if o.verdict == verdict)

    @property
    def passed(self) -> bool:
        """True when there is no leak and no blocked allowed flow."""
        return self.count("LEAK") == 0 and self.count("BLOCKED") == 0


_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,62}")


def _exec_argv(inst: Instance, script: str, *args: str) -> list[str]:
    if not _NAME.fullmatch(inst.name):
        msg = f"invalid instance name {inst.name!r}"
        raise NetworkError(msg)
    return [
        binary(),
        *project_argv(inst.project),
        "exec",
        inst.name,
        "-T",
        "--",
        "python3",
        "-c",
        script,
        *args,
    ]


def running(live: list[dict[str, object]]) -> set[tuple[str, str]]:
    """(project, instance) of every running instance of an ``incus list --all-projects`` answer."""
    return {(str(i.get("project")), str(i.get("name"))) for i in live if i.get("status") == "Running"}


class _Listener:
    """A listener process in one instance."""

    def __init__(self, inst: Instance, services: list[tuple[str, int]]) -> None:
        self.inst = inst
        spec = json.dumps(sorted(set(services)))
        argv = _exec_argv(inst, LISTENER, spec, str(LISTEN_SECONDS))
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self.failed: set[tuple[str, int]] = set()

    def wait_ready(self) -> None:
        line = self.proc.stdout.readline() if self.proc.stdout else ""
        if not line.startswith("ready "):
            self.proc.kill()
            err = self.proc.stderr.read() if self.proc.stderr else ""
            msg = f"listener in {self.inst.name} did not start: {(line + err).strip()[-300:]}"
            raise NetworkError(msg)
        self.failed = {(str(p), int(n)) for p, n in json.loads(line[6:])}

    def tokens(self) -> set[str]:
        out, _ = self.proc.communicate(input="", timeout=READY_TIMEOUT)
        lines = [ln for ln in out.splitlines() if ln.strip()]
        return set(json.loads(lines[-1])) if lines else set()


def _probe_from(inst: Instance, batch: list[tuple[str, str, str, int]]) -> dict[str, str]:
    argv = _exec_argv(inst, PROBER, json.dumps(batch), str(PROBE_TIMEOUT))
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
    if proc.returncode != 0:
        msg = f"prober in {inst.name} failed: {proc.stderr.strip()[-300:]}"
        raise NetworkError(msg)
    result: dict[str, str] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def _observe(probe: Probe, status: str, tokens: set[str], token: str, unbound: bool) -> tuple[bool | None, str]:
    if probe.protocol == "tcp":
        return status in {"open", "refused"}, status
    if unbound:
        return None, "port busy on the target"
    return token in tokens, "received" if token in tokens else "not received"


def verify(resolved: Resolved, *, limit: int = MAX_PROBES, outside_in: bool = True) -> Report:
    """Probe every planned flow, from outside the domains and from removed domains too; return the outcomes.

    The outside-in probe instance (:mod:`.outside`) is deleted before this returns or raises.
    """
    live = incus_query(["list", "--all-projects"]) or []
    networks = incus_query(["network", "list"]) or []
    probe, note = outside.launch(resolved, networks) if outside_in else (None, "outside-in probes not asked for")
    try:
        report = _verify(resolved, live, outside.orphans(resolved, live, networks), probe, limit)
    finally:
        if probe is not None:
            outside.remove(probe.name)
    return Report(report.outcomes, report.seconds, report.left_out, [note, *report.notes])


def _verify(
    resolved: Resolved, live: list[dict[str, object]], orphans: list[Instance], probe: Instance | None, limit: int
) -> Report:
    start = time.monotonic()
    probes, left_out = plan(resolved, running(live), limit=limit, outside=probe, orphans=orphans)
    tokens = {i: f"anklume-probe-{i}" for i in range(len(probes))}
    wanted: dict[Instance, list[tuple[str, int]]] = {}
    host_wanted: set[tuple[str, str, int]] = set()
    for p in probes:
        if p.listen and p.target is not None:
            wanted.setdefault(p.target, []).append((p.protocol, p.port))
        elif p.listen:
            host_wanted.add((p.address, p.protocol, p.port))
    listeners = [_Listener(inst, services) for inst, services in wanted.items()]
    host = HostListeners(sorted(host_wanted))
    try:
        for lst in listeners:
            lst.wait_ready()
        batches: dict[Instance, list[tuple[str, str, str, int]]] = {}
        for i, p in enumerate(probes):
            batches.setdefault(p.source, []).append((tokens[i], p.protocol, p.address, p.port))
        with ThreadPoolExecutor(max_workers=8) as pool:
            results = dict(zip(batches, pool.map(lambda kv: _probe_from(*kv), batches.items()), strict=True))
        time.sleep(0.3)  # the last UDP datagrams are in flight
    finally:
        got = {lst.inst: lst.tokens() for lst in listeners}
        host_got = host.stop()
    outcomes = []
    for i, p in enumerate(probes):
        status = results[p.source].get(tokens[i], "missing")
        if p.target is None:
            seen, unbound = host_got, (p.address, p.protocol, p.port) in host.failed
        else:
            seen = got.get(p.target, set())
            unbound = any(x.inst == p.target and (p.protocol, p.port) in x.failed for x in listeners)
        observed, detail = _observe(p, status, seen, tokens[i], unbound)
        outcomes.append(Outcome(p, observed, detail))
    seconds = time.monotonic() - start
    log.debug("verify done", extra={"probes": len(probes), "seconds": seconds})
    notes = [f"{len(orphans)} running instance(s) of removed domains probed"] if orphans else []
    return Report(outcomes, seconds, left_out, notes)
