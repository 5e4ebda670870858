"""The fixed POSIX shell scripts the portal runs in an instance (or on the host).

They are constants: every path travels as a positional argument
(``sh -c SCRIPT sh ARG…``), never inside the script text, so no path is
ever parsed by a shell. Inside an instance they run through
``incus --project P exec INSTANCE -- sh -c …``; on the host directly.
They need ``sh``, GNU ``realpath`` (``-m``), ``mktemp``, ``mv`` and ``tar``.
"""

from __future__ import annotations

from anklume.incus.run import binary, project_argv

#: Name of the member that ends a complete stream; the receiver moves nothing into place without it.
DONE = ".anklume-portal-done"

#: ``PROBE PATH NAME``: print, NUL-terminated, the resolved PATH, then the kind (dir, file, link,
#: missing) of the resolved path, of RESOLVED/NAME (``none`` when NAME is empty) and of its parent.
PROBE = r"""
r=$(realpath -m -- "$1" && echo .) || exit 3
r=${r%??}
k() { if [ -L "$1" ]; then printf link; elif [ -d "$1" ]; then printf dir; elif [ -e "$1" ]; then printf file
      else printf missing; fi; printf '\0'; }
printf '%s\0' "$r"
k "$r"
if [ -n "$2" ]; then k "$r/$2"; else printf 'none\0'; fi
d=${r%/*}
k "${d:-/}"
"""

#: ``SEND DIR NAME``: a tar stream of NAME (never followed if it is a link) read in DIR, which must
#: still be DIR once entered (a directory swapped for a link meanwhile is refused).
SEND = r"""
cd -P -- "$1" 2>/dev/null && [ "$(pwd -P)" = "$1" ] || { echo "$1 changed or vanished" >&2; exit 4; }
exec tar --numeric-owner -cf - -- "$2"
"""

#: ``RECEIVE DIR NAME [TAR OPTIONS…]``: unpack the stream into a fresh private directory inside DIR,
#: then move NAME into DIR, never over an existing entry, only when the stream ended with DONE.
RECEIVE = (
    r"""
cd -P -- "$1" 2>/dev/null && [ "$(pwd -P)" = "$1" ] || { echo "$1 changed or vanished" >&2; exit 4; }
n=$2; shift 2
t=$(mktemp -d ./.anklume-portal.XXXXXX) || exit 5
if ! tar -xf - -C "$t" "$@"; then rm -rf -- "$t"; exit 6; fi
if [ ! -f "$t/"""
    + DONE
    + r"""" ]; then rm -rf -- "$t"; echo "incomplete stream: nothing kept" >&2; exit 7; fi
if [ -e "$n" ] || [ -L "$n" ]; then rm -rf -- "$t"; echo "$1/$n appeared meanwhile: nothing kept" >&2; exit 8; fi
mv -T -n -- "$t/$n" "$n"
if [ -e "$t/$n" ] || [ -L "$t/$n" ]; then rm -rf -- "$t"; echo "$1/$n appeared meanwhile" >&2; exit 8; fi
rm -rf -- "$t"
"""
)

#: tar options of a receiving instance: owners and modes as numbers inside its own idmap.
INSTANCE_TAR = ["--numeric-owner", "--same-owner", "--same-permissions"]
#: tar options of the receiving host: files belong to the user running anklume.
HOST_TAR = ["--no-same-owner", "--same-permissions"]


def argv(project: str | None, instance: str | None, script: str, *args: str) -> list[str]:
    """The argv running ``script`` with ``args`` in an instance, or on the host when ``instance`` is None.

    >>> argv(None, None, "true", "a b")
    ['sh', '-c', 'true', 'sh', 'a b']
    """
    run = ["sh", "-c", script, "sh", *args]
    if instance is None:
        return run
    return [binary(), *project_argv(project), "exec", instance, "--", *run]
