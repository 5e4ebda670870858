#!/usr/bin/env bash
# bench/apply.sh's raw floor: launch one instance, `launch-one.sh IMAGE PROJECT NAME`.
set -euo pipefail
incus launch "$1" "$3" --project "$2" >/dev/null
