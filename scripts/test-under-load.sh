#!/usr/bin/env bash
# The busy-machine proof: keeps every core at 100% with busy loops (one per core, as `nproc` counts them) while
# `pnpm test` runs N times in a row (default 5); stops the loops on exit, whatever happens. Prints one line per run
# and exits non-zero if any run failed. Usage: bash scripts/test-under-load.sh [RUNS] [BUSY_PROCESSES]
set -uo pipefail
cd "$(dirname "$0")/.."
runs="${1:-5}"
busy="${2:-$(nproc)}"
export TURBO_TELEMETRY_DISABLED=1
pids=()
stop() { [ "${#pids[@]}" -gt 0 ] && kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; }
trap stop EXIT
trap 'exit 130' INT TERM
for _ in $(seq "$busy"); do ( while :; do :; done ) & pids+=($!); done
echo "load: $busy busy processes on $(nproc) cores ($(lscpu | sed -n 's/^Model name: *//p'), $(date -u '+%Y-%m-%d %H:%M UTC'))"
logdir="$(mktemp -d)"
failed=0
for i in $(seq "$runs"); do
  start=$(date +%s)
  pnpm test >"$logdir/run-$i.log" 2>&1
  status=$?
  load="$(cut -d' ' -f1 /proc/loadavg)"
  totals="$(sed 's/\x1b\[[0-9;]*m//g' "$logdir/run-$i.log" | grep -E '^\S*:test:\s+Tests\s' | sed 's/^\(\S*\):test:\s*Tests\s*/\1 /' | tr '\n' ';')"
  echo "run $i/$runs: exit $status in $(( $(date +%s) - start )) s, load average $load: $totals"
  [ "$status" = 0 ] || failed=$((failed + 1))
done
echo "under load: $((runs - failed)) of $runs runs passed (logs in $logdir)"
[ "$failed" = 0 ]
