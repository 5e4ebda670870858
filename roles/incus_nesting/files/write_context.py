"""Write the nesting context files of an instance in one process: DIR NAME=VALUE...

Each file holds VALUE and a newline, mode 0644, in DIR (mode 0755, created
when missing). A file already right is left alone. Prints ``changed`` when
anything was written or had its mode fixed, else ``ok``. Run inside the
instance by the incus_nesting role (python3 -c), with the Python Ansible uses.
"""

from __future__ import annotations

import os
import sys


def _write(path: str, text: str) -> bool:
    try:
        with open(path, encoding="utf-8") as handle:
            same = handle.read() == text
    except FileNotFoundError:
        same = False
    if same:
        if os.stat(path).st_mode & 0o7777 == 0o644:
            return False
        os.chmod(path, 0o644)
        return True
    tmp = path + ".anklume-tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
    return True


def main(argv: list[str]) -> int:
    directory, pairs = argv[0], argv[1:]
    changed = not os.path.isdir(directory)
    os.makedirs(directory, mode=0o755, exist_ok=True)
    if os.stat(directory).st_mode & 0o7777 != 0o755:
        os.chmod(directory, 0o755)
        changed = True
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name or "/" in name:
            sys.stderr.write(f"bad NAME=VALUE argument: {pair!r}\n")
            return 2
        changed = _write(os.path.join(directory, name), value + "\n") or changed
    sys.stdout.write("changed\n" if changed else "ok\n")
    return 0


sys.exit(main(sys.argv[1:]))
