"""spark-submit --jars <featurestore jar> tests/spark/ingest_mixed_job.py --group G --rows N --endpoint URL

The mixed-type ingestion of the end-to-end tests as a stand-alone Spark application, for runs in their own driver
JVM: on a standalone cluster, on Spark 4, and by the bench script. The session time zone is not UTC on purpose.
Exits non-zero when the write fails; the connector prints its summary line on stdout.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import mixed_rows  # noqa: E402


def to_arrow_schema_arities(spark) -> list[int]:
    """The parameter counts of this Spark's ArrowUtils.toArrowSchema (the connector reaches it by reflection)."""
    jvm = spark.sparkContext._jvm
    methods = jvm.java.lang.Class.forName("org.apache.spark.sql.util.ArrowUtils$").getMethods()
    return sorted(m.getParameterCount() for m in methods if m.getName() == "toArrowSchema")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--group", required=True)
    parser.add_argument("--rows", type=int, required=True)
    parser.add_argument("--partitions", type=int, default=8)
    parser.add_argument("--endpoint", required=True, help="the local store, e.g. http://127.0.0.1:8642")
    parser.add_argument("--time-zone", default="America/Los_Angeles")
    args = parser.parse_args()

    from pyspark.sql import SparkSession

    spark = (SparkSession.builder.appName(f"featurestore-ingest-{args.group}")
             .config("spark.sql.session.timeZone", args.time_zone)
             .getOrCreate())
    try:
        (mixed_rows.mixed_dataframe(spark, args.rows, args.partitions)
         .write.format("featurestore")
         .option("featureGroupName", args.group)
         .option("region", "us-east-1")
         .option("runtimeEndpoint", args.endpoint)
         .option("controlEndpoint", args.endpoint)
         .mode("append")
         .save())
        print(f"spark {spark.version} at {spark.sparkContext.master}: done", flush=True)
        print(f"ArrowUtils.toArrowSchema parameter counts: {to_arrow_schema_arities(spark)}", flush=True)
    finally:
        spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
