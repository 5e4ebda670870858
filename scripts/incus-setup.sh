#!/usr/bin/env bash
# Install and start Incus on a Debian host when it is missing, and give it the
# minimum anklume needs: a storage pool, a bridge and the default profile's
# root and eth0 devices. Idempotent: every step first looks at what is already
# there and only adds what is missing; an existing Incus is never
# re-initialised. Prints one line per thing it did or found. Run as root.
#
# Environment:
#   ANKLUME_INCUS_BRIDGE_ADDRESS  address/prefix of incusbr0 (default 10.250.0.1/24)
#   ANKLUME_INCUS_PACKAGES        packages to install (default: incus)
#
# Exit codes: 0 ok, 1 failure, 2 not root / unsupported host.
set -euo pipefail

readonly POOL=default
readonly BRIDGE=incusbr0
readonly BRIDGE_ADDRESS=${ANKLUME_INCUS_BRIDGE_ADDRESS:-10.250.0.1/24}
readonly PACKAGES=${ANKLUME_INCUS_PACKAGES:-incus}
readonly INCUSD=/usr/libexec/incus/incusd
readonly LOGFILE=/var/log/incus/incusd.log
readonly BACKPORTS_FILE=/etc/apt/sources.list.d/backports.sources
readonly KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg

say() { echo "incus-setup: $*"; }
die() { echo "incus-setup: error: $*" >&2; exit "${2:-1}"; }

apt_install() {
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null
}

# --- host checks -------------------------------------------------------------

require_root() {
    if [ "$(id -u)" -ne 0 ]; then
        die "must run as root (try: sudo $0)" 2
    fi
}

codename() {
    local name=""
    if [ -r /etc/os-release ]; then
        # shellcheck disable=SC1091  # the host's own file, read for VERSION_CODENAME
        name=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
    fi
    echo "$name"
}

# The mirror of the main Debian entry: deb822 first, then one-line format.
debian_mirror() {
    local release=$1 file=/etc/apt/sources.list.d/debian.sources uri=""
    if [ -r "$file" ]; then
        uri=$(awk -v rel="$release" '
            /^[[:space:]]*$/ { if (u != "" && s) { print u; exit } u = ""; s = 0; next }
            /^URIs:/ { u = $2 }
            /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == rel) s = 1 }
            END { if (u != "" && s) print u }' "$file" | head -n1)
    fi
    if [ -z "$uri" ] && [ -r /etc/apt/sources.list ]; then
        uri=$(awk -v rel="$release" '$1 == "deb" && $0 !~ /\[/ && $3 == rel { print $2; exit }
                                     $1 == "deb" && $0 ~ /\]/ {
                                         for (i = 2; i <= NF; i++) if ($i ~ /\]$/) break
                                         if ($(i + 2) == rel) { print $(i + 1); exit } }' \
            /etc/apt/sources.list)
    fi
    echo "${uri:-http://deb.debian.org/debian}"
}

# --- packages ----------------------------------------------------------------

ensure_backports() {
    local release=$1 mirror
    if grep -rqs -- "${release}-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
        say "apt source ${release}-backports already configured"
        return
    fi
    mirror=$(debian_mirror "$release")
    cat >"$BACKPORTS_FILE" <<EOF
Types: deb
URIs: $mirror
Suites: ${release}-backports
Components: main
Signed-By: $KEYRING
EOF
    say "added apt source ${release}-backports ($mirror) in $BACKPORTS_FILE"
}

ensure_incus_installed() {
    local release apt_target=()
    if command -v incus >/dev/null 2>&1; then
        say "incus already installed ($(incus --version 2>/dev/null || echo unknown version))"
        return
    fi
    command -v apt-get >/dev/null 2>&1 || die "incus is missing and this host has no apt-get; install Incus 6.0 LTS by hand" 2
    release=$(codename)
    case "$release" in
        bookworm)
            ensure_backports "$release"
            apt_target=(-t bookworm-backports)
            ;;
        bullseye | buster | stretch | "")
            die "Debian release '${release:-unknown}' is not supported: use Debian 12 (bookworm) or later" 2
            ;;
        *) ;;  # trixie and later: Incus is in main
    esac
    say "installing ${PACKAGES} ${apt_target[*]:-from main} (a few minutes)"
    apt-get update -q >/dev/null
    # shellcheck disable=SC2086  # PACKAGES is a space-separated package list
    apt_install "${apt_target[@]}" $PACKAGES
    say "installed incus $(incus --version)"
}

