#!/usr/bin/env bash
# Benchmarks side by side with the peers (BENCHMARKS.md): installs the peers in a venv, builds what is missing
# (the release featurestore-local, our connector's jar), runs the matrix against featurestore-local on
# 127.0.0.1, and writes results.jsonl, results.md and chart.png.
#
#   bench/run.sh                    the full matrix: 3 rounds x latency 0 and 5 ms x 5 clients, into bench/results/
#   bench/run.sh --smoke --rounds 1 small sizes, one round (scripts/test/60-bench-smoke.sh), into .work/bench-smoke/
#   bench/run.sh --help             every option (rounds, latencies, clients, scale, SDK processes/workers, pinning)
#
# --no-build skips the build step (use the store binary and jar as they are); --rebuild-jar forces a jar build.
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
source "$ROOT/bench/lib.sh"
cd "$ROOT"

build=1 rebuild_jar=0 smoke=0 out="" args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) build=0; shift ;;
    --rebuild-jar) rebuild_jar=1; shift ;;
    --out) out="$2"; shift 2 ;;
    --smoke) smoke=1; args+=("$1"); shift ;;
    *) args+=("$1"); shift ;;
  esac
done
# The full run's default output is the committed one, and it refreshes the results block of BENCHMARKS.md.
if [ -z "$out" ]; then
  if [ "$smoke" = 1 ]; then
    out="$WORK/bench-smoke"
  else
    out="$ROOT/bench/results"
    args+=(--doc "$ROOT/BENCHMARKS.md")
  fi
fi

ensure_bench_venv
if [ "$build" = 1 ]; then
  ensure_bench_build "$rebuild_jar"
fi
mkdir -p "$out"
out="$(cd "$out" && pwd)"
require_bench_build

log "load average before the matrix: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews the figures)"
cd "$ROOT/bench"
exec "$BENCH_VENV/bin/python" -m featurebench.matrix \
  --out "$out" --work "$WORK/bench" --store-binary "$STORE_BIN" --jar "$JAR" "${args[@]}"
