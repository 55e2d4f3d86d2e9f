"""One client of the limit benchmark (featurebench.limit), in a process of its own: a Spark session with
`--tasks` task slots, the warm-up rows cached, then commands from the runner, one JSON line each over
--ctl-in, each answered over --ctl-out:

    pass {rows}               write the first `rows` warm-up rows to the (uncapped) warm-up group; answers
                              `passed` with the write's wall time (the runner decides how many passes warm it)
    prepare {rows, parquet}   the first `rows` of the warm-up rows when there are enough, else drop those and
                              cache the Parquet file's; answers `ready`
    go                        the timed write into the measured group; answers `done` with its wall time, the
                              error it raised if any, and the client's own failed count where it reports one
    exit                      stop Spark and exit

Only Spark-based clients run here (the cap and the task count are Spark's).
"""

import argparse
import json
import os
import re
import sys
import time
import traceback
from pathlib import Path
from typing import IO, Any

from . import clients, dataset

# What each connector says when it finished but some records failed (its job raises): the count of them.
_OURS_FAILED = re.compile(r"(\d+) of \d+ records failed to be written")
_AWS_FAILED = re.compile(r"however (\d+) records failed to be ingested")


def _send(out: IO[str], message: dict) -> None:
    out.write(json.dumps(message) + "\n")
    out.flush()


def _receive(inp: IO[str]) -> dict:
    line = inp.readline()
    if not line:
        sys.exit("limit worker: the runner went away")
    return json.loads(line)


def _warm_pass(write, warm_df, target: clients.Target, rows: int) -> float:
    """One warm-up write of the first `rows` cached rows (a filter on the record identifier keeps every
    partition busy); its wall time."""
    from pyspark.sql.functions import col

    start = time.perf_counter()
    write(warm_df.where(col(dataset.RECORD_ID) < rows), target)
    return time.perf_counter() - start


def _timed_rows(spark, warm_df, warmup_rows: int, command: dict, tasks: int):
    """The timed write's rows: the first ones of the cached warm-up rows when they suffice (a filter on cached
    rows costs next to nothing), else the command's Parquet file cached in their place."""
    from pyspark.sql.functions import col

    if command["rows"] <= warmup_rows:
        return warm_df.where(col(dataset.RECORD_ID) < command["rows"])
    warm_df.unpersist()
    return clients.cache_rows(spark, Path(command["parquet"]), command["rows"], tasks)


def _our_summary(spark, arn: str) -> str | None:
    """Our connector's summary line of the latest write to `arn` in this JVM (None for the peers)."""
    kept = spark._jvm.featurestore.spark.WriteSummaries.last(arn)
    return kept.get().line() if kept.isDefined() else None


def _client_failed(error: str | None, summary: str | None) -> int | None:
    """Records the client itself says failed: from our summary line, else from its error; None if unknown."""
    if summary:
        match = re.search(r", (\d+) failed, ", summary)
        return int(match.group(1)) if match else None
    if error is None:
        return 0
    for pattern in (_OURS_FAILED, _AWS_FAILED):
        if match := pattern.search(error):
            return int(match.group(1))
    return None


def _timed_write(spark, write, df, target: clients.Target, client: clients.Client) -> dict[str, Any]:
    error = None
    start = time.perf_counter()
    try:
        write(df, target)
    except Exception:
        error = traceback.format_exc()
    seconds = time.perf_counter() - start
    summary = None if client.peer else _our_summary(spark, target.arn)
    return {"seconds": seconds, "error": error, "summary": summary, "client_failed": _client_failed(error, summary)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--client", required=True, choices=sorted(clients.LIMIT_BY_NAME))
    parser.add_argument("--tasks", required=True, type=int, help="Spark's local[N] and the partitions")
    parser.add_argument("--jar", required=True, type=Path, help="our connector's jar")
    parser.add_argument("--warmup-parquet", required=True, type=Path)
    parser.add_argument("--warmup-rows", required=True, type=int)
    parser.add_argument("--warmup-arn", required=True)
    parser.add_argument("--arn", required=True)
    parser.add_argument("--ctl-in", required=True, type=int)
    parser.add_argument("--ctl-out", required=True, type=int)
    args = parser.parse_args()

    client = clients.LIMIT_BY_NAME[args.client]
    inp, out = os.fdopen(args.ctl_in, "r"), os.fdopen(args.ctl_out, "w")
    write = clients.writer(client)
    # The SDK-sizing fields of a Target mean nothing to Spark clients.
    warm_target = clients.Target(args.warmup_arn.rsplit("/", 1)[-1], args.warmup_arn, 0, 0)
    target = clients.Target(args.arn.rsplit("/", 1)[-1], args.arn, 0, 0)
    try:
        jars = [args.jar, *clients.aws_connector_jars()]
        spark, warm_df = clients.prepare_spark(jars, args.warmup_parquet, args.warmup_rows, args.tasks)
    except Exception:
        _send(out, {"event": "failed", "error": traceback.format_exc()})
        raise
    _send(out, {"event": "ready"})

    df = None
    while (command := _receive(inp))["event"] != "exit":
        try:
            if command["event"] == "pass":
                _send(out, {"event": "passed", "seconds": _warm_pass(write, warm_df, warm_target, command["rows"])})
            elif command["event"] == "prepare":
                df = _timed_rows(spark, warm_df, args.warmup_rows, command, args.tasks)
                _send(out, {"event": "ready"})
            elif command["event"] == "go":
                _send(out, {"event": "done", **_timed_write(spark, write, df, target, client)})
            else:
                raise ValueError(f"unknown command {command}")
        except Exception:
            _send(out, {"event": "failed", "error": traceback.format_exc()})
            raise
    spark.stop()


if __name__ == "__main__":
    main()
