#!/usr/bin/env bash
# The cost of one write, small and large, ours and AWS's connector side by side in warm sessions, with Spark's
# noop sink and our dryRun as references (BENCHMARKS.md, "The cost of a write"); into bench/results-write-cost/
# unless --out says otherwise.
#
#   bench/write-cost.sh                                   1 to 1,000,000 rows per write, the four clients
#   bench/write-cost.sh --clients ours-batch --sizes 1,1000 --writes 5,5 --out .work/wc   a quick look
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
source "$ROOT/bench/lib.sh"
cd "$ROOT"

run_bench_module write_cost "$ROOT/bench/results-write-cost" "the write-cost benchmark" "$@"
