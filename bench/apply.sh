#!/usr/bin/env bash
# Time `anklume domain apply` on a real Incus and print the figures:
#   first apply, no-change apply (with and without provisioning), the floor
#   (one `incus list --all-projects --format json`), and how the no-change
#   time grows from 5 to 20 instances.
# The infra has the demo's shape (four domains: admin, trusted, semi-trusted,
# untrusted; base_system on every machine but the untrusted one) under its
# own names (bna, bnp, bns, bnu) and subnets (10.20-10.60.x), NAT off. It is
# removed at the end; nothing else is touched. Run as root after `make image`:
#   bash bench/apply.sh            # 5 then 20 instances
#   BENCH_SIZES="5" bash bench/apply.sh
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
anklume="$root/.venv/bin/anklume"
image=${BENCH_IMAGE:-anklume/debian-12}
sizes=${BENCH_SIZES:-"5 20"}
work=$(mktemp -d /tmp/anklume-bench.XXXXXX)
export ANKLUME_SKIP_HOST_SUBNET_CHECK=1
export ANKLUME_LOCK_FILE="$work/apply.lock"
domains=(bna bnp bns bnu)

cleanup() {
    for d in "${domains[@]}"; do
        if incus project show "$d" >/dev/null 2>&1; then
            for i in $(incus list --project "$d" --format csv --columns n); do
                incus config set "$i" security.protection.delete=false --project "$d" || true
                incus delete --force "$i" --project "$d" || true
            done
            for p in $(incus profile list --project "$d" --format csv --columns n); do
                [ "$p" = default ] || incus profile delete "$p" --project "$d" || true
            done
            incus project delete "$d" || true
        fi
        incus network delete "net-$d" >/dev/null 2>&1 || true
    done
    rm -rf "$work"
}
trap cleanup EXIT

# write_infra N: the demo-shaped infra with N containers spread over the domains.
write_infra() {
    local n=$1 i d
    {
        echo "project_name: anklume-bench"
        echo "global:"
        echo "  addressing: {base_octet: 10, zone_base: 20, zone_step: 10}"
        echo "  default_os_image: $image"
        echo "domains:"
        local -A trust=([bna]=admin [bnp]=trusted [bns]=semi-trusted [bnu]=untrusted)
        for d in "${domains[@]}"; do
            echo "  $d:"
            echo "    trust_level: ${trust[$d]}"
            echo "    nat: false"
            echo "    ephemeral: true"
            echo "    machines:"
            for ((i = 0; i < n; i++)); do
                [ "${domains[i % 4]}" = "$d" ] || continue
                echo "      $d-m$i:"
                [ "$d" = bnu ] || echo "        roles: [base_system]"
                [ "$d" = bnu ] && echo "        config: {limits.memory: 256MiB}"
            done
        done
    } >"$work/infra.yml"
}

# timed LABEL CMD...: run CMD quietly, print LABEL and seconds, fail loudly on error.
timed() {
    local label=$1 start end
    shift
    start=$EPOCHREALTIME
    if ! "$@" >"$work/last.log" 2>&1; then
        cat "$work/last.log" >&2
        echo "bench: '$label' failed" >&2
        exit 1
    fi
    end=$EPOCHREALTIME
    awk -v l="$label" -v s="$start" -v e="$end" 'BEGIN { printf "%-46s %7.2f s\n", l, e - s }'
}

for n in $sizes; do
    ((n >= 4)) || { echo "bench: sizes must be at least 4 (one machine per domain)" >&2; exit 2; }
done
incus image show "$image" >/dev/null 2>&1 || { echo "bench: image $image missing; run 'make image'" >&2; exit 1; }
echo "anklume apply benchmark ($(nproc) cores, image $image)"
for n in $sizes; do
    write_infra "$n"
    "$anklume" -C "$work" sync >/dev/null
    echo "--- $n instances"
    if [ "$n" = "${sizes%% *}" ]; then
        timed "first apply" "$anklume" -C "$work" domain apply
    else
        timed "apply (grow from the previous size)" "$anklume" -C "$work" domain apply
    fi
    timed "no-change apply" "$anklume" -C "$work" domain apply
    timed "no-change apply --no-provision" "$anklume" -C "$work" domain apply --no-provision
    timed "floor: incus list --all-projects --format json" incus list --all-projects --format json
done
