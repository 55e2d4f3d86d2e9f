#!/usr/bin/env bash
# The main job (interim, until the Spark ingestion replaces it): starts featurestore-local, creates a feature
# group, writes a few thousand records with boto3 BatchWriteRecord, reads a sample back, prints a one-line
# summary and stops the store. Works on a fresh machine: builds the store and the venv if needed.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

RECORDS="${RECORDS:-5000}"
data="$WORK/main-job/data"
rm -rf "$WORK/main-job"
mkdir -p "$data"

ensure_venv
log "cargo build --release -p featurestore-local"
cargo build --release --locked -p featurestore-local

# The store prints one line when ready; its logs go to a file.
coproc STORE { exec target/release/featurestore-local --port 0 --data-dir "$data" 2>"$WORK/main-job/store.log"; }
store_pid=$STORE_PID
trap 'kill "$store_pid" 2>/dev/null || true' EXIT
read -r -t 60 ready <&"${STORE[0]}" || { log "the store did not start; see $WORK/main-job/store.log"; exit 1; }
endpoint="${ready##* }"
log "store ready at $endpoint (pid $store_pid)"

AWS_ENDPOINT_URL_SAGEMAKER="$endpoint" \
AWS_ENDPOINT_URL_SAGEMAKER_FEATURESTORE_RUNTIME="$endpoint" \
AWS_ACCESS_KEY_ID=AKIDLOCAL AWS_SECRET_ACCESS_KEY=local-secret \
AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 \
AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true \
RECORDS="$RECORDS" "$VENV/bin/python" - <<'PY'
import datetime, os, random, sys, time

import boto3

records = int(os.environ["RECORDS"])
group = "customers"
sagemaker = boto3.client("sagemaker")
runtime = boto3.client("sagemaker-featurestore-runtime")
sagemaker.create_feature_group(
    FeatureGroupName=group,
    RecordIdentifierFeatureName="customer_id",
    EventTimeFeatureName="event_time",
    FeatureDefinitions=[
        {"FeatureName": "customer_id", "FeatureType": "String"},
        {"FeatureName": "event_time", "FeatureType": "String"},
        {"FeatureName": "age", "FeatureType": "Integral"},
        {"FeatureName": "lifetime_value", "FeatureType": "Fractional"},
        {"FeatureName": "city", "FeatureType": "String"},
    ],
    OnlineStoreConfig={"EnableOnlineStore": True},
    OfflineStoreConfig={"S3StorageConfig": {"S3Uri": "s3://main-job/offline"}},
)

rng = random.Random(7)
now = datetime.datetime.now(datetime.timezone.utc)
def row(i):
    ts = (now - datetime.timedelta(seconds=rng.randrange(86_400))).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    values = {"customer_id": f"c{i:07d}", "event_time": ts, "age": str(rng.randrange(18, 90)),
              "lifetime_value": repr(round(rng.uniform(0, 5000), 2)), "city": rng.choice(["Paris", "Oslo", "Lima", "Pune"])}
    return [{"FeatureName": k, "ValueAsString": v} for k, v in values.items()]

rows = [row(i) for i in range(records)]
written = failed = 0
started = time.monotonic()
for start in range(0, records, 25):
    batch = rows[start:start + 25]
    output = runtime.batch_write_record(Entries=[{"FeatureGroupName": group, "Record": r} for r in batch])
    failed += len(output["Errors"]) + len(output["UnprocessedEntries"])
    written += len(batch) - len(output["Errors"]) - len(output["UnprocessedEntries"])
duration = time.monotonic() - started

sample = rng.sample(range(records), 20)
mismatched = 0
for i in sample:
    got = runtime.get_record(FeatureGroupName=group, RecordIdentifierValueAsString=f"c{i:07d}").get("Record", [])
    mismatched += got != rows[i]
print(f"records written {written}, failed {failed}, duration {duration:.2f} s, {written / duration:,.0f} records/s; "
      f"sample read back {len(sample) - mismatched}/{len(sample)} identical")
sys.exit(1 if failed or mismatched else 0)
PY

kill -TERM "$store_pid"
wait "$store_pid"
trap - EXIT
files=$(find "$data/s3" -name '*.parquet' | wc -l)
log "store stopped cleanly; offline store: $files Parquet files under $data/s3"
