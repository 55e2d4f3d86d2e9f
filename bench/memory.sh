#!/usr/bin/env bash
# Memory per executor as the input grows: the native library's heap, the JVM side's Arrow memory and the JVM's
# resident memory, ours and Spark's noop sink, 1 M to 100 M rows per partition (BENCHMARKS.md, "Memory"); into
# bench/results-memory/ unless --out says otherwise.
#
#   bench/memory.sh                                                 the full run (~25 min)
#   bench/memory.sh --sizes 1000000,10000000 --out .work/mem        a quicker look
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
source "$ROOT/bench/lib.sh"
cd "$ROOT"

run_bench_module memory "$ROOT/bench/results-memory" "the memory benchmark" "$@"
