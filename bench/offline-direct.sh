#!/usr/bin/env bash
# Backfill cost: offlineWrite=direct against BatchWriteRecord to the offline store, the same cached rows written
# both ways by one Spark JVM on local[1] into featurestore-local (BENCHMARKS.md, "Backfills to the offline store").
# Prints a Markdown table; --rows N (default 500,000) and --repeats N (default 2).
#
#   bench/offline-direct.sh --rows 200000 --repeats 1
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
cd "$ROOT"

ensure_venv
ensure_store_binary
ensure_connector_jar 2.12
rm -rf "$WORK/bench-offline-direct"
mkdir -p "$WORK/bench-offline-direct"
CONNECTOR_JAR="$ROOT/$(connector_jar 2.12)" "$VENV/bin/python" bench/offline_direct_bench.py \
  --work "$WORK/bench-offline-direct" "$@" 2>"$WORK/bench-offline-direct/stderr.log"
