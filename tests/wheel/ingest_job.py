"""A small PySpark job: writes --rows records with featurestore_spark.ingest and prints the summary object as one
JSON line. The connector's jar comes from spark-submit --jars, or with --with-connector from the package
(featurestore_spark.with_connector, for a job run with plain python)."""

from __future__ import annotations

import argparse
import dataclasses
import json

from pyspark.sql import SparkSession, functions as F

import featurestore_spark


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--group", required=True)
    parser.add_argument("--rows", type=int, required=True)
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--with-connector", action="store_true")
    args = parser.parse_args()
    builder = SparkSession.builder
    if args.with_connector:
        builder = featurestore_spark.with_connector(
            builder.master("local[2]").config("spark.driver.host", "127.0.0.1")
            .config("spark.driver.bindAddress", "127.0.0.1").config("spark.ui.enabled", "false"))
    spark = builder.getOrCreate()
    n = F.col("id")
    df = spark.range(args.rows).select(
        F.format_string("s%d", n).alias("id"), F.lit("2026-01-01T00:00:00Z").alias("ts"), n.alias("count"),
        (n / 2).alias("score"), F.lit("submitted").alias("label"))
    summary = featurestore_spark.ingest(df, args.group, region="us-east-1", runtime_endpoint=args.endpoint,
                                        control_endpoint=args.endpoint)
    print("SUMMARY " + json.dumps({**dataclasses.asdict(summary), "spark": spark.version}))
    spark.stop()


if __name__ == "__main__":
    main()
