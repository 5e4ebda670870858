#!/usr/bin/env bash
# Time `anklume domain apply` on a real Incus beside its floors, and print them
# side by side with the ratios:
#   raw incus: the same projects, bridges and profiles, then one `incus launch`
#     per instance, one after another (sequential) and 4 at a time (parallel);
#   anklume: first apply without provisioning, first apply with provisioning
#     (incus_nesting and base_system), no-change apply, domain check;
#   ansible: an empty play on localhost (Ansible's own start-up);
#   provisioning: --force-provision of every instance against one instance.
# Sizes (BENCH_SIZES, default "4 20 50"): 4 instances in 2 domains, more in 10
# domains. Names bd0…bd9, subnets 10.<BENCH_ZONE_BASE+2>.<0-9>.0/24 (default
# 10.222), NAT off. Every resource it created is removed between steps and at
# the end, also when a step fails or the run is interrupted; nothing else is
# touched (its host firewall goes to its own table, inet anklume_bench). Run
# as root after `make image`:
#   bash bench/apply.sh                       # 4, 20 and 50 instances
#   BENCH_SIZES="4" bash bench/apply.sh
#   BENCH_REPEAT=5 bash bench/apply.sh        # best of 5 for the repeatable runs
#   BENCH_PROFILE=1 bash bench/apply.sh       # also print the tasks of one no-change apply, slowest first
# Repeated runs (no-change, check, floors of Ansible) keep the best time:
# other work on the host only ever adds time.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
anklume="$root/.venv/bin/anklume"
playbook="$root/.venv/bin/ansible-playbook"
image=${BENCH_IMAGE:-anklume/debian-12}
sizes=${BENCH_SIZES:-"4 20 50"}
zone_base=${BENCH_ZONE_BASE:-220}
repeat=${BENCH_REPEAT:-3}
profile=${BENCH_PROFILE:-0}
work=$(mktemp -d /tmp/anklume-bench.XXXXXX)
export ANKLUME_LOCK_FILE="$work/apply.lock"
export ANKLUME_NFT_TABLE=anklume_bench
export ANKLUME_ETC="$work/etc"
declare -A seconds=()
domains=()

# teardown: delete every bench instance, profile, project and bridge.
teardown() {
    local d i p
    for d in bd0 bd1 bd2 bd3 bd4 bd5 bd6 bd7 bd8 bd9; do
        if incus project show "$d" >/dev/null 2>&1; then
            for i in $(incus list --project "$d" --format csv --columns n); do
                incus config set "$i" security.protection.delete=false --project "$d" || true
                incus delete --force "$i" --project "$d" >/dev/null || true
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
}
cleanup() {
    trap - EXIT INT TERM
    teardown
    rm -rf "$work"
}
trap cleanup EXIT
trap 'echo "bench: interrupted" >&2; exit 130' INT
trap 'echo "bench: interrupted" >&2; exit 143' TERM

