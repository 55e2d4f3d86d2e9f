#!/usr/bin/env bash
# Rust: formatting, lints, unit and integration tests of every crate (integration tests start
# featurestore-local themselves on free ports).
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
cd "$ROOT"
cargo fmt --all -- --check
cargo clippy --release --workspace --all-targets --locked -- -D warnings
cargo test --release --workspace --locked
