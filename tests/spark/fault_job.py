"""spark-submit --jars <featurestore jar> tests/spark/fault_job.py --group G --ids N --endpoint URL [...]

The versioned rows of the fault tests (versioned_rows.py) written by a stand-alone Spark application, for the
faults that need a cluster: an executor killed mid-write, a speculative copy of a slow task. Options slow the
write down (`--max-records-per-second`) or one partition's first attempt (`--slow-partition`: a Python UDF that
passes each row's note through and sleeps per row only in attempt 0, so that a speculative copy overtakes it
while it writes). Exits non-zero when the write fails; the connector prints its summary line on stdout.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import versioned_rows  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--group", required=True)
    parser.add_argument("--ids", type=int, required=True)
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--max-records-per-second", type=float)
    parser.add_argument("--slow-partition", type=int, help="this partition's first attempt sleeps per row")
    parser.add_argument("--slow-ms-per-row", type=float, default=2.0)
    parser.add_argument("--failed-records-path")
    parser.add_argument("--batch-rows", type=int, default=4096)
    parser.add_argument("--note-bytes", type=int, default=0)
    args = parser.parse_args()

    from pyspark import TaskContext
    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F

    spark = SparkSession.builder.appName(f"featurestore-faults-{args.group}").getOrCreate()
    try:
        df = versioned_rows.dataframe(spark, args.ids, args.partitions, args.note_bytes)
        if args.slow_partition is not None:
            slow_partition, pause = args.slow_partition, args.slow_ms_per_row / 1000

            @F.udf("string")
            def slow_in_first_attempt(note):
                context = TaskContext.get()
                if context.partitionId() == slow_partition and context.attemptNumber() == 0:
                    time.sleep(pause)
                return note

            df = df.withColumn("note", slow_in_first_attempt("note"))
        writer = (df.write.format("featurestore")
                  .option("featureGroupName", args.group)
                  .option("region", "us-east-1")
                  .option("runtimeEndpoint", args.endpoint)
                  .option("controlEndpoint", args.endpoint)
                  .option("batchRows", str(args.batch_rows)))
        if args.max_records_per_second:
            writer = writer.option("maxRecordsPerSecond", str(args.max_records_per_second))
        if args.failed_records_path:
            writer = writer.option("failedRecordsPath", args.failed_records_path).option("maxFailedRecords", "0")
        writer.mode("append").save()
        # A losing speculative attempt is killed as the job ends: wait until no task runs anywhere, so that it
        # ends, and logs how, before the application stops its executors. The scheduler's own count drops only
        # when the executor reports the task ended; the status API's count is the UI's, which can lag or miss it.
        scheduler = spark.sparkContext._jsc.sc().taskScheduler()
        to_java = spark._jvm.scala.collection.JavaConverters.mapAsJavaMapConverter
        deadline = time.monotonic() + 60
        while (sum(to_java(scheduler.runningTasksByExecutors()).asJava().values())
               and time.monotonic() < deadline):
            time.sleep(0.1)
        print(f"spark {spark.version} at {spark.sparkContext.master}: done", flush=True)
    finally:
        spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
