#!/usr/bin/env bash
# The benchmark harness at smoke sizes, so that it cannot rot: every client of the matrix (ours in both modes,
# AWS's connector in both modes, the SageMaker SDK, and the two references that send nothing) writes a few hundred to a few thousand rows once, at 5 ms of
# added store latency, through the same code as the full run (bench/run.sh), with the store checking every
# request's signature (the Java SDK in AWS's connector, boto3 in the SageMaker SDK, ours). A run fails the stage when the
# client fails, when the store's count of records received differs from the rows written, or when records read
# back differ from the data set. Installs the peers' venv (.venv-bench, ~360 MB wheel) on a fresh machine.
# Then the limit benchmark (bench/limit.sh) at smoke sizes: AWS's connector in batch mode under a cap of 2,000
# records/s (0 ms, 2 tasks) and ours in the step scenario at that cap, through the same code as its full run; a
# run fails the stage when the client fails or a figure is missing. Its figures mean nothing: the sizes are far
# too small. Then the write-cost benchmark (bench/write-cost.sh --smoke): both connectors, 1- and 1,000-row
# writes after a few seconds of warm-up. Last, the memory benchmark (bench/memory.sh --smoke).
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
cd "$ROOT"

out="$WORK/bench-smoke"
rm -rf "$out"
bash bench/run.sh --smoke --rounds 1 --latencies 5 --out "$out"

# The matrix exits non-zero when a run did not count; check that the outputs are all there too: one successful
# run per client of the matrix (the two references included), however many clients it has.
expected=$(cd bench && "$ROOT/.venv-bench/bin/python" -c 'from featurebench import clients; print(len(clients.CLIENTS))')
runs=$(grep -c '"status": "ok"' "$out/results.jsonl")
[ "$runs" -eq "$expected" ] || {
  echo "expected $expected successful runs in $out/results.jsonl, found $runs" >&2; exit 1; }
for file in results.md chart.png machine.json; do
  [ -s "$out/$file" ] || { echo "missing $out/$file" >&2; exit 1; }
done
log "bench smoke: $runs clients ran, counted and read back; table and chart written to $out"

# The limit benchmark exits non-zero when a run failed or lacks a figure; check the outputs are all there too:
# the peer's run at the smoke setting and ours in the step scenario.
limit_out="$WORK/bench-limit-smoke"
rm -rf "$limit_out"
bash bench/limit.sh --smoke --out "$limit_out"
limit_runs=$(grep -c '"status": "ok"' "$limit_out/results.jsonl")
[ "$limit_runs" -eq 2 ] || {
  echo "expected 2 successful runs in $limit_out/results.jsonl, found $limit_runs" >&2; exit 1; }
for file in results.md step.png machine.json; do
  [ -s "$limit_out/$file" ] || { echo "missing $limit_out/$file" >&2; exit 1; }
done
log "bench limit smoke: $limit_runs runs under the cap measured; tables and chart written to $limit_out"

# The write-cost benchmark: both connectors, 1- and 1,000-row writes after a short warm-up; its table must list both.
cost_out="$WORK/bench-write-cost-smoke"
rm -rf "$cost_out"
bash bench/write-cost.sh --smoke --clients ours-batch,aws-batch --out "$cost_out"
[ "$(grep -c '^| 1,000 |' "$cost_out/write-cost.md")" -eq 1 ] && grep -q "fixed part" "$cost_out/write-cost.md" || {
  echo "the write-cost table in $cost_out/write-cost.md is incomplete" >&2; exit 1; }
log "bench write-cost smoke: table written to $cost_out"

# The memory benchmark: ours and the noop sink, two small writes each; ours must report a counted native heap.
memory_out="$WORK/bench-memory-smoke"
rm -rf "$memory_out"
bash bench/memory.sh --smoke --out "$memory_out"
[ "$(grep -c '^| 40,000 |' "$memory_out/memory.md")" -eq 2 ] \
  && [ "$(cd bench && "$ROOT/.venv-bench/bin/python" -c "
import json, sys
rows = [json.loads(l) for l in open('$memory_out/memory.jsonl')]
ours = [w for r in rows if r['client'] == 'ours-batch' for w in r['writes']]
print(int(bool(ours) and all(w['native_peak_bytes'] > 0 for w in ours)))")" = 1 ] || {
  echo "the memory table in $memory_out/memory.md is incomplete, or ours reported no native heap" >&2; exit 1; }
log "bench memory smoke: table written to $memory_out"
