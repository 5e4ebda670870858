#!/usr/bin/env bash
# Create the project's Python environment (.venv) and install anklume with
# its development tools. Idempotent: re-running only installs what changed.
# Works on a stock Debian (PEP 668) because nothing is installed system-wide
# except the python3-venv package when it is missing.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
venv="$root/.venv"
stamp="$venv/.anklume-installed"

if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "bootstrap: installing python3-venv"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
    else
        echo "bootstrap: python3-venv is missing; install it (apt-get install python3-venv)" >&2
        exit 1
    fi
fi

if [ ! -x "$venv/bin/python" ]; then
    echo "bootstrap: creating $venv"
    python3 -m venv "$venv"
fi

if [ ! -f "$stamp" ] || [ "$root/pyproject.toml" -nt "$stamp" ]; then
    echo "bootstrap: installing anklume and its tools into .venv (first time: about a minute)"
    "$venv/bin/python" -m pip install -q --upgrade pip
    "$venv/bin/python" -m pip install -q -e "${root}[dev]"
    touch "$stamp"
fi
