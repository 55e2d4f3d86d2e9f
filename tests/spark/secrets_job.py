"""A write that must leak no secret (tests/spark/test_secrets.py): credentials given as options (the same
values are in the environment), debug logging everywhere, rows that fail, and a failure limit that fails the
job at commit. Prints what the user would see of the error to --error-out.

    spark-submit --jars <jar> tests/spark/secrets_job.py --endpoint URL --group NAME --failed DIR --error-out FILE
"""

from __future__ import annotations

import argparse
import os

from pyspark.sql import SparkSession
from pyspark.sql import functions as F


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--group", required=True)
    parser.add_argument("--failed", required=True)
    parser.add_argument("--error-out", required=True)
    args = parser.parse_args()
    spark = SparkSession.builder.appName("featurestore-secrets").getOrCreate()
    spark.sparkContext.setLogLevel("DEBUG")
    rows = spark.range(200, numPartitions=2).select(
        F.format_string("r-%d", "id").alias("id"),
        F.lit("2024-01-01T00:00:00Z").alias("ts"),
        # Every tenth row fails on the client (NaN).
        F.when(F.col("id") % 10 == 3, F.lit(float("nan"))).otherwise(F.col("id") * 0.5).alias("score"),
    )
    writer = (rows.write.format("featurestore")
              .option("featureGroupName", args.group)
              .option("region", "us-east-1")
              .option("runtimeEndpoint", args.endpoint)
              .option("controlEndpoint", args.endpoint)
              # The environment's values, given again as options: both ways must stay secret.
              .option("accessKeyId", os.environ["AWS_ACCESS_KEY_ID"])
              .option("secretAccessKey", os.environ["AWS_SECRET_ACCESS_KEY"])
              .option("sessionToken", os.environ["AWS_SESSION_TOKEN"])
              .option("failedRecordsPath", args.failed)
              .option("maxFailedRecords", "5")
              .mode("append"))
    try:
        writer.save()
        message = "no error"
    except Exception as error:  # noqa: BLE001 - what the user sees is the point
        message = str(error)
    with open(args.error_out, "w") as out:
        out.write(message)
    spark.stop()


if __name__ == "__main__":
    main()
