# Run: spark-submit --jars featurestore-spark_2.12-0.1.0.jar examples/pyspark/ingest_features.py --feature-group customers --synthetic-rows 100000 --endpoint http://127.0.0.1:8642
"""Ingests customer features into a SageMaker Feature Store feature group: a PySpark processing job.

Shaped like a SageMaker PySpark Processing script: arguments on the command line, input files under
/opt/ml/processing/input (Parquet, CSV with a header, or JSON lines), one write to the feature group, the
connector's summary line on stdout, exit code 0 only when every record was written (or as many failed as
--max-failed-records allows). --synthetic-rows N generates N customers instead of reading input. --offline-direct
makes it a backfill written straight into the group's offline store (README, Backfills straight to the offline
store).

The input's columns must match the feature group's features (customer_id, event_time, age, lifetime_value,
segment, signup_date, is_active for the examples' `customers` group); the connector checks them, and the
options, before any task runs.
"""

from __future__ import annotations

import argparse
import sys

DEFAULT_INPUT = "/opt/ml/processing/input/features"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feature-group", required=True, help="feature group name or ARN")
    parser.add_argument("--input", default=DEFAULT_INPUT, help=f"input directory or file (default {DEFAULT_INPUT})")
    parser.add_argument("--input-format", choices=["parquet", "csv", "json"], default="parquet")
    parser.add_argument("--synthetic-rows", type=int, default=0, help="generate this many customers instead")
    parser.add_argument("--partitions", type=int, default=0, help="partitions of the synthetic rows (default: cores)")
    parser.add_argument("--endpoint", help="Feature Store endpoint URL (control plane and runtime), e.g. a local store")
    parser.add_argument("--region", help="AWS region (default: the AWS default chain)")
    parser.add_argument("--failed-records-path", help="directory for records that could not be written")
    parser.add_argument("--max-failed-records", type=int, default=0)
    parser.add_argument("--offline-direct", action="store_true",
                        help="a backfill: write straight into the group's offline store as Parquet (no API calls)")
    parser.add_argument("--offline-file-system", help="with --offline-direct: s3a (default), s3 on EMR, or a base URI")
    return parser.parse_args(argv)


def synthetic_customers(spark, rows: int, partitions: int):
    """`rows` made-up customers, a pure function of their number (the same run writes the same values)."""
    from pyspark.sql import functions as F

    n = F.col("id")
    segments = F.array(F.lit("new"), F.lit("regular"), F.lit("vip"))
    return spark.range(0, rows, 1, partitions or spark.sparkContext.defaultParallelism).select(
        F.format_string("c-%07d", n).alias("customer_id"),
        F.timestamp_seconds(F.lit(1_767_225_600) + n % 86_400).alias("event_time"),  # during 2026-01-01 UTC
        (F.lit(18) + n % 60).cast("int").alias("age"),
        ((n * 7919) % 500_000 / F.lit(100.0)).alias("lifetime_value"),
        F.element_at(segments, (n % 3 + 1).cast("int")).alias("segment"),
        F.date_add(F.lit("2020-01-01").cast("date"), (n % 1500).cast("int")).alias("signup_date"),
        (n % 4 != 0).alias("is_active"),
    )


def read_input(spark, path: str, input_format: str):
    reader = spark.read
    if input_format == "csv":
        reader = reader.option("header", "true").option("inferSchema", "true")
    return reader.format(input_format).load(path)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    from pyspark.sql import SparkSession

    spark = SparkSession.builder.appName(f"ingest-features-{args.feature_group}").getOrCreate()
    try:
        if args.synthetic_rows:
            frame, source = synthetic_customers(spark, args.synthetic_rows, args.partitions), "synthetic rows"
        else:
            frame, source = read_input(spark, args.input, args.input_format), args.input

        writer = (frame.write.format("featurestore")
                  .option("featureGroupName", args.feature_group)
                  .option("maxFailedRecords", str(args.max_failed_records)))
        if args.endpoint:
            writer = writer.option("runtimeEndpoint", args.endpoint).option("controlEndpoint", args.endpoint)
        if args.region:
            writer = writer.option("region", args.region)
        if args.failed_records_path:
            writer = writer.option("failedRecordsPath", args.failed_records_path)
        if args.offline_direct:
            writer = writer.option("targetStores", "OfflineStore").option("offlineWrite", "direct")
            if args.offline_file_system:
                writer = writer.option("offlineFileSystem", args.offline_file_system)
        writer.mode("append").save()  # the connector prints its summary line when the write commits

        # The same totals, for whoever reads this job's output (the connector keeps the latest per group).
        summary = spark.sparkContext._jvm.featurestore.spark.WriteSummaries.last(args.feature_group).get()
        print(f"ingest_features: {summary.accepted()} rows from {source}, {summary.written()} written, "
              f"{summary.failed()} failed, to feature group {args.feature_group}", flush=True)
        return 0
    finally:
        spark.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
