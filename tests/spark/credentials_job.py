"""One write whose credentials come from wherever the environment and the options say
(tests/spark/test_credentials.py): `rows` rows over 2 partitions, options given as NAME=VALUE.

    spark-submit --jars <jar> tests/spark/credentials_job.py --endpoint URL --group NAME --rows N [NAME=VALUE ...]
"""

from __future__ import annotations

import argparse

from pyspark.sql import SparkSession
from pyspark.sql import functions as F


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--group", required=True)
    parser.add_argument("--rows", type=int, required=True)
    parser.add_argument("options", nargs="*", help="more write options, NAME=VALUE")
    args = parser.parse_args()
    spark = SparkSession.builder.appName("featurestore-credentials").getOrCreate()
    rows = spark.range(args.rows, numPartitions=2).select(
        F.format_string("r-%d", "id").alias("id"),
        F.lit("2024-01-01T00:00:00Z").alias("ts"),
        (F.col("id") * 0.5).alias("score"),
    )
    (rows.write.format("featurestore")
     .option("featureGroupName", args.group)
     .option("region", "us-east-1")
     .option("runtimeEndpoint", args.endpoint)
     .option("controlEndpoint", args.endpoint)
     .options(**dict(option.split("=", 1) for option in args.options))
     .mode("append")
     .save())
    spark.stop()


if __name__ == "__main__":
    main()
