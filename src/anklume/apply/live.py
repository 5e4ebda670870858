"""Read the live state of every resource kind at once: five incus calls side by side.

``site.yml`` plans every kind from one snapshot of Incus. Each kind is one
incus client call (the same as the kind's role reads in its ``read.yml``);
run side by side, the five cost about the slowest one instead of their sum,
and one Ansible task instead of five.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

#: The incus client arguments that read each kind (JSON on standard output).
READS: dict[str, tuple[str, ...]] = {
    "projects": ("project", "list", "--format", "json"),
    "networks": ("network", "list", "--project", "default", "--format", "json"),
    "profiles": ("profile", "list", "--all-projects", "--format", "json"),
    "images": ("image", "list", "--project", "default", "--format", "json"),
    "instances": ("query", "/1.0/instances?recursion=1&all-projects=true"),
}


def read_all(read: Callable[[list[str]], Any]) -> dict[str, Any]:
    """Return ``{kind: read(argv)}`` for every kind of :data:`READS`, the reads running side by side.

    A read that raises fails the whole read (its exception propagates).

    >>> sorted(read_all(lambda argv: argv[0]).items())[:2]
    [('images', 'image'), ('instances', 'query')]
    """
    with ThreadPoolExecutor(max_workers=len(READS)) as pool:
        futures = {kind: pool.submit(read, list(argv)) for kind, argv in READS.items()}
        return {kind: future.result() for kind, future in futures.items()}