# write_infra N: N containers over the domains (2 for 4 instances, else 10).
write_infra() {
    local n=$1 i d k=${#domains[@]}
    {
        echo "project_name: anklume-bench"
        echo "global:"
        echo "  addressing: {base_octet: 10, zone_base: $zone_base, zone_step: 1}"
        echo "  default_os_image: $image"
        echo "domains:"
        for ((d = 0; d < k; d++)); do
            echo "  ${domains[d]}:"
            echo "    subnet_id: $d"
            echo "    nat: false"
            echo "    ephemeral: true"
            echo "    machines:"
            for ((i = d; i < n; i += k)); do
                echo "      ${domains[d]}-m$i: {}"
            done
        done
    } >"$work/infra.yml"
}

# raw_objects: what anklume would create before the instances, with plain incus.
raw_objects() {
    local d k=0
    for d in "${domains[@]}"; do
        incus project create "$d" -c features.images=false -c features.profiles=true \
            -c features.storage.volumes=false >/dev/null
        incus network create "net-$d" --type=bridge "ipv4.address=10.$((zone_base + 2)).$k.254/24" \
            ipv4.nat=false ipv6.address=none >/dev/null
        incus profile device add default root disk path=/ pool=default --project "$d" >/dev/null
        incus profile device add default eth0 nic network="net-$d" name=eth0 --project "$d" >/dev/null
        k=$((k + 1))
    done
}

# raw_launch N PARALLEL: launch the N instances, PARALLEL at a time.
raw_launch() {
    local n=$1 par=$2 i k=${#domains[@]}
    for ((i = 0; i < n; i++)); do
        echo "${domains[i % k]} ${domains[i % k]}-m$i"
    done | xargs -P "$par" -L 1 "$root/bench/launch-one.sh" "$image"
}

raw_floor() {
    raw_objects
    raw_launch "$1" "$2"
}

# timed KEY LABEL RUNS CMD...: run CMD quietly RUNS times, record and print the
# best time in seconds (and every time), fail loudly on error.
timed() {
    local key=$1 label=$2 runs=$3 start end took best="" all="" i rc
    shift 3
    for ((i = 0; i < runs; i++)); do
        start=$EPOCHREALTIME
        rc=0
        "$@" >"$work/last.log" 2>&1 || rc=$?
        if [ "$rc" -ne 0 ] && ! { [ "$rc" -eq 3 ] && [ "$1" = "$anklume" ]; }; then
            cat "$work/last.log" >&2
            echo "bench: '$label' failed (exit $rc)" >&2
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
        printf '  %-44s %8s s   (runs:%s)\n' "$label" "$best" "$all"
    else
        printf '  %-44s %8s s\n' "$label" "$best"
    fi
}

# expect_running N: every one of the N bench instances runs.
expect_running() {
    local want=$1 have
    have=$(incus list --all-projects --format csv --columns se | awk -F, '$1 == "RUNNING" && $2 ~ /^bd[0-9]$/' | wc -l)
    if [ "$have" -ne "$want" ]; then
        echo "bench: $have of $want instances are running" >&2
        exit 1
    fi
}

ratio() {
    awk -v a="${seconds[$1]:-}" -v b="${seconds[$2]:-}" 'BEGIN { if (a == "" || b == "" || b == 0) print "-"; else printf "%.2fx", a / b }'
}

# row LABEL KEY [FLOOR]: one line of the result table, one column per size (with the ratio to FLOOR).
row() {
    local label=$1 key=$2 floor=${3:-} n cell
    printf '%-40s' "$label"
    for n in $sizes; do
        cell=${seconds[$key/$n]:--}
        [ -z "$floor" ] || [ "$cell" = - ] || cell="$cell ($(ratio "$key/$n" "$floor/$n"))"
        printf ' %18s' "$cell"
    done
    printf '\n'
}

for n in $sizes; do
    ((n >= 2)) || { echo "bench: sizes must be at least 2" >&2; exit 2; }
done
incus image show "$image" >/dev/null 2>&1 || { echo "bench: image $image missing; run 'make image'" >&2; exit 1; }
if incus project list --format csv --columns n | grep -qx 'bd[0-9]'; then
    echo "bench: a project bd0…bd9 already exists (an interrupted run?); remove it first" >&2
    trap - EXIT
    rm -rf "$work"
    exit 1
fi
((repeat >= 1)) || { echo "bench: BENCH_REPEAT must be at least 1" >&2; exit 2; }
printf -- '- hosts: localhost\n  connection: local\n  gather_facts: false\n  tasks: []\n' >"$work/empty.yml"
echo "anklume apply benchmark ($(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo), image $image)"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
for n in $sizes; do
    if ((n <= 4)); then domains=(bd0 bd1); else domains=(bd0 bd1 bd2 bd3 bd4 bd5 bd6 bd7 bd8 bd9); fi
    write_infra "$n"
    "$anklume" -C "$work" sync >/dev/null
    echo "--- $n instances in ${#domains[@]} domains"
    timed "rawseq/$n" "raw incus, sequential launch" 1 raw_floor "$n" 1
    expect_running "$n"
    teardown
    timed "rawpar/$n" "raw incus, 4 launches at a time" 1 raw_floor "$n" 4
    teardown
    timed "first/$n" "anklume first apply --no-provision" 1 "$anklume" -C "$work" domain apply --no-provision
    expect_running "$n"
    teardown
    timed "firstprov/$n" "anklume first apply (provisioning)" 1 "$anklume" -C "$work" domain apply
    expect_running "$n"
    timed "nochange/$n" "anklume no-change apply" "$repeat" "$anklume" -C "$work" domain apply
    if [ "$profile" = 1 ]; then
        ANSIBLE_CALLBACKS_ENABLED=ansible.posix.profile_tasks PROFILE_TASKS_TASK_OUTPUT_LIMIT=all \
            "$anklume" -C "$work" domain apply >"$work/profile-$n.txt" 2>&1 || true
    fi
    timed "check/$n" "anklume domain check" "$repeat" "$anklume" -C "$work" domain check
    timed "empty/$n" "floor: empty ansible-playbook play" "$repeat" \
        env ANSIBLE_CONFIG="$root/ansible.cfg" "$playbook" -i localhost, "$work/empty.yml"
    timed "prov1/$n" "provisioning one instance (--force-provision)" 1 \
        "$anklume" -C "$work" domain apply --force-provision --limit "${domains[0]}-m0"
    timed "provall/$n" "provisioning all $n (--force-provision)" 1 \
        "$anklume" -C "$work" domain apply --force-provision
    teardown
done

echo
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "seconds (repeated runs: best of $repeat); in brackets the ratio to the floor named"
printf '%-40s' "instances"
for n in $sizes; do printf ' %18s' "$n"; done
printf '\n'
row "raw incus, sequential launch" rawseq
row "raw incus, 4 launches at a time" rawpar
row "first apply --no-provision (/raw seq)" first rawseq
row "first apply, provisioning (/raw seq)" firstprov rawseq
row "no-change apply (/empty play)" nochange empty
row "domain check (/empty play)" check empty
row "empty ansible-playbook play" empty
row "provisioning one instance" prov1
row "provisioning all (/one)" provall prov1
echo
echo "per instance (first apply --no-provision):"
for n in $sizes; do
    awk -v t="${seconds[first/$n]}" -v n="$n" 'BEGIN { printf "  %3d instances: %.2f s each\n", n, t / n }'
done
if [ "$profile" = 1 ]; then
    for n in $sizes; do
        echo "tasks of one no-change apply at $n instances (ansible.posix.profile_tasks):"
        grep -E ' -+ [0-9.]+s$|Playbook run took' "$work/profile-$n.txt" || cat "$work/profile-$n.txt"
    done
fi
echo "provisioning alone (each minus the no-change apply):"
for n in $sizes; do
    awk -v one="${seconds[prov1/$n]}" -v all="${seconds[provall/$n]}" -v base="${seconds[nochange/$n]}" -v n="$n" \
        'BEGIN { a = one - base; b = all - base; printf "  %3d instances: one %.2f s, all %.2f s (%.2fx)\n", n, a, b, (a > 0 ? b / a : 0) }'
done
