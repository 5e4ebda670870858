#!/usr/bin/env bash
# Time `anklume portal copy` of a 1 GiB directory of mixed files between two
# instances of two domains, against the floors:
#   - `incus file pull -r` to the host, then `incus file push -r` (through the host's disk);
#   - `tar -c | tar -x` piped between two `incus exec` (no policy, no check, no hash);
# and print the figures side by side with their ratios, plus the peak RSS of
# the anklume process tree (/usr/bin/time -v; its incus clients included).
# The data: BENCH_SMALL small files (1-8 KiB, default 16384) and 8 large ones
# filling the rest of BENCH_MIB (default 1024), random bytes, generated inside
# the source instance. Every copy is checked: the sha256 of every file at the
# destination must match the source.
# The infra has its own names (ptx trusted, pty untrusted), subnets
# 10.121.9.0/24 and 10.124.9.0/24 (BENCH_ZONE_BASE, default 120), NAT off,
# its own host table (inet anklume_bench_pt); everything it created is
# removed at the end, also on failure or interrupt. Run as root after
# `make image`; the host should be otherwise idle:
#   bash bench/portal.sh
#   BENCH_MIB=256 BENCH_SMALL=4096 bash bench/portal.sh
# With BENCH_PYSPY=/path/to/py-spy (pip install py-spy), one more, untimed copy
# runs under `py-spy record --idle` and its raw profile goes to
# BENCH_PYSPY_OUT (default ./portal-profile.txt): where the anklume process spends its time.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
anklume="$root/.venv/bin/anklume"
image=${BENCH_IMAGE:-anklume/debian-12}
mib=${BENCH_MIB:-1024}
small=${BENCH_SMALL:-16384}
zone_base=${BENCH_ZONE_BASE:-120}
work=$(mktemp -d /tmp/anklume-bench-pt.XXXXXX)
export ANKLUME_LOCK_FILE="$work/apply.lock"
export ANKLUME_NFT_TABLE=anklume_bench_pt
export ANKLUME_ETC="$work/etc"
export ANKLUME_SYSTEMD_DIR="$work/systemd"
export ANKLUME_SKIP_HOST_SUBNET_CHECK=1
domains=(ptx pty)
src=(--project pty pty-src)
dst=(--project ptx ptx-dst)

