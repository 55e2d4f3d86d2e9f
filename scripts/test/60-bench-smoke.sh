#!/usr/bin/env bash
# The benchmark harness at smoke sizes, so that it cannot rot: every client of the matrix (ours in both modes,
# AWS's connector in both modes, the SageMaker SDK, and the two references that send nothing) writes a few hundred to a few thousand rows once, at 5 ms of
# added store latency, through the same code as the full run (bench/run.sh). A run fails the stage when the
# client fails, when the store's count of records received differs from the rows written, or when records read
# back differ from the data set. Installs the peers' venv (.venv-bench, ~360 MB wheel) on a fresh machine.
# Its figures mean nothing: the sizes are far too small to time.
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
