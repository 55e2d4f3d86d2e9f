#!/usr/bin/env bash
# At the service's limit (BENCHMARKS.md): ours and AWS's connector (both modes) side by side against
# featurestore-local's records-per-second cap, with the share of the cap reached, the records failed, the share
# of requests throttled, and the seconds to settle after the cap halves and comes back. Installs the peers'
# venv and builds what is missing, like bench/run.sh, then runs featurebench.limit.
#
#   bench/limit.sh                  the full matrix: caps 2k/20k/100k x 0/5 ms x 2/8 tasks x 3 clients, and the step
#                                   scenario at 20k/s, 0 ms, 8 tasks (~80 min on 2 cores), into bench/results-limit/
#                                   and the limit-results block of BENCHMARKS.md
#   bench/limit.sh --smoke          AWS's batch mode at one tiny setting and ours in a tiny step run
#                                   (scripts/test/60-bench-smoke.sh), into .work/bench-limit-smoke/
#   bench/limit.sh --caps 2000 --latencies 0 --tasks 2 --step none     one setting, every client
#   bench/limit.sh --clients ours-batch,ours-fixed,aws-batch           with ours' adaptive rate control off too
#   bench/limit.sh --help           every option
#
# --no-build skips the build step; --rebuild-jar forces a jar build. Only the full matrix writes to
# bench/results-limit/ and BENCHMARKS.md by default; a narrowed run (--caps, --latencies, --tasks, --clients,
# --step, --only-step, --duration, ...) goes to .work/bench-limit/ unless --out DIR says otherwise, and refreshes
# a document's block only with --doc FILE.
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
source "$ROOT/bench/lib.sh"
cd "$ROOT"

build=1 rebuild_jar=0 smoke=0 narrowed=0 doc=0 out="" args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) build=0; shift ;;
    --rebuild-jar) rebuild_jar=1; shift ;;
    --out) out="$2"; shift 2 ;;
    --smoke) smoke=1; args+=("$1"); shift ;;
    --doc) doc=1; args+=("$1" "$2"); shift 2 ;;
    --caps|--latencies|--tasks|--clients|--step|--step-clients|--duration|--step-duration|--warmup|--max-warmup|\
    --steady-after)
      narrowed=1; args+=("$1" "$2"); shift 2 ;;
    --only-step) narrowed=1; args+=("$1"); shift ;;
    -h|--help) ensure_bench_venv; cd "$ROOT/bench"; exec "$BENCH_VENV/bin/python" -m featurebench.limit --help ;;
    *) args+=("$1"); shift ;;
  esac
done
# Only the full matrix refreshes the committed results and BENCHMARKS.md by default.
if [ -z "$out" ]; then
  if [ "$smoke" = 1 ]; then
    out="$WORK/bench-limit-smoke"
  elif [ "$narrowed" = 1 ]; then
    out="$WORK/bench-limit"
  else
    out="$ROOT/bench/results-limit"
    [ "$doc" = 1 ] || args+=(--doc "$ROOT/BENCHMARKS.md")
  fi
fi

ensure_bench_venv
[ "$build" = 1 ] && ensure_bench_build "$rebuild_jar"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
require_bench_build

log "load average before the limit benchmark: $(cut -d' ' -f1-3 /proc/loadavg)" \
  "(other work on the machine skews the figures)"
cd "$ROOT/bench"
exec "$BENCH_VENV/bin/python" -m featurebench.limit \
  --out "$out" --work "$WORK/bench" --store-binary "$STORE_BIN" --jar "$JAR" "${args[@]}"
