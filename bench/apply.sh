#!/usr/bin/env bash
# Time `anklume domain apply` on a real Incus and print the figures:
#   first apply, no-change apply (with and without provisioning), the floor
#   (one `incus list --all-projects --format json`), and how the no-change
#   time grows from 5 to 20 instances.
# The infra has the demo's shape (four domains: admin, trusted, semi-trusted,
# untrusted; base_system on every machine but the untrusted one) under its
# own names (bna, bnp, bns, bnu) and subnets (10.220, 10.225, 10.230 and
# 10.240.0.0/24 by default), NAT off. Every resource it created is removed at
# the end, also when a step fails or the run is interrupted; nothing else is
# touched (its host firewall goes to its own table, inet anklume_bench). Run
# as root after `make image`:
#   bash bench/apply.sh            # 5 then 20 instances
#   BENCH_SIZES="5" bash bench/apply.sh
#   BENCH_ZONE_BASE=200 bash bench/apply.sh   # other subnets (10.<base>...)
#   BENCH_REPEAT=5 bash bench/apply.sh        # best of 5 for the repeatable runs
# The no-change runs and the floor are repeated (BENCH_REPEAT, default 3) and
# the best time is kept: other work on the host only ever adds time.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
anklume="$root/.venv/bin/anklume"
image=${BENCH_IMAGE:-anklume/debian-12}
sizes=${BENCH_SIZES:-"5 20"}
zone_base=${BENCH_ZONE_BASE:-220}
zone_step=5
repeat=${BENCH_REPEAT:-3}
work=$(mktemp -d /tmp/anklume-bench.XXXXXX)
export ANKLUME_LOCK_FILE="$work/apply.lock"
# Its own host table and boot file: the host's table inet anklume (the
# isolation of the infra already applied here) is never replaced.
export ANKLUME_NFT_TABLE=anklume_bench
export ANKLUME_ETC="$work/etc"
domains=(bna bnp bns bnu)
declare -A seconds=()

cleanup() {
    local d i p
    trap - EXIT INT TERM
    for d in "${domains[@]}"; do
        if incus project show "$d" >/dev/null 2>&1; then
            for i in $(incus list --project "$d" --format csv --columns n); do
                incus config set "$i" security.protection.delete=false --project "$d" || true
                incus delete --force "$i" --project "$d" || true
            done
            for p in $(incus profile list --project "$d" --format csv --columns n); do
                [ "$p" = default ] || incus profile delete "$p" --project "$d" || true
            done
            incus project delete "$d" >/dev/null || true
        fi
        if incus network show "net-$d" >/dev/null 2>&1; then
            incus network delete "net-$d" >/dev/null || true
        fi
    done
    nft delete table inet "$ANKLUME_NFT_TABLE" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
trap 'echo "bench: interrupted" >&2; exit 130' INT
trap 'echo "bench: interrupted" >&2; exit 143' TERM

# write_infra N: the demo-shaped infra with N containers spread over the domains.
write_infra() {
    local n=$1 i d
    {
        echo "project_name: anklume-bench"
        echo "global:"
        echo "  addressing: {base_octet: 10, zone_base: $zone_base, zone_step: $zone_step}"
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

# refuse_taken_subnets: stop when a bench /24 is already routed on this host
# (another infra's bridge, a LAN): the bench must not share it.
refuse_taken_subnets() {
    local subnet taken
    taken=$(ip -4 route show | awk '{print $1}')
    while read -r subnet; do
        if grep -qxF "$subnet" <<<"$taken"; then
            echo "bench: subnet $subnet is already in use on this host; set BENCH_ZONE_BASE" >&2
            exit 1
        fi
    done < <(awk '/subnet:/ {print $2}' "$work"/group_vars/bn*.yml)
}

# timed KEY LABEL RUNS CMD...: run CMD quietly RUNS times, record and print the
# best time in seconds (and every time), fail loudly on error.
timed() {
    local key=$1 label=$2 runs=$3 start end took best="" all="" i
    shift 3
    for ((i = 0; i < runs; i++)); do
        start=$EPOCHREALTIME
        if ! "$@" >"$work/last.log" 2>&1; then
            cat "$work/last.log" >&2
            echo "bench: '$label' failed" >&2
            exit 1
        fi
        end=$EPOCHREALTIME
        took=$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.2f", e - s }')
        all="$all $took"
        if [ -z "$best" ] || awk -v t="$took" -v b="$best" 'BEGIN { exit !(t < b) }'; then
            best=$took
        fi
    done
    seconds[$key]=$best
    if ((runs > 1)); then
        printf '  %-48s %7s s   (runs:%s)\n' "$label" "$best" "$all"
    else
        printf '  %-48s %7s s\n' "$label" "$best"
    fi
}

# expect_running N: every one of the N declared instances runs after an apply.
expect_running() {
    local want=$1 have
    have=$(incus list --all-projects --format csv --columns se | awk -F, '$1 == "RUNNING" && $2 ~ /^bn[apsu]$/' | wc -l)
    if [ "$have" -ne "$want" ]; then
        incus list --all-projects --format csv --columns nse | grep ',bn[apsu]$' >&2 || true
        echo "bench: $have of $want instances are running after the apply" >&2
        exit 1
    fi
}

# row LABEL PREFIX: one line of the result table, one column per size.
row() {
    local label=$1 prefix=$2 n
    printf '%-38s' "$label"
    for n in $sizes; do
        printf ' %9s' "${seconds[$prefix/$n]:--}"
    done
    printf '\n'
}

for n in $sizes; do
    ((n >= 4)) || { echo "bench: sizes must be at least 4 (one machine per domain)" >&2; exit 2; }
done
incus image show "$image" >/dev/null 2>&1 || { echo "bench: image $image missing; run 'make image'" >&2; exit 1; }
for d in "${domains[@]}"; do
    if incus project show "$d" >/dev/null 2>&1; then
        echo "bench: project $d already exists (an interrupted run?); remove it first" >&2
        trap - EXIT
        rm -rf "$work"
        exit 1
    fi
done
((repeat >= 1)) || { echo "bench: BENCH_REPEAT must be at least 1" >&2; exit 2; }
echo "anklume apply benchmark ($(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo), image $image)"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
first=${sizes%% *}
for n in $sizes; do
    write_infra "$n"
    "$anklume" -C "$work" sync >/dev/null
    [ "$n" != "$first" ] || refuse_taken_subnets
    echo "--- $n instances"
    if [ "$n" = "$first" ]; then
        timed "first/$n" "first apply" 1 "$anklume" -C "$work" domain apply
    else
        timed "grow/$n" "apply (grow from the previous size)" 1 "$anklume" -C "$work" domain apply
    fi
    expect_running "$n"
    timed "nochange/$n" "no-change apply" "$repeat" "$anklume" -C "$work" domain apply
    timed "noprov/$n" "no-change apply --no-provision" "$repeat" "$anklume" -C "$work" domain apply --no-provision
    timed "floor/$n" "floor: incus list --all-projects --format json" "$repeat" \
        incus list --all-projects --format json
done

echo
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "seconds (no-change runs and floor: best of $repeat)"
printf '%-38s' "instances"
for n in $sizes; do printf ' %9s' "$n"; done
printf '\n'
row "first apply" first
row "apply (grow from the previous size)" grow
row "no-change apply" nochange
row "no-change apply --no-provision" noprov
row "floor (incus list --all-projects)" floor
