#!/usr/bin/env bash
# Time `anklume backup create` of one instance against the floor, `incus export`
# piped into `gpg` by hand with the same options (zstd export, AES256, no gpg
# compression, passphrase on a file descriptor), and print the figures:
# median seconds of BENCH_RUNS runs (default 3) of each, their ratio (target
# <= 1.3), the archive sizes and the peak RSS of anklume.
# It applies its own one-domain infra (domain bkb, 10.130.8.0/24, NAT off,
# one container), with its own host table (inet anklume_bench_bk) and boot
# directory, and removes it at the end with `anklume destroy` (also on
# failure). Run as root, on a host where nothing else uses Incus meanwhile:
#   bash bench/backup.sh
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
anklume="$root/.venv/bin/anklume"
image=${BENCH_IMAGE:-anklume/debian-12}
runs=${BENCH_RUNS:-3}
work=$(mktemp -d /tmp/anklume-bench-bk.XXXXXX)
export ANKLUME_LOCK_FILE="$work/apply.lock"
export ANKLUME_NFT_TABLE=anklume_bench_bk
export ANKLUME_ETC="$work/etc"
export ANKLUME_SYSTEMD_DIR="$work/systemd"
export ANKLUME_SKIP_HOST_SUBNET_CHECK=1
infra="$work/infra"
mkdir -p "$infra"

cleanup() {
    trap - EXIT INT TERM
    "$anklume" -C "$infra" destroy --include-protected --yes >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
trap 'echo "bench: interrupted" >&2; exit 130' INT
trap 'echo "bench: interrupted" >&2; exit 143' TERM

cat >"$infra/infra.yml" <<YAML
project_name: anklume-bench-bk
global:
  addressing: {base_octet: 10, zone_base: 126, zone_step: 1}
  default_os_image: $image
domains:
  bkb:
    trust_level: untrusted
    subnet_id: 8
    nat: false
    ephemeral: true
    machines:
      bkb-one: {}
YAML
"$anklume" -C "$infra" sync >/dev/null
"$anklume" -C "$infra" domain apply --no-provision >/dev/null 2>&1
printf 'bench passphrase\n' >"$work/pass"
chmod 600 "$work/pass"

now() { date +%s.%N; }
timer=(env)
[ -x /usr/bin/time ] && timer=(/usr/bin/time -f %M -o "$work/rss")

# one run of the floor: prints its seconds
floor() {
    local out="$work/floor.$RANDOM.gpg" start
    start=$(now)
    incus export bkb-one - -q --compression zstd --project bkb |
        gpg --batch --no-tty --quiet --pinentry-mode loopback --passphrase-fd 3 --no-symkey-cache \
            --symmetric --cipher-algo AES256 --compress-algo none --output "$out" 3<"$work/pass"
    awk -v a="$(now)" -v b="$start" 'BEGIN { print a - b }'
    stat -c %s "$out" >"$work/floor.size"
    rm -f "$out"
}

# one run of anklume: prints its seconds (peak RSS in KiB to $work/rss)
ours() {
    local out="$work/out.$RANDOM" start
    start=$(now)
    echo "n/a (no /usr/bin/time)" >"$work/rss"
    "${timer[@]}" "$anklume" -C "$infra" backup create bkb-one \
        --passphrase-file "$work/pass" --out "$out" >/dev/null 2>&1
    awk -v a="$(now)" -v b="$start" 'BEGIN { print a - b }'
    stat -c %s "$out"/*.gpg >"$work/ours.size"
    rm -rf "$out"
}

median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

f=$(for _ in $(seq "$runs"); do floor; done | median)
o=$(for _ in $(seq "$runs"); do ours; done | median)
echo "backup create of one container (${runs} runs each, median):"
printf '  floor  incus export | gpg   %6.2f s  %s bytes\n' "$f" "$(cat "$work/floor.size")"
printf '  anklume backup create     %6.2f s  %s bytes  peak RSS %s KiB\n' "$o" "$(cat "$work/ours.size")" "$(cat "$work/rss")"
printf '  ratio                     %6.2f (target <= 1.30)\n' "$(awk -v a="$o" -v b="$f" 'BEGIN { print a / b }')"
