"""Freshness: how long from an event produced to Kafka until its record is readable online, through a Structured
Streaming query (Spark's Kafka source, a processing-time trigger) into the local store. Ours writes with
`writeStream.format("featurestore")`; AWS's connector has no streaming sink, so it runs as its users write it, a
`foreachBatch` calling `FeatureStoreManager().ingest_data`.

Each event is one JSON value {"id", "produced_ms", "ts"}; the producer (kafka-python, acks from the leader) notes
the time just before each send. A prober polls the oldest unseen ids with BatchGetRecord (the online store's read
path, 100 ids a call) and notes when each first answers; latency = seen - produced, on one clock. Two phases per
connector: a steady rate, then a burst sent at once after the steady events are all seen.

    python -m featurebench.freshness --out DIR --work DIR --store-binary BIN --jar JAR [--connectors ours,aws]
        [--rate 100] [--seconds 30] [--burst 5000] [--trigger-ms 1000]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

from . import cli
from .env import client_env

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "kafka"))
import kafkabroker  # noqa: E402

GROUP = "freshness"
DEFINITIONS = [{"FeatureName": "id", "FeatureType": "String"},
               {"FeatureName": "event_time", "FeatureType": "String"},
               {"FeatureName": "produced_ms", "FeatureType": "Integral"}]
CONNECTORS = {"ours": "ours (writeStream.format(\"featurestore\"))",
              "aws": "AWS's connector (foreachBatch + ingest_data)"}


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


class Prober(threading.Thread):
    """Polls the oldest unseen ids until each is readable; `seen[id]` = when it first was (time.time())."""

    def __init__(self, runtime, group: str):
        super().__init__(daemon=True)
        self.runtime, self.group = runtime, group
        self.pending: list[str] = []
        self.seen: dict[str, float] = {}
        self.lock = threading.Lock()
        self.done = threading.Event()

    def expect(self, record_id: str) -> None:
        with self.lock:
            self.pending.append(record_id)

    def outstanding(self) -> int:
        with self.lock:
            return len(self.pending)

    def run(self) -> None:
        while not self.done.is_set():
            with self.lock:
                oldest = self.pending[:100]
            if not oldest:
                time.sleep(0.01)
                continue
            answer = self.runtime.batch_get_record(
                Identifiers=[{"FeatureGroupName": self.group, "RecordIdentifiersValueAsString": oldest}])
            now = time.time()
            found = {r["RecordIdentifierValueAsString"] for r in answer["Records"]}
            with self.lock:
                for record_id in found:
                    self.seen[record_id] = now
                self.pending = [i for i in self.pending if i not in found]
            if not found:
                time.sleep(0.02)


def produce(broker_bootstrap: str, topic: str, prober: Prober, produced: dict[str, float], prefix: str,
            count: int, rate: float | None) -> None:
    """`count` events, at `rate` per second (None: all at once)."""
    from kafka import KafkaProducer

    producer = KafkaProducer(bootstrap_servers=broker_bootstrap, acks=1, linger_ms=0)
    start = time.time()
    for n in range(count):
        if rate:
            delay = start + n / rate - time.time()
            if delay > 0:
                time.sleep(delay)
        record_id = f"{prefix}-{n:07d}"
        now = time.time()
        produced[record_id] = now
        prober.expect(record_id)
        value = {"id": record_id, "produced_ms": int(now * 1000),
                 "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}Z"}
        producer.send(topic, json.dumps(value).encode())
    producer.flush()
    producer.close()


def wait_drained(prober: Prober, query, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while prober.outstanding():
        if not query.isActive:
            raise RuntimeError(f"the query stopped: {query.exception()}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{prober.outstanding()} events not readable after {timeout:.0f} s")
        time.sleep(0.05)


def worker(args: argparse.Namespace) -> int:
    """One connector's run, in a process of its own (its own Spark session and environment)."""
    import boto3
    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F

    jars = [str(args.jar), *kafkabroker.spark_kafka_jars()]
    if args.worker == "aws":
        import feature_store_pyspark

        jars += feature_store_pyspark.classpath_jars()
    spark = (SparkSession.builder.master("local[2]").appName(f"freshness-{args.worker}")
             .config("spark.jars", ",".join(jars))
             .config("spark.ui.enabled", "false")
             .config("spark.ui.showConsoleProgress", "false")
             .config("spark.sql.shuffle.partitions", "2")
             .config("spark.driver.bindAddress", "127.0.0.1")
             .config("spark.driver.host", "127.0.0.1")
             .getOrCreate())
    spark.sparkContext.setLogLevel("WARN")
    rows = (spark.readStream.format("kafka").option("kafka.bootstrap.servers", args.bootstrap)
            .option("subscribe", args.topic)
            # The topic is new: from its start, so that no event produced before the first batch is skipped.
            .option("startingOffsets", "earliest").load()
            .select(F.from_json(F.col("value").cast("string"), "id string, produced_ms long, ts string").alias("e"))
            .select(F.col("e.id").alias("id"), F.col("e.ts").alias("event_time"), F.col("e.produced_ms")))
    checkpoint = args.work / f"freshness-{args.worker}-checkpoint"
    shutil.rmtree(checkpoint, ignore_errors=True)  # a new topic each run: an old checkpoint's offsets are not its
    checkpoint = str(checkpoint)
    trigger = {"processingTime": f"{args.trigger_ms} milliseconds"}
    if args.worker == "ours":
        query = (rows.writeStream.format("featurestore").option("featureGroupName", GROUP)
                 .option("targetStores", "OnlineStore").option("checkpointLocation", checkpoint)
                 .trigger(**trigger).start())
    else:
        from feature_store_pyspark.FeatureStoreManager import FeatureStoreManager

        manager = FeatureStoreManager()

        def ingest(df, _epoch):
            manager.ingest_data(input_data_frame=df, feature_group_arn=args.arn, target_stores=["OnlineStore"])

        query = (rows.writeStream.foreachBatch(ingest).option("checkpointLocation", checkpoint)
                 .trigger(**trigger).start())

    runtime = boto3.client("sagemaker-featurestore-runtime")
    prober = Prober(runtime, GROUP)
    prober.start()
    produced: dict[str, float] = {}
    # Warm-up: the first micro-batches plan, compile and describe the group; they are not measured.
    produce(args.bootstrap, args.topic, prober, produced, "warm", 20, 20)
    wait_drained(prober, query, 180)
    print(f"freshness {args.worker}: warmed up", file=sys.stderr, flush=True)
    results = {}
    for phase, count, rate in (("steady", int(args.rate * args.seconds), args.rate), ("burst", args.burst, None)):
        start = time.time()
        ids_before = set(produced)
        produce(args.bootstrap, args.topic, prober, produced, phase, count, rate)
        wait_drained(prober, query, 300)
        latencies = [prober.seen[i] - produced[i] for i in produced if i not in ids_before]
        results[phase] = {"events": count, "rate": rate, "seconds": round(time.time() - start, 1),
                          "p50_ms": round(1000 * percentile(latencies, 50)),
                          "p99_ms": round(1000 * percentile(latencies, 99)),
                          "max_ms": round(1000 * max(latencies))}
        print(f"freshness {args.worker} {phase}: {results[phase]}", file=sys.stderr, flush=True)
    prober.done.set()
    query.stop()
    spark.stop()
    print(json.dumps({"connector": args.worker, "trigger_ms": args.trigger_ms, **results}), flush=True)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cli.add_setup_arguments(parser)
    parser.add_argument("--connectors", default="ours,aws")
    parser.add_argument("--rate", type=float, default=100, help="events/s of the steady phase")
    parser.add_argument("--seconds", type=float, default=30, help="length of the steady phase")
    parser.add_argument("--burst", type=int, default=5000, help="events of the burst, sent at once")
    parser.add_argument("--trigger-ms", type=int, default=1000, help="the processing-time trigger's interval")
    parser.add_argument("--worker", choices=sorted(CONNECTORS), help=argparse.SUPPRESS)
    parser.add_argument("--bootstrap", help=argparse.SUPPRESS)
    parser.add_argument("--topic", help=argparse.SUPPRESS)
    parser.add_argument("--arn", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args)

    from .store import LocalStore

    args.work.mkdir(parents=True, exist_ok=True)
    broker = kafkabroker.Broker.start(args.work / "freshness-kafka")
    runs = []
    try:
        for connector in args.connectors.split(","):
            with LocalStore(args.store_binary, args.work / f"freshness-store-{connector}",
                            args.work / f"freshness-store-{connector}.log", cpus=None) as store:
                arn = store._control.create_feature_group(
                    FeatureGroupName=GROUP, RecordIdentifierFeatureName="id", EventTimeFeatureName="event_time",
                    FeatureDefinitions=DEFINITIONS, OnlineStoreConfig={"EnableOnlineStore": True})["FeatureGroupArn"]
                topic = f"freshness-{connector}"
                broker.create_topic(topic, partitions=2)
                command = [sys.executable, "-m", "featurebench.freshness", "--worker", connector,
                           "--bootstrap", broker.bootstrap, "--topic", topic, "--arn", arn,
                           "--out", str(args.out), "--work", str(args.work), "--store-binary", str(args.store_binary),
                           "--jar", str(args.jar), "--rate", str(args.rate), "--seconds", str(args.seconds),
                           "--burst", str(args.burst), "--trigger-ms", str(args.trigger_ms)]
                done = subprocess.run(command, env=client_env(store.endpoint, args.work / f"freshness-{connector}"),
                                      stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True, timeout=1800)
                if done.returncode != 0:
                    raise RuntimeError(f"the {connector} run failed ({done.returncode})")
                runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    finally:
        broker.stop()
    lines = [f"Trigger: processing time, {args.trigger_ms} ms; steady: {args.rate:g} events/s for {args.seconds:g} s; "
             f"burst: {args.burst} events sent at once; local[2], one Kafka topic of 2 partitions.", "",
             "| connector | phase | events | p50 (ms) | p99 (ms) | max (ms) |",
             "| --- | --- | ---: | ---: | ---: | ---: |"]
    for run in runs:
        for phase in ("steady", "burst"):
            r = run[phase]
            lines.append(f"| {CONNECTORS[run['connector']]} | {phase} | {r['events']} | {r['p50_ms']} | "
                         f"{r['p99_ms']} | {r['max_ms']} |")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.md").write_text("\n".join(lines) + "\n")
    (args.out / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in runs))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
