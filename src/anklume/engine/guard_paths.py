"""Host paths that no disk, shared volume or persistent data may reach.

A disk whose source is a host system path hands the host to the instance:
``/etc`` (write ``/etc/cron.d``), ``/root``, ``/home/<user>`` (a
``.bashrc``), ``/var/lib`` (service state), ``/dev`` (raw disks),
``/var/lib/incus`` (every instance's root file system) and so on. So does a
path with ``..`` in it, whose meaning depends on what lies on the host.
"""

from __future__ import annotations

import posixpath
import re

#: Paths forbidden together with everything below them.
SUBTREES = (
    "/bin",
    "/boot",
    "/dev",
    "/efi",
    "/etc",
    "/proc",
    "/root",
    "/run",
    "/sbin",
    "/snap",
    "/sys",
    "/tmp",
    "/usr",
    "/var/cache",
    "/var/lib",
    "/var/log",
    "/var/mail",
    "/var/run",
    "/var/spool",
    "/var/tmp",
)

#: Paths forbidden themselves (they hold everything else), while a directory below them is fine.
EXACT = ("/", "/home", "/media", "/mnt", "/opt", "/srv", "/var")

_LIB = re.compile(r"^/lib[^/]*(/|$)")  # /lib, /lib32, /lib64, /libx32, ...
_HOME = re.compile(r"^/home/[^/]+$")  # a whole home directory


def normalized(path: str) -> str:
    """Return ``path`` without repeated slashes, ``.`` parts or a trailing slash.

    >>> normalized("//etc/./cron.d/"), normalized("/")
    ('/etc/cron.d', '/')
    """
    return posixpath.normpath(re.sub(r"/+", "/", path)) if path.startswith("/") else path


def system_path(path: str) -> str | None:
    """Return why a host path must not be given to an instance, or ``None`` when it may.

    >>> system_path("/srv/anklume/shares/docs") is None
    True
    >>> system_path("/etc/ssh"), system_path("/lib64"), system_path("/home/alice/")
    ('/etc', '/lib*', '/home/<user>')
    >>> system_path("/srv/../etc"), system_path("//"), system_path("/var/lib/incus")
    ("'..'", '/', '/var/lib')
    """
    if ".." in path:
        return "'..'"
    norm = normalized(path)
    if norm in EXACT:
        return norm
    if _LIB.match(norm):
        return "/lib*"
    if _HOME.match(norm):
        return "/home/<user>"
    for top in SUBTREES:
        if norm == top or norm.startswith(top + "/"):
            return top
    return None


def inside(path: str, base: str) -> bool:
    """Whether ``path`` is ``base`` or below it.

    >>> inside("/srv/anklume/data/pro", "/srv/anklume/data"), inside("/srv/anklume/database", "/srv/anklume/data")
    (True, False)
    """
    p, b = normalized(path), normalized(base)
    return p == b or p.startswith(b.rstrip("/") + "/")