ensure_tools() {
    local missing=() pkg cmd
    for pkg in nftables:nft debootstrap:debootstrap; do
        cmd=${pkg#*:}
        if command -v "$cmd" >/dev/null 2>&1 || [ -x "/usr/sbin/$cmd" ]; then
            say "${pkg%%:*} already installed"
        else
            missing+=("${pkg%%:*}")
        fi
    done
    if [ "${#missing[@]}" -gt 0 ]; then
        command -v apt-get >/dev/null 2>&1 || die "missing ${missing[*]} and no apt-get" 2
        apt-get update -q >/dev/null
        apt_install "${missing[@]}"
        say "installed ${missing[*]}"
    fi
}

# --- daemon ------------------------------------------------------------------

ensure_daemon() {
    if incus info >/dev/null 2>&1; then
        say "incus daemon already running"
        return
    fi
    if [ -d /run/systemd/system ] && [ "$(ps -p 1 -o comm= 2>/dev/null)" = systemd ]; then
        systemctl start incus.service
        say "started incus daemon (systemctl start incus)"
    else
        [ -x "$INCUSD" ] || die "$INCUSD not found"
        mkdir -p "$(dirname "$LOGFILE")"
        setsid "$INCUSD" --group root --logfile "$LOGFILE" </dev/null >/dev/null 2>&1 &
        say "started incus daemon without systemd (pid $!, log $LOGFILE)"
    fi
    incus admin waitready --timeout 60 || die "incus daemon did not become ready within 60 s (see $LOGFILE)"
    incus info >/dev/null 2>&1 || die "incus daemon started but does not answer (see $LOGFILE)"
}

# --- kernel limits -------------------------------------------------------------

# Each container's systemd takes inotify instances from one per-user budget
# (fs.inotify.max_user_instances, 128 by default: about 15 containers). Incus
# ships /etc/sysctl.d/10-incus-inotify.conf, applied at boot only; a host that
# has not rebooted since, or runs without systemd, still has the default and
# its containers exit at boot with "Too many open files".
ensure_inotify_limit() {
    local key=fs.inotify.max_user_instances conf=/etc/sysctl.d/10-incus-inotify.conf wanted live
    wanted=1024
    if [ -r "$conf" ]; then
        wanted=$(awk -F= -v k="$key" '{ gsub(/[ \t]/, "") } $1 == k { print $2 }' "$conf" | tail -n1)
        [ -n "$wanted" ] || wanted=1024
    fi
    live=$(sysctl -n "$key" 2>/dev/null || echo 0)
    if [ "$live" -ge "$wanted" ]; then
        say "$key already $live (at least $wanted)"
        return
    fi
    if sysctl -q -w "$key=$wanted" >/dev/null 2>&1; then
        say "raised $key from $live to $wanted (persisted by $conf)"
        if [ ! -r "$conf" ]; then
            echo "$key = $wanted" >"$conf"
        fi
    else
        say "warning: $key is $live and cannot be raised here; containers may exit at boot (set it to $wanted on the host)"
    fi
}

# --- pool, bridge, profile ---------------------------------------------------

pools() { incus storage list --format csv --columns n; }

ensure_pool() {
    local existing
    existing=$(pools)
    if grep -qx -- "$POOL" <<<"$existing"; then
        say "storage pool '$POOL' already exists"
    elif [ -n "$existing" ]; then
        say "storage pool(s) already exist ($(tr '\n' ' ' <<<"$existing" | sed 's/ $//')); not creating '$POOL'"
    else
        incus storage create "$POOL" dir >/dev/null
        say "created storage pool '$POOL' (dir)"
    fi
}

ip_to_int() {
    local a b c d
    IFS=. read -r a b c d <<<"$1"
    echo $(((a << 24) | (b << 16) | (c << 8) | d))
}

# Prints the host routes/addresses that overlap CIDR, if any.
overlapping_routes() {
    local cidr=$1 net len lo hi route rnet rlen rlo rhi
    net=${cidr%/*}
    len=${cidr#*/}
    lo=$(( $(ip_to_int "$net") & (0xFFFFFFFF << (32 - len)) & 0xFFFFFFFF ))
    hi=$((lo + (1 << (32 - len)) - 1))
    while read -r route; do
        [ -n "$route" ] || continue
        rnet=${route%/*}
        rlen=32
        [ "$route" = "${route#*/}" ] || rlen=${route#*/}
        [ "$rlen" -gt 0 ] || continue
        rlo=$(( $(ip_to_int "$rnet") & (0xFFFFFFFF << (32 - rlen)) & 0xFFFFFFFF ))
        rhi=$((rlo + (1 << (32 - rlen)) - 1))
        if [ "$rlo" -le "$hi" ] && [ "$lo" -le "$rhi" ]; then
            echo "$route"
        fi
    done < <(ip -4 -o route show table all 2>/dev/null | awk '$1 ~ /^[0-9.]+(\/[0-9]+)?$/ { print $1 }'
             ip -4 -o addr show 2>/dev/null | awk '{ print $4 }')
}

profile_has() {  # profile_has TYPE: true when the default profile has a device of TYPE
    local dev
    while read -r dev; do
        [ -n "$dev" ] || continue
        if [ "$(incus profile device get default "$dev" type 2>/dev/null)" = "$1" ]; then
            return 0
        fi
    done < <(incus profile device list default 2>/dev/null)
    return 1
}

ensure_bridge() {
    local taken
    if incus network show "$BRIDGE" >/dev/null 2>&1; then
        say "network '$BRIDGE' already exists"
        return
    fi
    if profile_has nic; then
        say "default profile already has a network device; not creating '$BRIDGE'"
        return
    fi
    taken=$(overlapping_routes "$BRIDGE_ADDRESS" | sort -u | tr '\n' ' ' | sed 's/ $//')
    if [ -n "$taken" ]; then
        die "subnet of $BRIDGE_ADDRESS is already used on this host ($taken); set ANKLUME_INCUS_BRIDGE_ADDRESS to a free address/prefix"
    fi
    incus network create "$BRIDGE" "ipv4.address=$BRIDGE_ADDRESS" ipv4.nat=false ipv6.address=none >/dev/null
    say "created network '$BRIDGE' ($BRIDGE_ADDRESS, nat off, no IPv6)"
}

ensure_profile_devices() {
    local pool
    if profile_has disk; then
        say "default profile already has a root disk"
    else
        pool=$(pools | head -n1)
        [ -n "$pool" ] || die "no storage pool to put the default profile's root disk on"
        incus profile device add default root disk path=/ "pool=$pool" >/dev/null
        say "added root disk (pool '$pool') to the default profile"
    fi
    if profile_has nic; then
        say "default profile already has a network device"
    elif incus network show "$BRIDGE" >/dev/null 2>&1; then
        incus profile device add default eth0 nic "network=$BRIDGE" name=eth0 >/dev/null
        say "added eth0 (network '$BRIDGE') to the default profile"
    fi
}

main() {
    [ "$#" -eq 0 ] || die "usage: $0 (no arguments; see the header for environment variables)" 2
    require_root
    ensure_incus_installed
    ensure_tools
    ensure_daemon
    ensure_inotify_limit
    ensure_pool
    ensure_bridge
    ensure_profile_devices
    say "ready ($(incus --version))"
}

# Sourcing the script (tests) defines the functions without running anything.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    main "$@"
fi
