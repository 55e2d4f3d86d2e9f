"""The seed pipeline's one implementation: transactions (CSV and Parquet files) to per-customer features, written
to a feature group with `df.write.format("featurestore")`, and the write's summary to an output directory.

The SageMaker Processing script (processing_job.py), the Glue job (examples/glue/glue_job.py) and the EMR step
(examples/emr/emr_step.py) only parse their arguments and call `run`; ship this file with them (--py-files,
submit_py_files, --extra-py-files).

Input: files under one directory (searched recursively), `*.csv` with a header and `*.parquet`, each row one
transaction: customer_id, txn_time, amount, fee. A CSV's txn_time is ISO-8601 text with any UTC offset
(`2026-03-01T09:15:00+05:30`); a Parquet's is a timestamp. Output: one record per customer with a transaction in
the window [window end - window days, window end), into a feature group with these features (examples/
feature_groups.py creates it as `customer-txn-features`):

    customer_id      String      the entity
    event_time       String      its latest transaction in the window, in UTC (`2026-03-07T21:04:05Z`)
    first_txn_time   String      its earliest transaction in the window, in UTC
    txn_count        Integral    transactions in the window
    amount_sum       Fractional  their amounts' sum
    amount_avg       Fractional  amount_sum / txn_count
    fee_ratio        Fractional  the fees' sum / amount_sum
    max_amount_band  String      the largest amount, bucketed: small (< 10), medium (< 100), large

The aggregates are over the rows this job reads: run on shards (ShardedByS3Key, one job per shard) only when each
customer's transactions are in one file, as with files partitioned by customer; otherwise give every instance
all files or run one job.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Dict, Optional, Sequence

UTC_TEXT = "yyyy-MM-dd'T'HH:mm:ss'Z'"
DEFAULT_WINDOW_DAYS = 7


@dataclass(frozen=True)
class PipelineArgs:
    """What every entry point passes to `run`, whichever way it parsed it."""

    feature_group_name: str
    input: str
    output: str
    region: Optional[str] = None
    window_end: Optional[str] = None  # ISO-8601; default: now
    window_days: int = DEFAULT_WINDOW_DAYS
    max_failed_records: int = 0
    options: Dict[str, str] = field(default_factory=dict)  # passed through to the connector


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The pipeline's arguments, shared by the entry points that parse a plain command line."""
    parser.add_argument("--feature-group-name", required=True, help="feature group name or ARN")
    parser.add_argument("--input", required=True, help="directory of the input files (local path or s3://)")
    parser.add_argument("--output", required=True, help="directory for summary-<host>.json and failed-records/<host>")
    parser.add_argument("--region", help="AWS region (default: the AWS default chain)")
    parser.add_argument("--window-end", help="end of the window, ISO-8601 (default: now)")
    parser.add_argument("--window-days", type=int, default=DEFAULT_WINDOW_DAYS)
    parser.add_argument("--max-failed-records", type=int, default=0)
    parser.add_argument("--option", action="append", default=[], metavar="NAME=VALUE",
                        help="a connector option, passed through (repeatable), e.g. maxInFlight=16")
    return parser


def pipeline_args(ns: argparse.Namespace) -> PipelineArgs:
    """`PipelineArgs` from a namespace `add_arguments` parsed; a malformed --option is an error, not ignored."""
    options: Dict[str, str] = {}
    for item in ns.option:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise SystemExit(f"--option {item!r}: expected NAME=VALUE")
        options[name] = value
    return PipelineArgs(ns.feature_group_name, ns.input, ns.output, ns.region, ns.window_end, ns.window_days,
                        ns.max_failed_records, options)


def parse_window_end(text: Optional[str]) -> datetime:
    """The window's end as an aware UTC datetime; text without an offset is UTC."""
    if not text:
        return datetime.now(timezone.utc)
    end = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return (end if end.tzinfo else end.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)


