"""A backfill written with offlineWrite=direct to an offline store on S3 through S3A, then read back with Spark
(tests/spark/test_offline_direct.py): `rows` rows over 2 partitions, event times spread over 48 hours.

    spark-submit --jars <jar>,<hadoop-aws>,<aws-sdk-bundle> --conf spark.hadoop.fs.s3a.endpoint=... \\
        tests/spark/offline_direct_job.py --endpoint URL --group NAME --rows N --output s3a://.../data \\
        [--fail-first-attempt-at ROW]

With --fail-first-attempt-at, partition 0's first attempt fails when it reaches that row, after it wrote Parquet
files for the rows before it (run with a master that retries tasks, `local[2,2]`): only its retry's files may
be visible.
"""

from __future__ import annotations

import argparse
from datetime import datetime, timedelta, timezone

# 2024-01-01T00:00:00Z in milliseconds; event times fall within the 48 hours after it.
BASE_MILLIS = 1_704_067_200_000
SPREAD_MILLIS = 48 * 3600 * 1000


def offset_millis(i: int) -> int:
    return i * 7_919_311 % SPREAD_MILLIS


def expected_row(i: int) -> tuple[str, int | None, float, str | None]:
    """What the offline store holds for row `i`: the event time as the API path sends it (UTC, milliseconds),
    count, score and label."""
    at = datetime.fromtimestamp(0, timezone.utc) + timedelta(milliseconds=BASE_MILLIS + offset_millis(i))
    ts = at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"
    return ts, (None if i % 11 == 0 else i * 3 - 500_000), i / 7.0, (None if i % 10 == 0 else f"label-{i % 97}")


def fail_first_attempt_at(row: int):
    """A UDF passing ids through, which fails partition 0's first attempt at id `row`."""
    from pyspark import TaskContext
    from pyspark.sql.functions import udf

    def check(i: int) -> int:
        context = TaskContext.get()
        if i == row and context.partitionId() == 0 and context.attemptNumber() == 0:
            raise RuntimeError(f"injected failure of partition 0, attempt 0, at row {i}")
        return i

    return udf(check, "bigint")


def main() -> None:
    from pyspark.sql import SparkSession

    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--group", required=True)
    parser.add_argument("--rows", type=int, required=True)
    parser.add_argument("--output", required=True, help="the group's offline store as a Hadoop URI")
    parser.add_argument("--fail-first-attempt-at", type=int, help="row at which partition 0's first attempt fails")
    args = parser.parse_args()
    spark = SparkSession.builder.appName("featurestore-offline-direct").getOrCreate()
    ids = spark.range(args.rows, numPartitions=2)
    if args.fail_first_attempt_at is not None:
        ids = ids.select(fail_first_attempt_at(args.fail_first_attempt_at)("id").alias("id"))
    rows = ids.selectExpr(
        "concat('r', id) AS id",
        f"timestamp_millis({BASE_MILLIS} + id * 7919311 % {SPREAD_MILLIS}) AS ts",
        "IF(id % 11 = 0, NULL, id * 3 - 500000) AS count",
        "id / 7.0D AS score",
        "IF(id % 10 = 0, NULL, concat('label-', id % 97)) AS label",
    )
    (rows.write.format("featurestore")
     .option("featureGroupName", args.group)
     .option("region", "us-east-1")
     .option("runtimeEndpoint", args.endpoint)
     .option("controlEndpoint", args.endpoint)
     .option("targetStores", "OfflineStore")
     .option("offlineWrite", "direct")
     .mode("append")
     .save())

    read = spark.read.parquet(args.output)
    assert read.count() == args.rows, read.count()
    # Every row against what it should hold, computed from its id as above; the expected text is rendered in UTC
    # (the write ran in the submitted session time zone).
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    expected_ts = f"timestamp_millis({BASE_MILLIS} + i * 7919311 % {SPREAD_MILLIS})"
    mismatched = read.selectExpr("*", "CAST(substring(id, 2) AS BIGINT) AS i").where(f"""NOT (
        ts <=> date_format({expected_ts}, "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'")
        AND count <=> IF(i % 11 = 0, NULL, i * 3 - 500000)
        AND score <=> i / 7.0D
        AND label <=> IF(i % 10 = 0, NULL, concat('label-', i % 97))
        AND NOT is_deleted
        AND year = year({expected_ts}) AND month = month({expected_ts})
        AND day = day({expected_ts}) AND hour = hour({expected_ts}))""")
    wrong = mismatched.limit(5).collect()
    assert not wrong, wrong
    assert read.select("id").distinct().count() == args.rows
    print("spark read back: every row once, values exact")
    spark.stop()


if __name__ == "__main__":
    main()
