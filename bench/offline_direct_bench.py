"""Backfill cost, offlineWrite=direct against BatchWriteRecord to the offline store (bench/offline-direct.sh).

One Spark JVM on local[1] (one core for Spark) writes the same cached rows to featurestore-local's offline store
both ways, each `--repeats` times; featurestore-local runs beside it. Per write: wall time, rows/s, and the CPU
seconds of the Spark JVM and of the store, so that rows per CPU-second of
each side can be compared. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "local"))

from fslocal import LocalStore  # noqa: E402

FEATURES = ([{"FeatureName": "id", "FeatureType": "String"}, {"FeatureName": "ts", "FeatureType": "String"}]
            + [{"FeatureName": f"i{k}", "FeatureType": "Integral"} for k in range(6)]
            + [{"FeatureName": f"f{k}", "FeatureType": "Fractional"} for k in range(6)]
            + [{"FeatureName": f"s{k}", "FeatureType": "String"} for k in range(6)])


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--work", type=Path, required=True)
    args = parser.parse_args()

    store = LocalStore.start(args.work / "store")
    os.environ.update({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_REGION": "us-east-1"})
    from pyspark.sql import SparkSession

    spark = (SparkSession.builder.master("local[1]").appName("offline-direct-bench")
             .config("spark.jars", os.environ["CONNECTOR_JAR"]).config("spark.driver.memory", "2g")
             .config("spark.driver.host", "127.0.0.1").config("spark.ui.enabled", "false")
             .config("spark.local.dir", str(args.work / "spark-local")).getOrCreate())
    spark.sparkContext.setLogLevel("WARN")
    jvm_pid = spark._jvm.java.lang.ProcessHandle.current().pid()
    try:
        store.sagemaker.create_feature_group(
            FeatureGroupName="backfill", RecordIdentifierFeatureName="id", EventTimeFeatureName="ts",
            FeatureDefinitions=FEATURES, OnlineStoreConfig={"EnableOnlineStore": True},
            OfflineStoreConfig={"S3StorageConfig": {"S3Uri": "s3://bench/offline"}})
        while store.sagemaker.describe_feature_group(FeatureGroupName="backfill")["FeatureGroupStatus"] != "Created":
            time.sleep(0.1)
        columns = (["concat('id-', id) AS id", f"timestamp_millis(1704067200000 + id * {max(1, 86_400_000 // args.rows)}) AS ts"]
                   + [f"id * {k + 3} AS i{k}" for k in range(6)]
                   + [f"id / {k + 7}.0D AS f{k}" for k in range(6)]
                   + [f"concat('value-', id % {k + 101}) AS s{k}" for k in range(6)])
        rows = spark.range(args.rows, numPartitions=1).selectExpr(*columns).cache()
        rows.count()
        base = {"featureGroupName": "backfill", "region": "us-east-1", "runtimeEndpoint": store.endpoint,
                "controlEndpoint": store.endpoint, "targetStores": "OfflineStore"}
        modes = {
            "BatchWriteRecord to the offline store": base,
            "offlineWrite=direct": {**base, "offlineWrite": "direct",
                                    "offlineFileSystem": f"file://{store.data_dir}/s3/"},
        }
        print(f"| Write ({args.rows:,} rows over 24 hours, 20 features, local[1]) | Seconds | Rows/s | Spark CPU s | "
              f"Rows per Spark CPU-second | Store CPU s |")
        print("| --- | --- | --- | --- | --- | --- |")
        for repeat in range(args.repeats):
            for name, options in modes.items():
                spark_before, store_before = cpu_seconds(jvm_pid), cpu_seconds(store.process.pid)
                started = time.monotonic()
                rows.write.format("featurestore").options(**options).mode("append").save()
                seconds = time.monotonic() - started
                spark_cpu = cpu_seconds(jvm_pid) - spark_before
                store_cpu = cpu_seconds(store.process.pid) - store_before
                print(f"| {name} (run {repeat + 1}) | {seconds:.1f} | {args.rows / seconds:,.0f} | {spark_cpu:.1f} | "
                      f"{args.rows / spark_cpu:,.0f} | {store_cpu:.1f} |", flush=True)
    finally:
        spark.stop()
        store.stop()


if __name__ == "__main__":
    main()
