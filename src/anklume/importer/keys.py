"""Which Incus config keys an import writes to infra.yml, and which it leaves out.

Exported by default: keys that say how an instance runs (limits, boot,
snapshots, security features, kernel settings, migration, GPU runtime,
agent). Left out unless ``--include-config`` names them: keys that often
hold secrets or arbitrary data (``environment.*``, ``cloud-init.*``,
``user.*``, ``raw.*``) and any key not known here. Keys Incus and anklume set
themselves (``volatile.*``, ``image.*``, ``user.anklume.*``) are never
written: they are state, not declaration.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping
from typing import Any

SAFE_PREFIXES = ("limits.", "boot.", "snapshots.", "security.", "linux.", "migration.", "nvidia.", "agent.")
STATE_PREFIXES = ("volatile.", "image.", "user.anklume.")
PROTECT = "security.protection.delete"


def state_key(key: str) -> bool:
    """Say whether Incus or anklume set this key (never written to infra.yml).

    >>> state_key("volatile.eth0.hwaddr"), state_key("user.anklume.domain"), state_key("limits.cpu")
    (True, True, False)
    """
    return key.startswith(STATE_PREFIXES)


def split_config(config: Mapping[str, Any], include: Iterable[str] = ()) -> tuple[dict[str, str], list[str]]:
    """Return ``(exported, withheld key names)``; ``include`` holds glob patterns to export anyway.

    >>> split_config({"limits.cpu": "2", "environment.TOKEN": "s3cret", "volatile.x": "1", PROTECT: "true"})
    ({'limits.cpu': '2'}, ['environment.TOKEN'])
    >>> split_config({"environment.TOKEN": "s3cret", "user.note": "x"}, ["environment.*"])
    ({'environment.TOKEN': 's3cret'}, ['user.note'])
    """
    patterns = list(include)
    exported: dict[str, str] = {}
    withheld: list[str] = []
    for key, value in sorted(config.items()):
        if state_key(key) or key == PROTECT:
            continue
        if key.startswith(SAFE_PREFIXES) or any(fnmatch.fnmatchcase(key, p) for p in patterns):
            exported[key] = str(value)
        else:
            withheld.append(key)
    return exported, withheld
