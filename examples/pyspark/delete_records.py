# Run: spark-submit --jars featurestore-spark_2.12-0.1.0.jar examples/pyspark/delete_records.py --feature-group customers --synthetic-ids 1000 --endpoint http://127.0.0.1:8642
"""Deletes records from a SageMaker Feature Store feature group: a PySpark job.

The input names the records to delete: the feature group's record identifier column (customer_id for the
examples' `customers` group) and its event time column, the time of the delete, which must be later than the
stored record's (other columns are ignored). Input files are read from --input (Parquet, CSV with a header, or
JSON lines); --synthetic-ids N deletes customers c-0000000 .. c-(N-1) instead, at the current time. One write with
operation=delete; the connector's summary line on stdout; exit code 0 only when every record was deleted (or as
many failed as --max-failed-records allows).
"""

from __future__ import annotations

import argparse
import sys


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feature-group", required=True, help="feature group name or ARN")
    parser.add_argument("--input", help="input directory or file naming the records to delete")
    parser.add_argument("--input-format", choices=["parquet", "csv", "json"], default="parquet")
    parser.add_argument("--synthetic-ids", type=int, default=0, help="delete customers c-0000000 .. of this many")
    parser.add_argument("--deletion-mode", choices=["SoftDelete", "HardDelete"], default="SoftDelete")
    parser.add_argument("--endpoint", help="Feature Store endpoint URL (control plane and runtime), e.g. a local store")
    parser.add_argument("--region", help="AWS region (default: the AWS default chain)")
    parser.add_argument("--failed-records-path", help="directory for records that could not be deleted")
    parser.add_argument("--max-failed-records", type=int, default=0)
    args = parser.parse_args(argv)
    if bool(args.input) == bool(args.synthetic_ids):
        parser.error("give one of --input and --synthetic-ids")
    return args


def synthetic_deletes(spark, count: int):
    """Customers c-0000000 .. c-(count-1), to delete now."""
    from pyspark.sql import functions as F

    return spark.range(0, count).select(
        F.format_string("c-%07d", F.col("id")).alias("customer_id"),
        F.current_timestamp().alias("event_time"),
    )


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    from pyspark.sql import SparkSession

    spark = SparkSession.builder.appName(f"delete-records-{args.feature_group}").getOrCreate()
    try:
        if args.synthetic_ids:
            frame = synthetic_deletes(spark, args.synthetic_ids)
        else:
            reader = spark.read
            if args.input_format == "csv":
                reader = reader.option("header", "true").option("inferSchema", "true")
            frame = reader.format(args.input_format).load(args.input)

        writer = (frame.write.format("featurestore")
                  .option("featureGroupName", args.feature_group)
                  .option("operation", "delete")
                  .option("deletionMode", args.deletion_mode)
                  .option("maxFailedRecords", str(args.max_failed_records)))
        if args.endpoint:
            writer = writer.option("runtimeEndpoint", args.endpoint).option("controlEndpoint", args.endpoint)
        if args.region:
            writer = writer.option("region", args.region)
        if args.failed_records_path:
            writer = writer.option("failedRecordsPath", args.failed_records_path)
        writer.mode("append").save()  # the connector prints its summary line when the write commits

        # The same totals, for whoever reads this job's output (the connector keeps the latest per group).
        summary = spark.sparkContext._jvm.featurestore.spark.WriteSummaries.last(args.feature_group).get()
        print(f"delete_records: {summary.accepted()} rows, {summary.deleted()} deleted ({args.deletion_mode}), "
              f"{summary.failed()} failed, from feature group {args.feature_group}", flush=True)
        return 0
    finally:
        spark.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
