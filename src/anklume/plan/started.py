"""Did the instances an apply started stay running? A pure verdict on one live read.

A container whose init exits right after ``incus start`` (systemd failing
with "Too many open files" when the host's ``fs.inotify.max_user_instances``
is too low, for example) stops again within a second. The instances role
starts every instance it must, then reads the instances once a second and
asks :func:`verdict` until none is unsettled or one has stopped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any


def verdict(
    live: Sequence[Mapping[str, Any]], started: Sequence[Mapping[str, Any]], settle: float, now: float
) -> dict[str, list[dict[str, str]]]:
    """Return the started instances that ``stopped``, and those still ``unsettled``.

    ``live`` is ``/1.0/instances?recursion=1&all-projects=true``; ``started``
    the ``{project, name}`` of each instance started; an instance is settled
    once it has been Running for ``settle`` seconds (its ``last_used_at``, the
    time Incus started it, is older than ``now - settle``). A started instance
    missing from ``live`` is neither: it was deleted meanwhile.

    >>> live = [{"project": "pro", "name": "a", "status": "Running", "last_used_at": "2026-01-01T00:00:00Z"},
    ...         {"project": "pro", "name": "b", "status": "Stopped", "last_used_at": "2026-01-01T00:00:09Z"},
    ...         {"project": "pro", "name": "c", "status": "Running", "last_used_at": "2026-01-01T00:00:09Z"}]
    >>> ten = datetime(2026, 1, 1, 0, 0, 10, tzinfo=UTC).timestamp()
    >>> verdict(live, [{"project": "pro", "name": n} for n in "abc"], 3, ten)
    {'stopped': [{'project': 'pro', 'name': 'b'}], 'unsettled': [{'project': 'pro', 'name': 'c'}]}
    """
    by_key = {(str(i.get("project", "default")), str(i.get("name"))): i for i in live}
    stopped, unsettled = [], []
    for item in started:
        key = (str(item.get("project", "default")), str(item.get("name")))
        cur = by_key.get(key)
        if cur is None:
            continue
        entry = {"project": key[0], "name": key[1]}
        if cur.get("status") != "Running":
            stopped.append(entry)
        elif _seconds(str(cur.get("last_used_at", ""))) > now - settle:
            unsettled.append(entry)
    return {"stopped": stopped, "unsettled": unsettled}


def _seconds(stamp: str) -> float:
    """Return an Incus time stamp as seconds since the epoch (0 when unreadable).

    >>> round(_seconds("2026-01-01T00:00:01.123456789Z") - _seconds("2026-01-01T00:00:00Z"), 6)
    1.123456
    >>> _seconds("")
    0.0
    """
    text = stamp.strip().replace("Z", "+00:00")
    head, dot, rest = text.partition(".")
    if dot:  # Incus writes nanoseconds; Python reads at most microseconds
        digits = "".join(c for c in rest if c.isdigit())
        text = f"{head}.{digits[:6]}{rest[len(digits) :]}"
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return 0.0
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()
