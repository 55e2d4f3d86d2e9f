# What the benchmark commands share (bench/run.sh, limit.sh, write-cost.sh, profile.sh).
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

# Runs `python -m featurebench.$1` with the set-up every benchmark takes (venv, build, --out, --work, the store
# binary, the jar), after the command line's own arguments: `--out DIR` (default $2) is taken out, the rest
# passed on. $3 names the benchmark in the log line with the load average.
run_bench_module() {
  local module="$1" out="$2" name="$3" args=()
  shift 3
  while [ $# -gt 0 ]; do
    case "$1" in
      --out) out="$2"; shift 2 ;;
      *) args+=("$1"); shift ;;
    esac
  done
  ensure_bench_venv
  ensure_bench_build
  require_bench_build
  mkdir -p "$out"
  out="$(cd "$out" && pwd)"
  log "load average before $name: $(cut -d' ' -f1-3 /proc/loadavg)"
  cd "$ROOT/bench"
  exec "$BENCH_VENV/bin/python" -m "featurebench.$module" \
    --out "$out" --work "$WORK/bench" --store-binary "$STORE_BIN" --jar "$JAR" "${args[@]}"
}
