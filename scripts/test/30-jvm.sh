#!/usr/bin/env bash
# The Spark connector: Maven build and ScalaTest suites for Spark 3.5 / Scala 2.12 against the release
# featurestore-local (started here, on a free port, and given to the suites as FEATURESTORE_LOCAL_ENDPOINT) and a
# real Kafka broker (tests/kafka/kafkabroker.py, given as FEATURESTORE_KAFKA_BOOTSTRAP: KafkaStreamingSuite reads
# it with Spark's own Kafka source, spark-sql-kafka-0-10 3.5.1 / 4.2.0), then the same suites and the packaged-jar
# checks for Spark 4.2 / Scala 2.13. Maven's dependencies go to ~/.m2 (downloaded on a fresh machine).
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
cd "$ROOT"

ensure_venv
ensure_store_binary
start_store "$WORK/jvm-store"
KAFKA_PID=""
stop_all() {
  stop_store
  if [ -n "$KAFKA_PID" ]; then kill "$KAFKA_PID" 2>/dev/null || true; wait "$KAFKA_PID" 2>/dev/null || true; fi
}
trap stop_all EXIT
export FEATURESTORE_LOCAL_ENDPOINT="$STORE_ENDPOINT"
# The suites read the offline store's Parquet files (DeleteSuite: the is_deleted markers) from its data directory.
export FEATURESTORE_LOCAL_DATA_DIR="$WORK/jvm-store"
log "featurestore-local for the suites at $FEATURESTORE_LOCAL_ENDPOINT"

# The broker prints its bootstrap servers once it serves metadata (the first start resolves it with Maven).
# The file is removed first: its old contents would be read before the new broker truncates it.
rm -rf "$WORK/jvm-kafka" "$WORK/jvm-kafka.bootstrap" && mkdir -p "$WORK/jvm-kafka"
"$VENV/bin/python" tests/kafka/kafkabroker.py serve --data-dir "$WORK/jvm-kafka" >"$WORK/jvm-kafka.bootstrap" &
KAFKA_PID=$!
deadline=$(( $(date +%s) + 900 ))  # the first start resolves the broker with Maven
until [ -s "$WORK/jvm-kafka.bootstrap" ]; do
  if ! kill -0 "$KAFKA_PID" 2>/dev/null || [ "$(date +%s)" -gt "$deadline" ]; then
    echo "the Kafka broker did not start (log: $WORK/jvm-kafka/broker.log)" >&2; exit 1
  fi
  sleep 0.2
done
export FEATURESTORE_KAFKA_BOOTSTRAP="$(head -1 "$WORK/jvm-kafka.bootstrap")"
log "Kafka broker for the suites at $FEATURESTORE_KAFKA_BOOTSTRAP"

# verify = compile, build the native library (scripts/build-native.sh), test, package, then the packaged-jar suite.
log "mvn verify (Spark 3.5 / Scala 2.12)"
mvn -B -q -f jvm/pom.xml verify

# Spark 4: the same sources and suites against Spark 4.2 / Scala 2.13 (the native library is already built),
# plus the packaged-jar checks of the _2.13 jar.
log "mvn verify -Pspark-4 (Spark 4.2 / Scala 2.13)"
mvn -B -q -f jvm/pom.xml -Pspark-4 verify

ls -l jvm/target/scala-2.12/featurestore-spark_2.12-*.jar jvm/target/scala-2.13/featurestore-spark_2.13-*.jar >&2
