"""Wait until the instances an apply started have stayed running, once for all of them.

A container whose init exits right after ``incus start`` (systemd failing
with "Too many open files" when the host's ``fs.inotify.max_user_instances``
is too low, for example) stops again within a second. This reads every
instance once per poll and asks :func:`anklume.plan.started.verdict`; it
returns as soon as every started instance has been Running for ``settle``
seconds, or one of them stopped (then with the end of its console log).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from typing import Any

from anklume.plan.started import verdict

Query = Callable[[], list[dict[str, Any]]]
Console = Callable[[str, str], str]

INOTIFY_HINT = (
    'a container whose systemd says "Too many open files" needs a higher fs.inotify.max_user_instances on the '
    "host (Incus ships /etc/sysctl.d/10-incus-inotify.conf; load it with "
    "`sysctl -p /etc/sysctl.d/10-incus-inotify.conf`)"
)
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def wait_running(
    started: Sequence[dict[str, str]],
    query: Query,
    console: Console,
    *,
    settle: float = 3.0,
    timeout: float = 60.0,
    poll: float = 0.5,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> str:
    """Return ``""`` when every started instance stayed running, else why not (one message).

    >>> live = [{"project": "p", "name": "a", "status": "Stopped", "last_used_at": "2000-01-01T00:00:00Z"}]
    >>> msg = wait_running([{"project": "p", "name": "a"}], lambda: live, lambda p, n: "x\\nsystemd: boom\\n")
    >>> msg.splitlines()[0]
    'instances stopped right after start: p/a (console: x | systemd: boom);'
    """
    if not started:
        return ""
    deadline = clock() + timeout
    while True:
        state = verdict(query(), started, settle, clock())
        if state["stopped"]:
            lines = []
            for inst in state["stopped"]:
                log = [ln for ln in _ANSI.sub("", console(inst["project"], inst["name"])).splitlines() if ln.strip()]
                lines.append(f"{inst['project']}/{inst['name']} (console: {' | '.join(log[-4:])});")
            return "\n".join(["instances stopped right after start: " + " ".join(lines), INOTIFY_HINT])
        if not state["unsettled"]:
            return ""
        if clock() >= deadline:
            names = ", ".join(f"{i['project']}/{i['name']}" for i in state["unsettled"])
            return f"instances did not settle within {timeout:.0f} s: {names}"
        sleep(poll)
