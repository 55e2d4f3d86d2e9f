#!/usr/bin/env bash
# Runs every test of the project. Works on a fresh machine: installs what it needs (Rust build, a Python venv
# with pinned packages, Maven dependencies) and starts and stops every server it uses.
# The stages run in order; each is a script in scripts/test/ that can also be run alone.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

start=$(date +%s)
for stage in scripts/test/[0-9]*.sh; do
  t0=$(date +%s)
  log "=== stage $(basename "$stage")"
  bash "$stage"
  log "=== stage $(basename "$stage") passed in $(( $(date +%s) - t0 )) s"
done
log "all tests passed in $(( $(date +%s) - start )) s"
