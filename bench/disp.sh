#!/usr/bin/env bash
# Time disposables and pre-apply snapshots on a real Incus and print the figures:
#   - `anklume disp --domain D -- true`, open to exit (median of BENCH_RUNS, default 5);
#   - time to an interactive prompt: `anklume disp --domain D` in a pseudo-terminal,
#     from start to the shell's first prompt (median);
#   - the floor: `incus launch --ephemeral` + `incus exec … true` + `incus delete --force`
#     of the same image on the same pool, in the same project (median);
#   - a snapshot of one instance as the pre-apply step takes it (`incus snapshot
#     create`), and a whole `snapshot create` through the CLI (median).
# It applies its own one-domain infra (domain bdp, 10.253.7.0/24, NAT off,
# one machine), with its own host table (inet anklume_bench_dp) and boot
# directory, and removes it at the end with `anklume destroy` (also on
# failure). Run as root, on a host where nothing else uses Incus meanwhile:
#   bash bench/disp.sh
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
anklume="$root/.venv/bin/anklume"
py="$root/.venv/bin/python"
image=${BENCH_IMAGE:-anklume/debian-12}
runs=${BENCH_RUNS:-5}
work=$(mktemp -d /tmp/anklume-bench-disp.XXXXXX)
export ANKLUME_LOCK_FILE="$work/apply.lock"
export ANKLUME_NFT_TABLE=anklume_bench_dp
export ANKLUME_ETC="$work/etc"
export ANKLUME_SYSTEMD_DIR="$work/systemd"
export ANKLUME_SKIP_HOST_SUBNET_CHECK=1
infra="$work/infra"
mkdir -p "$infra"

cleanup() {
    trap - EXIT INT TERM
    "$anklume" -C "$infra" destroy --include-protected --yes >/dev/null 2>&1 || true
    incus delete --force bdp-floor --project bdp >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
trap 'echo "bench: interrupted" >&2; exit 130' INT
trap 'echo "bench: interrupted" >&2; exit 143' TERM

cat >"$infra/infra.yml" <<YAML
project_name: anklume-bench-dp
global:
  addressing: {base_octet: 10, zone_base: 245, zone_step: 2}
  default_os_image: $image
domains:
  bdp:
    trust_level: untrusted
    subnet_id: 7
    nat: false
    ephemeral: true
    machines:
      bdp-one: {}
YAML
"$anklume" -C "$infra" sync >/dev/null
"$anklume" -C "$infra" domain apply --no-provision >/dev/null 2>&1

# median of the seconds printed by "$@" run $runs times (each run prints one number)
median() {
    for _ in $(seq "$runs"); do "$@"; done | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'
}

timed() {
    local s=$EPOCHREALTIME
    "$@" >/dev/null 2>&1
    awk -v s="$s" -v e="$EPOCHREALTIME" 'BEGIN { printf "%.3f\n", e - s }'
}

disp_true() { timed "$anklume" -C "$infra" disp --domain bdp -- true; }

# the floor, step by step: "launch exec delete" seconds on one line per run
floor_steps() {
    local s=$EPOCHREALTIME a b
    incus launch "$image" bdp-floor --ephemeral --project bdp >/dev/null
    a=$EPOCHREALTIME
    incus exec bdp-floor --project bdp -- true
    b=$EPOCHREALTIME
    incus delete --force bdp-floor --project bdp >/dev/null
    awk -v s="$s" -v a="$a" -v b="$b" -v e="$EPOCHREALTIME" 'BEGIN { printf "%.3f %.3f %.3f\n", a - s, b - a, e - b }'
}

# seconds from start to the first root prompt ("# ") of an interactive disposable shell
prompt() {
    "$py" - "$anklume" "$infra" <<'PY'
import os, pty, select, sys, time
anklume, infra = sys.argv[1], sys.argv[2]
start = time.monotonic()
pid, fd = pty.fork()
if pid == 0:
    os.execv(anklume, [anklume, "-C", infra, "disp", "--domain", "bdp"])
seen, shown = b"", None
while time.monotonic() - start < 60:
    ready, _, _ = select.select([fd], [], [], 0.05)
    if ready:
        try:
            seen += os.read(fd, 4096)
        except OSError:
            break
        if shown is None and b"# " in seen.rsplit(b"\n", 1)[-1]:
            shown = time.monotonic() - start
            os.write(fd, b"exit\n")
os.waitpid(pid, 0)
print(f"{shown if shown is not None else float('nan'):.3f}")
PY
}

snap_raw() {
    local s=$EPOCHREALTIME
    incus snapshot create bdp-one "bench-$RANDOM$RANDOM" --project bdp
    awk -v s="$s" -v e="$EPOCHREALTIME" 'BEGIN { printf "%.3f\n", e - s }'
}

snap_cli() { timed "$anklume" -C "$infra" snapshot create bdp-one; }

pool=$(incus profile device get default root pool --project bdp 2>/dev/null || echo default)
driver=$(incus storage show "$pool" | awk '/^driver:/ { print $2 }')
used=$(du -sm "/var/lib/incus/storage-pools/$pool/containers/bdp_bdp-one" 2>/dev/null | awk '{ print $1 }' || true)

d_true=$(median disp_true)
steps=$(for _ in $(seq "$runs"); do floor_steps; done)
col() { awk -v c="$1" '{ print $c }' <<<"$steps" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
f_launch=$(col 1)
f_exec=$(col 2)
f_delete=$(col 3)
d_floor=$(awk -v a="$f_launch" -v b="$f_exec" 'BEGIN { printf "%.3f", a + b }')
d_floor_del=$(awk -v a="$d_floor" -v b="$f_delete" 'BEGIN { printf "%.3f", a + b }')
d_prompt=$(median prompt)
s_raw=$(median snap_raw)
s_cli=$(median snap_cli)

printf 'pool: %s (driver %s), image %s, median of %s runs\n' "$pool" "$driver" "$image" "$runs"
printf 'disp -- true (open to exit, deletion included): %6.2f s\n' "$d_true"
printf 'floor: incus launch --ephemeral %.2f s + incus exec true %.2f s = %6.2f s\n' "$f_launch" "$f_exec" "$d_floor"
printf 'floor with incus delete --force (%.2f s):       %6.2f s\n' "$f_delete" "$d_floor_del"
awk -v a="$d_true" -v b="$d_floor" -v c="$d_floor_del" \
    'BEGIN { printf "ratio disp / floor: %.2f (/ floor with delete: %.2f)\n", a / b, a / c }'
printf 'disp to an interactive prompt:      %6.2f s\n' "$d_prompt"
printf 'pre-apply snapshot of one instance (%s MiB on disk): %6.2f s (incus snapshot create)\n' "${used:-?}" "$s_raw"
printf 'anklume snapshot create (one instance, CLI included): %6.2f s\n' "$s_cli"
