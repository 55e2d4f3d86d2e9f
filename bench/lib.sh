# What the benchmark commands share (bench/run.sh, bench/limit.sh).
# Source it after scripts/lib.sh; do not run it.

BENCH_VENV="$ROOT/.venv-bench"
STORE_BIN="$ROOT/target/release/featurestore-local"
JAR="$ROOT/$(connector_jar 2.12)"

# The venv with the pinned peers (AWS's connector's wheel is ~360 MB).
ensure_bench_venv() {
  ensure_venv_at "$BENCH_VENV" "$ROOT/bench/requirements.txt"
}

# The jar is rebuilt when missing or older than a source it is built from (Scala, the engine, the JNI crate).
jar_is_stale() {
  [ ! -f "$JAR" ] && return 0
  [ -n "$(find "$ROOT/jvm/src" "$ROOT/jvm/pom.xml" "$ROOT/rust/core/src" "$ROOT/rust/core/Cargo.toml" \
    "$ROOT/rust/jni" "$ROOT/Cargo.lock" -newer "$JAR" -print -quit)" ]
}

# The release store and our jar, built when missing or stale ($1 = 1 forces the jar), then checked.
ensure_bench_build() {
  ensure_store_binary
  if [ "${1:-0}" = 1 ] || jar_is_stale; then
    log "mvn package (our connector's jar with its native library)"
    mvn -B -q -f "$ROOT/jvm/pom.xml" package -DskipTests
  fi
}

require_bench_build() {
  [ -x "$STORE_BIN" ] || { echo "missing $STORE_BIN (run without --no-build)" >&2; exit 1; }
  [ -f "$JAR" ] || { echo "missing $JAR (run without --no-build)" >&2; exit 1; }
}