def read_transactions(spark: Any, path: str) -> Any:
    """Every `*.csv` and `*.parquet` under `path` as one DataFrame (customer_id, txn_time timestamp, amount,
    fee). Explicit schemas: no inference pass over thousands of files, and a file of another shape fails."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import DoubleType, StringType, StructField, StructType, TimestampType

    def schema(time_type: Any) -> StructType:
        return StructType([StructField("customer_id", StringType()), StructField("txn_time", time_type),
                           StructField("amount", DoubleType()), StructField("fee", DoubleType())])

    csv = (spark.read.schema(schema(StringType())).option("header", "true").option("mode", "FAILFAST")
           .option("recursiveFileLookup", "true").option("pathGlobFilter", "*.csv").csv(path))
    # Text with an offset to an instant: Spark's cast understands ISO-8601 with Z or +hh:mm.
    csv = csv.withColumn("txn_time", F.col("txn_time").cast("timestamp"))
    parquet = (spark.read.schema(schema(TimestampType())).option("recursiveFileLookup", "true")
               .option("pathGlobFilter", "*.parquet").parquet(path))
    return csv.unionByName(parquet)


def derive_features(transactions: Any, window_end: datetime, window_days: int) -> Any:
    """Per-customer features over the window (see the module's docstring). The session's time zone must be UTC
    (run sets it) for the UTC text of the timestamps."""
    from pyspark.sql import functions as F

    end = F.timestamp_seconds(F.lit(int(window_end.timestamp())))
    start = F.timestamp_seconds(F.lit(int(window_end.timestamp()) - window_days * 86_400))
    in_window = transactions.where((F.col("txn_time") >= start) & (F.col("txn_time") < end))
    per_customer = in_window.groupBy("customer_id").agg(
        F.max("txn_time").alias("last"), F.min("txn_time").alias("first"), F.count("*").alias("txn_count"),
        F.sum("amount").alias("amount_sum"), F.sum("fee").alias("fee_sum"), F.max("amount").alias("max_amount"))
    return per_customer.select(
        "customer_id",
        F.date_format("last", UTC_TEXT).alias("event_time"),
        F.date_format("first", UTC_TEXT).alias("first_txn_time"),
        F.col("txn_count").cast("long").alias("txn_count"),
        "amount_sum",
        (F.col("amount_sum") / F.col("txn_count")).alias("amount_avg"),
        (F.col("fee_sum") / F.col("amount_sum")).alias("fee_ratio"),
        F.when(F.col("max_amount") < 10, "small").when(F.col("max_amount") < 100, "medium").otherwise("large")
        .alias("max_amount_band"),
    )


def host_name() -> str:
    """This instance's name: SageMaker Processing's current_host, else the machine's; names the summary file so
    that instances writing to one output prefix do not overwrite each other's."""
    try:
        with open("/opt/ml/config/resourceconfig.json") as f:
            return str(json.load(f)["current_host"])
    except (OSError, ValueError, KeyError):
        return socket.gethostname()


def write_summary(spark: Any, output: str, summary: Dict[str, Any]) -> None:
    """summary-<host>.json in `output`: a local directory (Processing uploads it when the job ends), or through
    Spark for a URI (s3:// on Glue and EMR), as a directory of that name holding one JSON file."""
    name = f"summary-{summary['host']}.json"
    if "://" in output and not output.startswith("file://"):
        spark.createDataFrame([(json.dumps(summary),)], "value string").coalesce(1) \
            .write.mode("overwrite").text(f"{output.rstrip('/')}/{name}")
        return
    output = output[len("file://"):] if output.startswith("file://") else output
    os.makedirs(output, exist_ok=True)
    with open(os.path.join(output, name), "w") as f:
        json.dump(summary, f, indent=2)


def run(spark: Any, args: PipelineArgs, app: str) -> Dict[str, Any]:
    """Reads, transforms and writes; writes `summary-<host>.json` to args.output (also when the write fails on
    too many failed records) and returns it. Raises what the write raises."""
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    started = time.monotonic()
    transactions = read_transactions(spark, args.input)
    features = derive_features(transactions, parse_window_end(args.window_end), args.window_days).cache()
    records = features.count()

    # One directory per instance: the connector's file names are unique within a Spark application, and two
    # instances' applications can have the same id.
    host = host_name()
    failed_path = os.path.join(args.output, "failed-records", host)
    options = {"featureGroupName": args.feature_group_name, "maxFailedRecords": str(args.max_failed_records),
               "failedRecordsPath": failed_path, **args.options}
    if args.region:
        options["region"] = args.region
    summaries = spark.sparkContext._jvm.featurestore.spark.WriteSummaries
    before = summaries.last(args.feature_group_name)
    error: Optional[BaseException] = None
    try:
        features.write.format("featurestore").options(**options).mode("append").save()
    except Exception as e:  # the summary is still worth writing when the commit refused too many failures
        error = e
    kept = summaries.last(args.feature_group_name)
    summary: Dict[str, Any] = {
        "app": app, "host": host, "feature_group": args.feature_group_name, "input": args.input,
        "records": records, "seconds": round(time.monotonic() - started, 3), "failed_records_path": failed_path,
        "error": str(error).splitlines()[0] if error else None,
    }
    if kept.isDefined() and not kept.equals(before):
        s = kept.get()
        summary.update(written=s.written(), failed=s.failed(), throttled=s.throttled(), line=s.line())
    write_summary(spark, args.output, summary)
    print(f"{app}: {records} records from {args.input}, {summary.get('written', 0)} written, "
          f"{summary.get('failed', 0)} failed, to feature group {args.feature_group_name}", flush=True)
    if error:
        raise error
    return summary


def main(argv: Sequence[str], app: str, description: str) -> int:
    """A plain command-line entry point: parse, start the session, run, stop."""
    args = pipeline_args(add_arguments(argparse.ArgumentParser(description=description)).parse_args(argv))
    from pyspark.sql import SparkSession

    spark = SparkSession.builder.appName(f"{app}-{args.feature_group_name}").getOrCreate()
    try:
        run(spark, args, app)
        return 0
    finally:
        spark.stop()
