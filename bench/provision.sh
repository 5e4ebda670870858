#!/usr/bin/env bash
# Time base_system provisioning through the package proxy on a real Incus:
#   cold 5   five instances install the packages, the proxy's cache empty;
#   warm 1   one instance installs them, the cache warm;
#   warm 5   the five instances, reset, install them again, the cache warm;
#   floor    apt-get install of the same packages in one instance from the
#            .deb files already in it (a local copy of the cache: no network).
# Each provisioning figure is one `anklume domain apply DOMAIN` (instances
# provisioned in parallel, one Ansible fork each); the no-change apply of the
# same domain is printed too, so the provisioning part can be read off.
# Goal: warm 5 < 2 x warm 1.
# The infra: domains pvb (5 machines, 10.145.0.0/24) and pvc (1 machine,
# 10.146.0.0/24), NAT off, package_proxy on; its own host table
# (inet anklume_bench_px). Everything it created (instances, projects,
# bridges, table, its proxy's daemons and caches) is removed at the end, also
# on failure. The proxy's components stay installed, as after `domain apply`.
# Run as root after `make image`:
#   bash bench/provision.sh
#   BENCH_PACKAGES="git jq" bash bench/provision.sh
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
anklume="$root/.venv/bin/anklume"
image=${BENCH_IMAGE:-anklume/debian-12}
packages=${BENCH_PACKAGES:-"git jq tree htop"}
work=$(mktemp -d /tmp/anklume-bench-px.XXXXXX)
infra="$work/infra"
export ANKLUME_LOCK_FILE="$work/apply.lock" ANKLUME_NFT_TABLE=anklume_bench_px ANKLUME_ETC="$work/etc"
export ANKLUME_SKIP_HOST_SUBNET_CHECK=1
domains=(pvb pvc)
declare -A seconds=()

cleanup() {
    local d i
    trap - EXIT INT TERM
    if [ -f "$infra/infra.yml" ]; then
        "$anklume" -C "$infra" proxy stop --remove >/dev/null 2>&1 || true
    fi
    for d in "${domains[@]}"; do
        if incus project show "$d" >/dev/null 2>&1; then
            for i in $(incus list --project "$d" --format csv --columns n); do
                incus delete --force "$i" --project "$d" || true
            done
            incus project delete "$d" >/dev/null || true
        fi
        incus network show "net-$d" >/dev/null 2>&1 && { incus network delete "net-$d" >/dev/null || true; }
    done
    nft delete table inet "$ANKLUME_NFT_TABLE" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
trap 'echo "bench: interrupted" >&2; exit 130' INT
trap 'echo "bench: interrupted" >&2; exit 143' TERM

# timed NAME CMD...: run CMD, record its wall time under NAME.
timed() {
    local name=$1 start end
    shift
    start=$(date +%s.%N)
    "$@" >"$work/$name.log" 2>&1 || { echo "bench: $name failed, see below" >&2; tail -40 "$work/$name.log" >&2; exit 1; }
    end=$(date +%s.%N)
    seconds[$name]=$(echo "$end - $start" | bc)
    printf '%-28s %6.1f s\n' "$name" "${seconds[$name]}"
}

# reset INSTANCE PROJECT: remove the packages, apt's lists and downloaded files.
reset() {
    incus exec "$1" --project "$2" -- sh -c "DEBIAN_FRONTEND=noninteractive apt-get purge -y -q $packages >/dev/null \
        && apt-get autoremove --purge -y -q >/dev/null && apt-get clean && rm -rf /var/lib/apt/lists/*"
}

mkdir -p "$infra"
{
    echo "project_name: anklume-bench-px"
    echo "global:"
    echo "  addressing: {base_octet: 10, zone_base: 145, zone_step: 1}"
    echo "  default_os_image: $image"
    echo "domains:"
    echo "  pvb:"
    echo "    trust_level: admin"
    echo "    nat: false"
    echo "    ephemeral: true"
    echo "    package_proxy: true"
    echo "    machines:"
    for i in 1 2 3 4 5; do echo "      pvb-$i: {}"; done
    echo "  pvc:"
    echo "    trust_level: trusted"
    echo "    nat: false"
    echo "    ephemeral: true"
    echo "    package_proxy: true"
    echo "    machines:"
    echo "      pvc-1: {}"
} >"$infra/infra.yml"
"$anklume" -C "$infra" sync >/dev/null
echo "packages: $packages"
timed "create (no provisioning)" "$anklume" -C "$infra" domain apply --no-provision
"$anklume" -C "$infra" proxy stop --remove >/dev/null   # an empty cache
timed "proxy setup (components in)" "$anklume" -C "$infra" proxy setup
list="[${packages// /, }]"
for d in "${domains[@]}"; do echo "base_system_extra_packages: $list" >>"$infra/group_vars/$d.yml"; done

timed "cold 5 (apply pvb)" "$anklume" -C "$infra" domain apply pvb
timed "warm 1 (apply pvc)" "$anklume" -C "$infra" domain apply pvc
for i in 1 2 3 4 5; do reset "pvb-$i" pvb; done
timed "warm 5 (apply pvb)" "$anklume" -C "$infra" domain apply pvb --force-provision
timed "no-change apply pvb" "$anklume" -C "$infra" domain apply pvb
timed "no-change apply pvc" "$anklume" -C "$infra" domain apply pvc

# The floor: the same packages from files already in the instance.
reset pvc-1 pvc
incus exec pvc-1 --project pvc -- sh -c "apt-get update -q >/dev/null && apt-get install -y -q --download-only $packages >/dev/null"
timed "floor (apt-get, local files)" incus exec pvc-1 --project pvc -- sh -c \
    "DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-download $packages"

w1=${seconds["warm 1 (apply pvc)"]} w5=${seconds["warm 5 (apply pvb)"]}
verdict=$(echo "$w5 < 2 * $w1" | bc)
printf 'warm 5 / warm 1 = %.2f (goal < 2): %s\n' "$(echo "$w5 / $w1" | bc -l)" "$([ "$verdict" = 1 ] && echo met || echo NOT met)"
