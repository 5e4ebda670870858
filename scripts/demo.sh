#!/usr/bin/env bash
# Bring the demo infrastructure (infra.yml at the repository root) up on this
# machine's Incus: install and start Incus when missing, build the offline
# base image when missing, generate the Ansible files, apply them, and print
# the status table. What `make demo` runs after scripts/bootstrap.sh created
# .venv. Run as root on Debian 12. Idempotent: a second run changes nothing.
# `scripts/demo.sh --destroy` (make demo-destroy) removes everything the demo
# created (anklume destroy --include-protected), leaving Incus, its image
# and the host as scripts/incus-setup.sh left them.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
anklume="$root/.venv/bin/anklume"
started=$EPOCHREALTIME
step_no=0

step() {
    step_no=$((step_no + 1))
    printf '\n==> [%d/5] %s\n' "$step_no" "$*"
}

elapsed() {
    awk -v s="$started" -v e="$EPOCHREALTIME" 'BEGIN { printf "%.0f", e - s }'
}

if [ "$(id -u)" -ne 0 ]; then
    echo "demo: run as root (it installs and starts Incus)" >&2
    exit 1
fi
if [ ! -x "$anklume" ]; then
    echo "demo: $anklume missing; run 'make demo' (it creates .venv first) or scripts/bootstrap.sh" >&2
    exit 1
fi

if [ "${1:-}" = "--destroy" ]; then
    printf '==> Remove the demo infra (anklume destroy --include-protected --yes)\n'
    "$anklume" -C "$root" destroy --include-protected --yes
    exit
fi

step "Incus: install and start when missing (scripts/incus-setup.sh)"
bash "$root/scripts/incus-setup.sh"

step "Offline base image (anklume image build --if-missing)"
"$anklume" image build --if-missing

step "Generate the Ansible files from infra.yml (anklume sync)"
"$anklume" -C "$root" sync

step "Reconcile Incus with them (anklume domain apply)"
"$anklume" -C "$root" domain apply

step "Declared versus live (anklume domain status)"
rc=0
"$anklume" -C "$root" domain status || rc=$?

printf '\ndemo: done in %s s\n' "$(elapsed)"
printf 'demo: open a shell with: %s -C %s instance shell <machine> (list: instance list)\n' "$anklume" "$root"
printf 'demo: remove it completely with: make demo-destroy (or: %s -C %s destroy --include-protected)\n' \
    "$anklume" "$root"
if [ "$rc" -ne 0 ]; then
    echo "demo: status reports drift (exit $rc); see the table above" >&2
fi
exit "$rc"
