#!/usr/bin/env bash
# The Spark connector: Maven build and ScalaTest suites for Spark 3.5 / Scala 2.12 against the release
# featurestore-local (started here, on a free port, and given to the suites as FEATURESTORE_LOCAL_ENDPOINT), then
# the same suites and the packaged-jar checks for Spark 4.2 / Scala 2.13. Maven's dependencies go to ~/.m2
# (downloaded on a fresh machine).
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
cd "$ROOT"

ensure_venv
ensure_store_binary
start_store "$WORK/jvm-store"
trap stop_store EXIT
export FEATURESTORE_LOCAL_ENDPOINT="$STORE_ENDPOINT"
# The suites read the offline store's Parquet files (DeleteSuite: the is_deleted markers) from its data directory.
export FEATURESTORE_LOCAL_DATA_DIR="$WORK/jvm-store"
log "featurestore-local for the suites at $FEATURESTORE_LOCAL_ENDPOINT"

# verify = compile, build the native library (scripts/build-native.sh), test, package, then the packaged-jar suite.
log "mvn verify (Spark 3.5 / Scala 2.12)"
mvn -B -q -f jvm/pom.xml verify

# Spark 4: the same sources and suites against Spark 4.2 / Scala 2.13 (the native library is already built),
# plus the packaged-jar checks of the _2.13 jar.
log "mvn verify -Pspark-4 (Spark 4.2 / Scala 2.13)"
mvn -B -q -f jvm/pom.xml -Pspark-4 verify

ls -l jvm/target/scala-2.12/featurestore-spark_2.12-*.jar jvm/target/scala-2.13/featurestore-spark_2.13-*.jar >&2