cleanup() {
    local d i
    trap - EXIT INT TERM
    for d in "${domains[@]}"; do
        if incus project show "$d" >/dev/null 2>&1; then
            for i in $(incus list --project "$d" --format csv --columns n); do
                incus delete --force "$i" --project "$d" || true
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

mkdir -p "$work/infra"
cat >"$work/infra/infra.yml" <<EOF
project_name: anklume-bench-pt
global:
  addressing: {base_octet: 10, zone_base: $zone_base, zone_step: 1}
  default_os_image: $image
domains:
  ptx:
    trust_level: trusted
    subnet_id: 9
    nat: false
    ephemeral: true
    file_portal: {allowed_paths: [/srv/inbox]}
    machines: {ptx-dst: {}}
  pty:
    trust_level: untrusted
    subnet_id: 9
    nat: false
    ephemeral: true
    file_portal: {allowed_paths: [/srv/share]}
    machines: {pty-src: {}}
file_policies:
  - {from: pty, to: ptx}
EOF

echo "bench: applying the two-domain infra" >&2
"$anklume" -C "$work/infra" sync >/dev/null
"$anklume" -C "$work/infra" domain apply --no-provision >/dev/null 2>"$work/apply.err" || {
    tail -20 "$work/apply.err" >&2
    exit 1
}

echo "bench: generating ${mib} MiB (${small} small files + 8 large) in pty-src" >&2
incus exec "${src[@]}" -- python3 - "$mib" "$small" <<'EOF'
import os, random, sys
mib, small = int(sys.argv[1]), int(sys.argv[2])
rng = random.Random(7)
base = "/srv/share/data"
total = 0
for i in range(small):
    d = f"{base}/small/{i // 256:03d}"
    os.makedirs(d, exist_ok=True)
    size = rng.randint(1024, 8192)
    with open(f"{d}/f{i:05d}", "wb") as f:
        f.write(os.urandom(size))
    total += size
os.makedirs(f"{base}/large", exist_ok=True)
left = mib * 2**20 - total
for i in range(8):
    with open(f"{base}/large/l{i}.bin", "wb") as f:
        n = left // 8
        while n > 0:
            chunk = min(n, 2**22)
            f.write(os.urandom(chunk))
            n -= chunk
EOF
incus exec "${dst[@]}" -- mkdir -p /srv/inbox
# shellcheck disable=SC2016  # $1 expands in the instance's sh, not here
manifest='cd "$1" && find . -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum'
want=$(incus exec "${src[@]}" -- sh -c "$manifest" sh /srv/share/data)

# check NAME DIR: the copy at DIR has the same files, bytes for bytes; then remove it
check() {
    local got
    got=$(incus exec "${dst[@]}" -- sh -c "$manifest" sh "$2")
    [ "$got" = "$want" ] || { echo "bench: $1 copy differs from the source" >&2; exit 1; }
    incus exec "${dst[@]}" -- rm -rf "$2"
}

now() { date +%s.%N; }
declare -A seconds=()

echo "bench: floor 1, incus file pull -r + push -r through the host" >&2
t0=$(now)
incus file pull -r "${src[@]:0:2}" pty-src/srv/share/data "$work/stage" >/dev/null
incus file push -r "${dst[@]:0:2}" "$work/stage/data" ptx-dst/srv/inbox/ >/dev/null
t1=$(now)
seconds[pullpush]=$(echo "$t1 - $t0" | bc)
rm -rf "$work/stage"
check pull+push /srv/inbox/data

echo "bench: floor 2, tar | tar over incus exec" >&2
incus exec "${dst[@]}" -- mkdir -p /srv/inbox/pipe
t0=$(now)
/usr/bin/time -v -o "$work/pipe.time" sh -c 'incus exec "$@" -- tar -C /srv/share -cf - data' sh "${src[@]}" |
    incus exec "${dst[@]}" -- tar -C /srv/inbox/pipe -xf -
t1=$(now)
seconds[pipe]=$(echo "$t1 - $t0" | bc)
check "tar|tar" /srv/inbox/pipe/data

echo "bench: anklume portal copy" >&2
t0=$(now)
/usr/bin/time -v -o "$work/anklume.time" "$anklume" -C "$work/infra" portal copy \
    pty-src:/srv/share/data ptx-dst:/srv/inbox/anklume >/dev/null 2>"$work/anklume.err" &
timer=$!
hwm=0
# the python process's own high-water mark (the child of time), polled while it runs
while kill -0 "$timer" 2>/dev/null; do
    for pid in $(pgrep -P "$timer" 2>/dev/null || true); do
        v=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
        if [ "${v:-0}" -gt "$hwm" ]; then hwm=$v; fi
    done
    sleep 0.1
done
wait "$timer" || {
    cat "$work/anklume.err" >&2
    exit 1
}
t1=$(now)
seconds[anklume]=$(echo "$t1 - $t0" | bc)
check anklume /srv/inbox/anklume

if [ -n "${BENCH_PYSPY:-}" ]; then
    echo "bench: anklume portal copy again, under py-spy" >&2
    "$BENCH_PYSPY" record --idle --format raw --rate 200 -o "${BENCH_PYSPY_OUT:-portal-profile.txt}" -- \
        "$anklume" -C "$work/infra" portal copy pty-src:/srv/share/data ptx-dst:/srv/inbox/profiled >/dev/null
    check profiled /srv/inbox/profiled
fi

rss() { awk -F': ' '/Maximum resident set size/ {printf "%.1f", $2 / 1024}' "$1"; }
best=${seconds[pipe]}
if (($(echo "${seconds[pullpush]} < $best" | bc))); then best=${seconds[pullpush]}; fi
echo
echo "portal copy of ${mib} MiB (${small} small files + 8 large), pty-src -> ptx-dst"
printf '%-34s %9s %8s\n' "method" "seconds" "ratio"
for k in pullpush pipe anklume; do
    label=${k/pullpush/incus file pull -r + push -r}
    label=${label/pipe/tar | tar over incus exec}
    label=${label/anklume/anklume portal copy}
    printf '%-34s %9.2f %7.2fx\n' "$label" "${seconds[$k]}" "$(echo "${seconds[$k]} / $best" | bc -l)"
done
echo "peak RSS, the anklume process: $(echo "scale=1; $hwm / 1024" | bc) MiB"
echo "peak RSS, largest of anklume and its incus clients: $(rss "$work/anklume.time") MiB"
echo "peak RSS, the sending incus client of the tar pipe: $(rss "$work/pipe.time") MiB"
