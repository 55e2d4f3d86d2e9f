#!/usr/bin/env bash
# Throughput of featurestore-local on one core: BatchWriteRecord calls of 25 records x 20 features from
# featurestore-local-loadgen (a lean hyper client, many calls in flight, bodies built once), with the store
# pinned to CPU 0 and the load generator to CPU 1. Reports records/s and the store's CPU time per call and per
# record (utime + stime from /proc/<pid>/stat over the measured window), the median of RUNS runs.
#
#   scripts/bench-local.sh                    # 3 runs of 10 s, online + offline stores
#   RUNS=5 DURATION=20 scripts/bench-local.sh
#   ONLINE_ONLY=1 scripts/bench-local.sh      # feature group without an offline store
#   KEY_SPACE=100000 scripts/bench-local.sh   # overwrite 100,000 records instead of always new ones
#
# Other processes on the machine skew the records/s figure; the CPU time per record is the steadier number.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

RUNS="${RUNS:-3}"
DURATION="${DURATION:-10}"
WARMUP="${WARMUP:-3}"
CONNECTIONS="${CONNECTIONS:-64}"
KEY_SPACE="${KEY_SPACE:-0}"
out="$WORK/bench-local"
rm -rf "$out"
mkdir -p "$out"

log "cargo build --release -p featurestore-local (store and load generator)"
cargo build --release --locked -p featurestore-local

if [ "$(nproc)" -ge 2 ]; then
  server_cpu=(taskset -c 0)
  client_cpu=(taskset -c 1)
else
  log "only one CPU: store and load generator share it"
  server_cpu=()
  client_cpu=()
fi
extra=()
if [ -n "${ONLINE_ONLY:-}" ]; then extra+=(--online-only); fi

for run in $(seq 1 "$RUNS"); do
  data="$out/data-$run"
  coproc STORE { exec "${server_cpu[@]}" target/release/featurestore-local --port 0 --data-dir "$data" 2>"$out/store-$run.log"; }
  pid=$STORE_PID
  trap 'kill "$pid" 2>/dev/null || true' EXIT
  read -r -t 60 ready <&"${STORE[0]}" || { log "the store did not start; see $out/store-$run.log"; exit 1; }
  endpoint="${ready##* }"
  "${client_cpu[@]}" target/release/featurestore-local-loadgen --endpoint "$endpoint" --create \
    --server-pid "$pid" --connections "$CONNECTIONS" --warmup-secs "$WARMUP" --duration-secs "$DURATION" \
    --key-space "$KEY_SPACE" "${extra[@]}" >"$out/run-$run.json"
  kill -TERM "$pid"
  wait "$pid"
  trap - EXIT
  log "run $run: $(cat "$out/run-$run.json")"
  rm -rf "$data"
done

python3 - "$out" "$RUNS" <<'PY'
import json, statistics, sys
out, runs = sys.argv[1], int(sys.argv[2])
results = [json.load(open(f"{out}/run-{i}.json")) for i in range(1, runs + 1)]
def median(key):
    return statistics.median(r[key] for r in results)
failed = sum(r["failed_calls"] + r["entry_errors"] for r in results)
summary = {
    "runs": runs,
    "entries_per_call": results[0]["entries_per_call"],
    "features_per_record": results[0]["features_per_record"],
    "records_per_second_median": median("records_per_second"),
    "records_per_second_runs": [round(r["records_per_second"]) for r in results],
    "server_cpu_us_per_call_median": median("server_cpu_us_per_call"),
    "server_cpu_us_per_record_median": median("server_cpu_us_per_record"),
    "server_cpu_share_of_one_core_median": median("server_cpu_share_of_one_core"),
    "loadgen_cpu_us_per_record_median": median("loadgen_cpu_us_per_record"),
    "failed": failed,
}
json.dump(summary, open(f"{out}/summary.json", "w"), indent=1)
print(
    f"featurestore-local, one core: {summary['records_per_second_median']:,.0f} records/s (median of {runs}: "
    f"{summary['records_per_second_runs']}), store CPU {summary['server_cpu_us_per_call_median']:.1f} us per call of "
    f"{summary['entries_per_call']} records, {summary['server_cpu_us_per_record_median']:.2f} us per record, "
    f"{summary['server_cpu_share_of_one_core_median']:.0%} of its core busy; load generator "
    f"{summary['loadgen_cpu_us_per_record_median']:.2f} us per record; failed {failed}"
)
sys.exit(1 if failed else 0)
PY
