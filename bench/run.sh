#!/usr/bin/env bash
# Benchmarks side by side with the peers (BENCHMARKS.md): installs the peers in a venv, builds what is missing
# (the release featurestore-local, our connector's jar), runs the matrix against featurestore-local on
# 127.0.0.1, and writes results.jsonl, results.md and chart.png.
#
#   bench/run.sh                    the full matrix: 3 rounds x latency 0 and 5 ms x 5 clients, into bench/results/
#   bench/run.sh --smoke --rounds 1 small sizes, one round (scripts/test/60-bench-smoke.sh), into .work/bench-smoke/
#   bench/run.sh --help             every option (rounds, latencies, clients, scale, SDK processes/workers, pinning)
#
# --no-build skips the build step (use the store binary and jar as they are); --rebuild-jar forces a jar build.
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
cd "$ROOT"

BENCH_VENV="$ROOT/.venv-bench"
STORE_BIN="$ROOT/target/release/featurestore-local"
JAR="$ROOT/$(connector_jar 2.12)"

build=1 rebuild_jar=0 smoke=0 out="" args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) build=0; shift ;;
    --rebuild-jar) rebuild_jar=1; shift ;;
    --out) out="$2"; shift 2 ;;
    --smoke) smoke=1; args+=("$1"); shift ;;
    *) args+=("$1"); shift ;;
  esac
done
# The full run's default output is the committed one, and it refreshes the results block of BENCHMARKS.md.
if [ -z "$out" ]; then
  if [ "$smoke" = 1 ]; then
    out="$WORK/bench-smoke"
  else
    out="$ROOT/bench/results"
    args+=(--doc "$ROOT/BENCHMARKS.md")
  fi
fi

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
  [ -n "$(find jvm/src jvm/pom.xml rust/core/src rust/core/Cargo.toml rust/jni Cargo.lock -newer "$JAR" -print -quit)" ]
}

ensure_bench_venv
if [ "$build" = 1 ]; then
  ensure_store_binary
  if [ "$rebuild_jar" = 1 ] || jar_is_stale; then
    log "mvn package (our connector's jar with its native library)"
    mvn -B -q -f jvm/pom.xml package -DskipTests
  fi
fi
mkdir -p "$out"
out="$(cd "$out" && pwd)"
[ -x "$STORE_BIN" ] || { echo "missing $STORE_BIN (run without --no-build)" >&2; exit 1; }
[ -f "$JAR" ] || { echo "missing $JAR (run without --no-build)" >&2; exit 1; }

log "load average before the matrix: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews the figures)"
cd "$ROOT/bench"
exec "$BENCH_VENV/bin/python" -m featurebench.matrix \
  --out "$out" --work "$WORK/bench" --store-binary "$STORE_BIN" --jar "$JAR" "${args[@]}"
