#!/usr/bin/env bash
# The main job: a real Spark ingestion into the local Feature Store. Starts featurestore-local, creates the
# `customers` feature group (online and offline store) with boto3, then runs the PySpark processing example
# (examples/pyspark/ingest_features.py) with spark-submit on local[*]: RECORDS synthetic customers (default
# 100000) written by the connector, which prints its summary line. Stops the store and counts the offline store's
# Parquet files. Works on a fresh machine: builds what is missing (store binary, connector jar, venv with pyspark).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

RECORDS="${RECORDS:-100000}"
job="$WORK/main-job"
data="$job/data"
rm -rf "$job"
mkdir -p "$data"

ensure_venv
ensure_store_binary
ensure_connector_jar 2.12
jar="$(connector_jar 2.12)"

# Started and waited for by the launcher every harness uses; its log goes to $job/data.log.
start_store "$data"
trap stop_store EXIT
endpoint="$STORE_ENDPOINT"
log "store ready at $endpoint"

# Test credentials, and every AWS endpoint pointed at the local store: nothing leaves 127.0.0.1.
export AWS_ENDPOINT_URL_SAGEMAKER="$endpoint" AWS_ENDPOINT_URL_SAGEMAKER_FEATURESTORE_RUNTIME="$endpoint"
export AWS_ACCESS_KEY_ID=AKIDLOCAL AWS_SECRET_ACCESS_KEY=local-secret AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true
export SPARK_LOCAL_IP=127.0.0.1 PYSPARK_PYTHON="$VENV/bin/python"

"$VENV/bin/python" examples/feature_groups.py --endpoint "$endpoint" --offline-store-uri s3://main-job/offline customers >&2

log "spark-submit examples/pyspark/ingest_features.py: $RECORDS synthetic customers (Spark log: $job/spark.log)"
if ! spark-submit --master 'local[*]' --jars "$jar" \
    --conf spark.ui.enabled=false --conf spark.driver.host=127.0.0.1 --conf spark.driver.bindAddress=127.0.0.1 \
    --conf spark.local.dir="$job/spark-local" \
    examples/pyspark/ingest_features.py --feature-group customers --synthetic-rows "$RECORDS" \
    --endpoint "$endpoint" 2>"$job/spark.log"; then
  tail -n 40 "$job/spark.log" >&2
  log "the Spark job failed; its log: $job/spark.log"
  exit 1
fi

stop_store
trap - EXIT
files=$(find "$data/s3" -name '*.parquet' | wc -l)
log "store stopped; offline store: $files Parquet files under $data/s3"
