#!/usr/bin/env bash
# Where a Spark client's CPU goes, stage by stage, sampled with perf (BENCHMARKS.md, "Where the CPU goes");
# into .work/bench-profile/ unless --out says otherwise. Needs `perf` (linux-tools) and the right to sample
# one's own processes (kernel.perf_event_paranoid <= 2).
#
#   bench/profile.sh                                   ours with dryRun: rows to Arrow, JNI, validation, encoding
#   bench/profile.sh --client ours-batch               the same, sending (BatchWriteRecord, 0 ms)
#   bench/profile.sh --client spark-noop --rows 2000000 --seconds 30
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
source "$ROOT/bench/lib.sh"
cd "$ROOT"

command -v perf >/dev/null || { echo "bench/profile.sh needs perf (linux-tools)" >&2; exit 1; }
# The jar's build leaves its native library, with its symbols, in target/x86_64-unknown-linux-gnu/release.
run_bench_module profile "$WORK/bench-profile" "profiling" \
  --native-dir "$ROOT/target/x86_64-unknown-linux-gnu/release" "$@"
