# Run: spark-submit --jars featurestore-spark_2.12-0.1.0.jar,$(python tests/kafka/kafkabroker.py spark-jars) examples/streaming/kafka_clicks.py --bootstrap-servers 127.0.0.1:9092 --topic clicks --checkpoint /tmp/kafka-clicks-chk --endpoint http://127.0.0.1:8642
"""Streams click events from a Kafka topic into SageMaker Feature Store: Structured Streaming, micro-batch by
micro-batch, with the checkpoint that makes a restarted query resume where it stopped.

Each Kafka record's value is a JSON click event: {"click_id", "user_id", "page", "dwell_seconds", "ts"} with `ts`
an ISO-8601 instant. Two pipelines:

  --features windows (default)  per user, over sliding event-time windows (--window, --slide) with a watermark
                                (--watermark): the clicks, the dwell time summed and the clicks on /checkout,
                                one record per user in the `click_windows` group (its event time the window's end,
                                so the online store keeps each user's latest closed window)
  --features events             each event a record of the `clicks` group, as it comes

A window is written once the watermark passes its end (append output mode): events later than the watermark are
dropped by Spark, as the watermark says. Delivery is at least once: a replayed micro-batch writes its records
again, which the online store absorbs (the latest event time wins, an equal one overwrites).

Runs until stopped: SIGTERM or Ctrl-C stops the query between two checks (every second) and prints the totals;
--available-now processes what the topic holds now and stops. Kafka client options (MSK's IAM auth, TLS) go
through --kafka-option kafka.<name>=<value>, as Spark's Kafka source takes them.
"""

from __future__ import annotations

import argparse
import signal
import sys

EVENT_SCHEMA = "click_id string, user_id string, page string, dwell_seconds double, ts string"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap-servers", required=True, help="Kafka's bootstrap servers (MSK: its broker list)")
    parser.add_argument("--topic", default="clicks")
    parser.add_argument("--checkpoint", required=True, help="the query's checkpoint directory (s3://... on EMR)")
    parser.add_argument("--features", choices=["windows", "events"], default="windows")
    parser.add_argument("--feature-group", help="default: click_windows for windows, clicks for events")
    parser.add_argument("--window", default="10 minutes", help="window length")
    parser.add_argument("--slide", default="5 minutes", help="how far apart windows start")
    parser.add_argument("--watermark", default="1 minute", help="how late an event may be and still count")
    parser.add_argument("--starting-offsets", default="earliest", help="where a new query starts: earliest, latest")
    parser.add_argument("--max-offsets-per-trigger", type=int, help="cap on the events of one micro-batch")
    parser.add_argument("--kafka-option", action="append", default=[], metavar="KEY=VALUE",
                        help="more options of Spark's Kafka source, e.g. kafka.security.protocol=SASL_SSL")
    parser.add_argument("--trigger-seconds", type=float, default=10, help="micro-batch interval")
    parser.add_argument("--available-now", action="store_true", help="process what the topic holds now, then stop")
    parser.add_argument("--endpoint", help="Feature Store endpoint URL (control plane and runtime), e.g. a local store")
    parser.add_argument("--region", help="AWS region (default: the AWS default chain)")
    parser.add_argument("--failed-records-path", help="where rows that cannot be written go (JSON lines)")
    parser.add_argument("--max-failed-records", type=int, default=0, help="the query stops past this many in a run")
    return parser.parse_args(argv)


def clicks(spark, args: argparse.Namespace):
    """The topic's events, parsed: click_id, user_id, page, dwell_seconds, event_time (a timestamp)."""
    from pyspark.sql import functions as F

    reader = (spark.readStream.format("kafka")
              .option("kafka.bootstrap.servers", args.bootstrap_servers)
              .option("subscribe", args.topic)
              .option("startingOffsets", args.starting_offsets))
    if args.max_offsets_per_trigger:
        reader = reader.option("maxOffsetsPerTrigger", args.max_offsets_per_trigger)
    for option in args.kafka_option:
        key, _, value = option.partition("=")
        reader = reader.option(key, value)
    return (reader.load()
            .select(F.from_json(F.col("value").cast("string"), EVENT_SCHEMA).alias("e"))
            .select("e.click_id", "e.user_id", "e.page", "e.dwell_seconds",
                    F.to_timestamp("e.ts").alias("event_time")))


def window_features(events, args: argparse.Namespace):
    """Per user and sliding window: clicks, dwell seconds summed, clicks on /checkout; one row per closed window."""
    from pyspark.sql import functions as F

    # An event without a user or a time belongs to no window (an unparseable value is all nulls).
    return (events.where(F.col("user_id").isNotNull() & F.col("event_time").isNotNull())
            .withWatermark("event_time", args.watermark)
            .groupBy("user_id", F.window("event_time", args.window, args.slide))
            .agg(F.count(F.lit(1)).alias("clicks"),
                 F.sum("dwell_seconds").alias("dwell_seconds_sum"),
                 F.sum(F.when(F.col("page") == "/checkout", 1).otherwise(0)).alias("checkout_clicks"))
            .select("user_id",
                    F.col("window.end").alias("window_end"),
                    F.date_format("window.start", "yyyy-MM-dd'T'HH:mm:ss'Z'").alias("window_start"),
                    "clicks", "dwell_seconds_sum", "checkout_clicks"))


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    group = args.feature_group or ("click_windows" if args.features == "windows" else "clicks")

    from pyspark.sql import SparkSession

    spark = (SparkSession.builder.appName(f"kafka-clicks-{group}")
             # Windows start and end on UTC boundaries, and window_start is written as UTC text.
             .config("spark.sql.session.timeZone", "UTC")
             .getOrCreate())
    try:
        events = clicks(spark, args)
        rows = window_features(events, args) if args.features == "windows" else events
        writer = (rows.writeStream.format("featurestore")
                  .outputMode("append")
                  .option("featureGroupName", group)
                  .option("checkpointLocation", args.checkpoint)
                  .option("maxFailedRecords", args.max_failed_records))
        if args.failed_records_path:
            writer = writer.option("failedRecordsPath", args.failed_records_path)
        if args.endpoint:
            writer = writer.option("runtimeEndpoint", args.endpoint).option("controlEndpoint", args.endpoint)
        if args.region:
            writer = writer.option("region", args.region)
        if args.available_now:
            writer = writer.trigger(availableNow=True)
        else:
            writer = writer.trigger(processingTime=f"{int(args.trigger_seconds * 1000)} milliseconds")

        stopping = []
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stopping.append(True))
        query = writer.start()
        print(f"kafka_clicks: query {query.id} started ({args.features} into {group})", flush=True)
        # Waits in short steps so that a signal stops the query here, where its state is consistent.
        while not stopping and not query.awaitTermination(1):
            pass
        query.stop()
        error = query.exception()
        # The connector keeps the run's totals; the last committed micro-batch has the latest.
        last = spark.sparkContext._jvm.featurestore.spark.WriteSummaries.last(group)
        line = last.get().line() if last.isDefined() else "no micro-batch had rows to write"
        print(f"kafka_clicks: query {query.id} stopped; {line}", flush=True)
        if error:
            print(f"kafka_clicks: the query failed: {error}", file=sys.stderr, flush=True)
            return 1
        return 0
    finally:
        spark.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
