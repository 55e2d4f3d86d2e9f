#!/usr/bin/env bash
# Freshness (BENCHMARKS.md, "Freshness from Kafka"): end-to-end latency from an event produced to Kafka until its
# record is readable online, p50/p99, at a steady rate and at a burst, with a 1 s processing-time trigger; ours
# (writeStream.format("featurestore")) and AWS's connector (foreachBatch + ingest_data) against the local store
# and a local Kafka broker (tests/kafka). Into bench/results-freshness/ unless --out says otherwise.
#
#   bench/freshness.sh                                       both connectors, 100 events/s for 30 s, a burst of 5000
#   bench/freshness.sh --connectors ours --seconds 10 --burst 1000 --out .work/fresh     a quick look
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
source "$ROOT/bench/lib.sh"
cd "$ROOT"

run_bench_module freshness "$ROOT/bench/results-freshness" "the freshness benchmark" "$@"
