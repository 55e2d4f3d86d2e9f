# Shared helpers for the project's scripts. Source it; do not run it.
# Everything a fresh machine lacks is installed here, idempotently, under the repository.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export ROOT
# Scratch space for builds, venvs' caches, server data dirs and logs of one run.
WORK="${WORK:-$ROOT/.work}"
export WORK
mkdir -p "$WORK"

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# The Python venv with the pinned test packages (tests/requirements.txt). Re-installs only when the
# requirements file changes.
ensure_venv() {
  local venv="$ROOT/.venv" req="$ROOT/tests/requirements.txt"
  if [ ! -x "$venv/bin/python" ]; then
    log "creating $venv"
    python3 -m venv "$venv"
  fi
  local stamp="$venv/.requirements.sha"
  local want; want="$(sha256sum "$req" | cut -d' ' -f1)"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    log "installing $req into $venv"
    "$venv/bin/pip" install -q --disable-pip-version-check -r "$req"
    echo "$want" >"$stamp"
  fi
  export VENV="$venv"
  export PATH="$venv/bin:$PATH"
}

# The release featurestore-local that the tests, examples and main job start.
ensure_store_binary() {
  log "cargo build --release -p featurestore-local"
  (cd "$ROOT" && cargo build --release --locked -p featurestore-local)
}

# The connector's jar for Scala $1 (2.12: Spark 3.5; 2.13: Spark 4), relative to the repository.
connector_jar() {
  echo "jvm/target/scala-$1/featurestore-spark_$1-0.1.0.jar"
}

# Builds the connector's jar for Scala $1 when it is missing (stage 30 normally builds both).
ensure_connector_jar() {
  local jar profile=()
  jar="$(connector_jar "$1")"
  [ "$1" = 2.13 ] && profile=(-Pspark-4)
  if [ ! -f "$ROOT/$jar" ]; then
    log "$jar is missing: mvn ${profile[*]} package -DskipTests"
    mvn -B -q -f "$ROOT/jvm/pom.xml" "${profile[@]}" package -DskipTests
  fi
}

# Runs pytest and treats "no tests collected" (exit code 5) as the setup failure it is.
run_pytest() {
  set +e
  "$VENV/bin/python" -m pytest "$@"
  local rc=$?
  set -e
  if [ "$rc" -eq 5 ]; then
    log "pytest collected no tests: the test setup is broken"
    return 1
  fi
  return "$rc"
}
