#!/usr/bin/env bash
# The cost of one write, small and large, ours and AWS's connector side by side in warm sessions
# (BENCHMARKS.md, "The cost of a write"); into bench/results-write-cost/ unless --out says otherwise.
#
#   bench/write-cost.sh                                   1 to 1,000,000 rows per write, both connectors
#   bench/write-cost.sh --clients ours-batch --sizes 1,1000 --writes 5,5 --out .work/wc   a quick look
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
source "$ROOT/bench/lib.sh"
cd "$ROOT"

out="$ROOT/bench/results-write-cost" args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
ensure_bench_venv
ensure_bench_build
require_bench_build
mkdir -p "$out"
out="$(cd "$out" && pwd)"
log "load average before the write-cost benchmark: $(cut -d' ' -f1-3 /proc/loadavg)"
cd "$ROOT/bench"
exec "$BENCH_VENV/bin/python" -m featurebench.write_cost \
  --out "$out" --work "$WORK/bench" --store-binary "$STORE_BIN" --jar "$JAR" "${args[@]}"
