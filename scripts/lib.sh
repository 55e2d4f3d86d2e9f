# Shared helpers for the project's scripts. Source it; do not run it.
# Everything a fresh machine lacks is installed here, idempotently, under the repository.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export ROOT
# Scratch space for builds, venvs' caches, server data dirs and logs of one run.
WORK="${WORK:-$ROOT/.work}"
export WORK
mkdir -p "$WORK"

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# The JDK every script, test and Spark process uses (Spark 3.5 and 4 both run on 17): $JAVA_HOME if set, else
# the system's OpenJDK 17. The one place a toolchain path is written.
export JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/java-17-openjdk-amd64}"

# A venv at $1 with the pinned packages of requirements file $2, made by Python $3 (default python3); made
# again from scratch only when the requirements file changes.
ensure_venv_at() {
  local venv="$1" req="$2" python="${3:-python3}"
  local stamp="$venv/.requirements.sha" want
  want="$(sha256sum "$req" | cut -d' ' -f1)"
  if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
    return
  fi
  log "installing ${req#"$ROOT"/} into ${venv#"$ROOT"/} ($("$python" --version))"
  local t0; t0=$(date +%s)
  rm -rf "$venv"
  "$python" -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$req"
  echo "$want" >"$stamp"
  log "venv installed in $(( $(date +%s) - t0 )) s"
}

# The test venv (tests/requirements.txt), first on PATH.
ensure_venv() {
  ensure_venv_at "$ROOT/.venv" "$ROOT/tests/requirements.txt"
  export VENV="$ROOT/.venv"
  export PATH="$VENV/bin:$PATH"
}

# .venv-spark4 (tests/spark4-requirements.txt: pyspark 4, which needs Python >= 3.11), made with the first Python
# >= 3.11 found; sets SPARK4_VENV.
ensure_spark4_venv() {
  local python311="" candidate
  for candidate in python3.11 python3.12 python3.13 python3; do
    if command -v "$candidate" >/dev/null &&
       "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)'; then
      python311="$candidate"
      break
    fi
  done
  [ -n "$python311" ] || { echo "pyspark 4 needs Python >= 3.11, and none was found" >&2; return 1; }
  ensure_venv_at "$ROOT/.venv-spark4" "$ROOT/tests/spark4-requirements.txt" "$python311"
  export SPARK4_VENV="$ROOT/.venv-spark4"
}

# The release featurestore-local that the tests, examples and main job start.
ensure_store_binary() {
  log "cargo build --release -p featurestore-local"
  (cd "$ROOT" && cargo build --release --locked -p featurestore-local)
}

# Starts featurestore-local (tests/local/fslocal.py, the one launcher every harness uses) with data directory $1
# for a harness that cannot start it itself; sets STORE_ENDPOINT and STORE_PID. Stop it with stop_store.
start_store() {
  local endpoint_file="$1.endpoint"
  rm -rf "$1" "$endpoint_file"
  "$VENV/bin/python" "$ROOT/tests/local/fslocal.py" serve --data-dir "$1" >"$endpoint_file" &
  STORE_PID=$!
  local waited=0
  until [ -s "$endpoint_file" ]; do
    kill -0 "$STORE_PID" 2>/dev/null || { echo "featurestore-local did not start (log: $1.log)" >&2; return 1; }
    sleep 0.1
    waited=$((waited + 1))
    [ "$waited" -lt 600 ] || { echo "featurestore-local not ready after 60 s (log: $1.log)" >&2; return 1; }
  done
  STORE_ENDPOINT="$(head -1 "$endpoint_file")"
  export STORE_ENDPOINT STORE_PID
}

stop_store() {
  [ -n "${STORE_PID:-}" ] || return 0
  kill "$STORE_PID" 2>/dev/null || true
  wait "$STORE_PID" 2>/dev/null || true
  STORE_PID=""
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

# Hadoop's S3A for the Spark tests that write to an S3 server on 127.0.0.1 (offlineWrite=direct): hadoop-aws at the
# Hadoop version pyspark 3.5.9 ships (3.3.4) and the AWS SDK bundle that version was built with, fetched into the
# local Maven repository once. Exports S3A_JARS (comma-separated, as spark.jars takes them).
HADOOP_AWS_VERSION=3.3.4
AWS_SDK_BUNDLE_VERSION=1.12.262
ensure_s3a_jars() {
  local m2="${MAVEN_REPOSITORY:-$HOME/.m2/repository}"
  local aws="$m2/org/apache/hadoop/hadoop-aws/$HADOOP_AWS_VERSION/hadoop-aws-$HADOOP_AWS_VERSION.jar"
  local bundle="$m2/com/amazonaws/aws-java-sdk-bundle/$AWS_SDK_BUNDLE_VERSION/aws-java-sdk-bundle-$AWS_SDK_BUNDLE_VERSION.jar"
  [ -f "$aws" ] || mvn -B -q dependency:get -Dartifact="org.apache.hadoop:hadoop-aws:$HADOOP_AWS_VERSION" -Dtransitive=false
  [ -f "$bundle" ] || mvn -B -q dependency:get -Dartifact="com.amazonaws:aws-java-sdk-bundle:$AWS_SDK_BUNDLE_VERSION" -Dtransitive=false
  export S3A_JARS="$aws,$bundle"
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
