# What the benchmark commands share (bench/run.sh, bench/limit.sh).
# Source it after scripts/lib.sh; do not run it.

BENCH_VENV="$ROOT/.venv-bench"
STORE_BIN="$ROOT/target/release/featurestore-local"
JAR="$ROOT/$(connector_jar 2.12)"

# The venv with the pinned peers; re-installed only when bench/requirements.txt changes.
ensure_bench_venv() {
  local req="$ROOT/bench/requirements.txt" stamp="$BENCH_VENV/.requirements.sha" want
  want="$(sha256sum "$req" | cut -d' ' -f1)"
  if [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
    return
  fi
  log "installing bench/requirements.txt into $BENCH_VENV (the AWS connector's wheel is ~360 MB)"
  local t0; t0=$(date +%s)
  rm -rf "$BENCH_VENV"
  python3 -m venv "$BENCH_VENV"
  "$BENCH_VENV/bin/pip" install -q --disable-pip-version-check -r "$req"
  echo "$want" >"$stamp"
  log "venv installed in $(( $(date +%s) - t0 )) s"
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
