# Run: spark-submit --jars featurestore-spark_2.12-0.1.0.jar examples/streaming/stream_clicks.py --input-dir /tmp/clicks --checkpoint /tmp/clicks-chk --demo-events 1000 --available-now --endpoint http://127.0.0.1:8642
"""Streams click events into the `clicks` feature group: Structured Streaming into SageMaker Feature Store.

Click events arrive as JSON-lines files in --input-dir ({"click_id", "user_id", "page", "dwell_seconds", "ts"}
with `ts` an ISO-8601 instant); each micro-batch is written to the feature group by the connector. With
--available-now the query processes what is there and stops (a scheduled job); without it, it runs until
interrupted. --demo-events N first drops N made-up events into --input-dir.

Delivery is at least once: a replayed micro-batch writes its records again (the online store keeps the
latest event time). The checkpoint directory is what makes a restarted query resume where it stopped.
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from pathlib import Path

EVENT_SCHEMA = "click_id string, user_id string, page string, dwell_seconds double, ts string"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input-dir", required=True, help="directory the click files land in")
    parser.add_argument("--checkpoint", required=True, help="the query's checkpoint directory")
    parser.add_argument("--feature-group", default="clicks")
    parser.add_argument("--endpoint", help="Feature Store endpoint URL (control plane and runtime), e.g. a local store")
    parser.add_argument("--region", help="AWS region (default: the AWS default chain)")
    parser.add_argument("--available-now", action="store_true", help="process the files there now, then stop")
    parser.add_argument("--trigger-seconds", type=int, default=10, help="micro-batch interval when running on")
    parser.add_argument("--max-files-per-trigger", type=int, default=10)
    parser.add_argument("--demo-events", type=int, default=0, help="first write this many made-up events")
    return parser.parse_args(argv)


def write_demo_events(directory: Path, count: int, per_file: int = 500) -> None:
    """`count` made-up click events in JSON-lines files of `per_file` events (a file appears whole: rename)."""
    directory.mkdir(parents=True, exist_ok=True)
    batch = uuid.uuid4().hex[:8]
    pages = ["/", "/search", "/product", "/cart", "/checkout"]
    for first in range(0, count, per_file):
        lines = [json.dumps({"click_id": f"k-{batch}-{n:07d}", "user_id": f"u-{n % 97:03d}",
                             "page": pages[n % len(pages)], "dwell_seconds": round(0.25 + (n % 400) / 8, 3),
                             "ts": f"2026-01-01T{(n // 3600) % 24:02d}:{(n // 60) % 60:02d}:{n % 60:02d}.{n % 1000:03d}Z"})
                 for n in range(first, min(count, first + per_file))]
        staging = directory / f".clicks-{batch}-{first}.tmp"
        staging.write_text("\n".join(lines) + "\n")
        staging.rename(directory / f"clicks-{batch}-{first:07d}.json")


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.demo_events:
        write_demo_events(Path(args.input_dir), args.demo_events)

    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F

    spark = SparkSession.builder.appName(f"stream-clicks-{args.feature_group}").getOrCreate()
    try:
        clicks = (spark.readStream.schema(EVENT_SCHEMA)
                  .option("maxFilesPerTrigger", args.max_files_per_trigger)
                  .json(args.input_dir)
                  .select("click_id", "user_id", "page", "dwell_seconds",
                          F.to_timestamp("ts").alias("event_time")))

        writer = (clicks.writeStream.format("featurestore")
                  .option("featureGroupName", args.feature_group)
                  .option("checkpointLocation", args.checkpoint))
        if args.endpoint:
            writer = writer.option("runtimeEndpoint", args.endpoint).option("controlEndpoint", args.endpoint)
        if args.region:
            writer = writer.option("region", args.region)
        if args.available_now:
            writer = writer.trigger(availableNow=True)
        else:
            writer = writer.trigger(processingTime=f"{args.trigger_seconds} seconds")

        query = writer.start()
        query.awaitTermination()

        # The connector keeps the query's running totals; the last committed micro-batch has the latest.
        summaries = spark.sparkContext._jvm.featurestore.spark.WriteSummaries
        last = summaries.last(args.feature_group)
        line = last.get().line() if last.isDefined() else "no micro-batch had rows to write"
        print(f"stream_clicks: query {query.id} stopped; {line}", flush=True)
        return 0
    finally:
        spark.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
