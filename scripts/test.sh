#!/usr/bin/env bash
# The whole test suite, in phases: lint, unit, e2e, molecule.
#   scripts/test.sh            every phase (what `make test` and CI run)
#   scripts/test.sh unit e2e   only those phases
#   scripts/test.sh services   the heavy service roles' scenarios (make test-services)
# End-to-end tests need a real Incus: as root on Debian this script installs
# and starts it (scripts/incus-setup.sh) and builds the offline image; then an
# unreachable daemon is a failure, not a skip. Elsewhere those tests are
# skipped and pytest prints why.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bin="$root/.venv/bin"
export PATH="$bin:$PATH"
export ANKLUME_SKIP_HOST_SUBNET_CHECK=1
phases=("$@")
[ ${#phases[@]} -gt 0 ] || phases=(lint unit e2e molecule)

step() { printf '\n==> %s\n' "$*"; }

# Install Debian packages the tests use when they are missing (as root only).
need() {
    local missing=() cmd
    for cmd in "$@"; do command -v "${cmd%%:*}" >/dev/null || missing+=("${cmd##*:}"); done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
        echo "installing ${missing[*]}"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null \
            || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null; }
    else
        echo "missing: ${missing[*]} (install them with apt-get)" >&2
        return 1
    fi
}
started=$(date +%s)

lint() {
    step "ruff"
    ruff format --check --quiet src tests bench action_plugins callback_plugins filter_plugins lookup_plugins
    ruff check --quiet src tests bench action_plugins callback_plugins filter_plugins lookup_plugins
    step "mypy (strict)"
    mypy --no-error-summary src action_plugins callback_plugins filter_plugins lookup_plugins
    step "yamllint"
    yamllint --strict .
    step "ansible-lint (production profile)"
    ANSIBLE_ROLES_PATH="$root/roles" ansible-lint --offline --profile production -q
    step "shellcheck"
    need shellcheck
    git ls-files '*.sh' | xargs -r shellcheck
}

unit() {
    step "unit, property and doctests"
    need tmux dot:graphviz gpg:gnupg zstd:zstd
    pytest -q -n auto -m "not incus" tests/unit src
    step "generated files match infra.yml (anklume sync --check)"
    anklume sync --check
}

e2e() {
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
        step "Incus (install and start when missing)"
        bash scripts/incus-setup.sh
        step "offline image"
        anklume image build --if-missing
        export ANKLUME_REQUIRE_INCUS=1
    fi
    step "end-to-end tests on the real Incus"
    pytest -q tests/e2e
}

# Every Molecule scenario called $1; a failed one still runs its cleanup
# (what it created on the daemon goes), then the phase fails.
scenarios() {
    local name=$1 scenario found=0
    for scenario in roles/*/molecule/"$name"; do
        [ -d "$scenario" ] || continue
        found=1
        step "molecule: ${scenario%%/molecule/*} ($name)"
        # reset first: the state of an earlier, interrupted run would skip prepare
        (cd "${scenario%%/molecule/*}" \
            && "$bin/molecule" reset -s "$name" >/dev/null \
            && { "$bin/molecule" test -s "$name" || { "$bin/molecule" cleanup -s "$name"; false; }; })
    done
    [ "$found" -eq 1 ] || echo "no Molecule scenario '$name' found"
}

molecule() { scenarios default; }

# The heavy service roles (large downloads through the package proxy):
# `make test-services`, not part of `make test`.
services() {
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
        bash scripts/incus-setup.sh
        anklume image build --if-missing
    fi
    scenarios services
}

for phase in "${phases[@]}"; do
    case "$phase" in
        lint|unit|e2e|molecule|services) "$phase" ;;
        *) echo "unknown phase '$phase' (lint, unit, e2e, molecule, services)" >&2; exit 2 ;;
    esac
done
printf '\nall phases passed (%s) in %ss\n' "${phases[*]}" "$(( $(date +%s) - started ))"
