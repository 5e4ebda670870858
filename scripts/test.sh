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

# One Molecule scenario; a failed one still runs its cleanup (what it
# created on the daemon goes). Reset first: the state of an earlier,
# interrupted run would skip prepare.
scenario() {
    (cd "${1%%/molecule/*}" \
        && "$bin/molecule" reset -s "$2" >/dev/null \
        && { "$bin/molecule" test -s "$2" || { "$bin/molecule" cleanup -s "$2"; false; }; })
}

# Every Molecule scenario called $1, then the phase fails if one did. With
# $2 = beside, those that bring up their own domain (tests/molecule/domain_up.yml:
# own project, subnet and proxy) run side by side, logged apart; the others,
# and every one without it, one by one.
scenarios() {
    local name=$1 mode=${2:-} scenario found=0 failed=0 logs pid
    local -A beside=()
    logs=$(mktemp -d)
    for scenario in roles/*/molecule/"$name"; do
        [ -d "$scenario" ] || continue
        found=1
        if [ "$mode" = beside ] && grep -qs domain_up.yml "$scenario/prepare.yml"; then
            scenario "$scenario" "$name" >"$logs/${scenario//\//_}.log" 2>&1 &
            beside[$!]=$scenario
        fi
    done
    for scenario in roles/*/molecule/"$name"; do
        if [ ! -d "$scenario" ] || [[ " ${beside[*]} " == *" $scenario "* ]]; then continue; fi
        step "molecule: ${scenario%%/molecule/*} ($name)"
        scenario "$scenario" "$name" || failed=1
    done
    for pid in "${!beside[@]}"; do
        scenario=${beside[$pid]}
        if wait "$pid"; then
            step "molecule: ${scenario%%/molecule/*} ($name, beside the others): passed"
        else
            step "molecule: ${scenario%%/molecule/*} ($name, beside the others): FAILED"
            failed=1
        fi
        cat "$logs/${scenario//\//_}.log"
    done
    rm -rf "$logs"
    [ "$found" -eq 1 ] || echo "no Molecule scenario '$name' found"
    [ "$failed" -eq 0 ]
}

molecule() { scenarios default beside; }

# The heavy service roles (large downloads through the package proxy):
# `make test-services`, not part of `make test`; one at a time.
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
