#!/usr/bin/env bash
# featurestore-local through boto3 (tests/local): every control plane and runtime operation, every validation
# rule, the offline store read back with pyarrow, restarts, the AWS_ENDPOINT_URL_* variables, faults and stats.
# Builds the release binary and the venv if needed; each test module starts its own store on a free port.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
cd "$ROOT"

ensure_venv
log "cargo build --release -p featurestore-local"
cargo build --release --locked -p featurestore-local
run_pytest tests/local -p no:cacheprovider --basetemp="$WORK/pytest-local" -q -ra
