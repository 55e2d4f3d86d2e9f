#!/usr/bin/env bash
# Spark end to end (pytest, tests/spark): PySpark 3.5 from PyPI with the built _2.12 jar against the real
# featurestore-local — a million mixed-type rows on local[2] and on a local standalone cluster (master and two
# workers from the pyspark distribution), failed records, a schema error, every example in examples/ (the seed
# pipeline as two sharded Processing instances, its Glue job and EMR step), and the
# fault matrix: random throttling, 5xx, resets, unprocessed entries and latency spikes; the store stopped and
# restarted mid-write; a job cancelled mid-write; an executor killed with kill -9; speculation. offlineWrite=direct
# into featurestore-local's offline store and, through S3A, into moto's S3 server on 127.0.0.1.
# Streaming from a real Kafka broker (tests/kafka: Apache Kafka in KRaft mode, from Maven Central like Spark's Kafka
# source): the Kafka example, stopped mid-stream and its driver killed with kill -9, restarted from the checkpoint.
# Builds what is missing: the release store binary, the jar (normally built by stage 30), the venv; Maven resolves
# the broker's and the Kafka source's jars into ~/.m2.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
cd "$ROOT"

ensure_venv
ensure_store_binary
ensure_connector_jar 2.12
ensure_s3a_jars

# Temp dirs (store data, cluster work and logs, failed records) under .work, replaced on every run.
run_pytest tests/spark -m "not spark4" --basetemp="$WORK/pytest-spark" -v --durations=0
