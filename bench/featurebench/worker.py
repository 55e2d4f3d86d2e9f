"""One timed run of one client, in a process of its own (started by the runner, pinned and with the client
environment). It prepares everything that is not timed, says `ready` and waits for `go` (the runner takes its
CPU snapshot in between), times the write, says `done`, and waits for `exit` before shutting Spark down.

Untimed first: the warm-up (featurebench.warmup's rule), the same call on the first --warmup-rows rows into
another group. Timed: the write of all --rows rows, repeated into the same group (the same records again: the
store overwrites each, as the service does at an equal event time) until --min-seconds have passed, so that no
run is short enough for its fixed costs to weigh.

The conversation goes over two pipes (--ctl-in, --ctl-out) as JSON lines, apart from stdout and stderr, which
Spark's JVM shares.
"""

import argparse
import json
import os
import sys
import time
import traceback
from pathlib import Path

from . import clients, warmup


def _send(out, message: dict) -> None:
    out.write(json.dumps(message) + "\n")
    out.flush()


def _expect(inp, event: str) -> None:
    line = inp.readline()
    if not line:
        sys.exit(f"worker: the runner went away while waiting for '{event}'")
    got = json.loads(line).get("event")
    if got != event:
        sys.exit(f"worker: expected '{event}', got '{got}'")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--client", required=True, choices=sorted(clients.BY_NAME))
    parser.add_argument("--parquet", required=True, type=Path)
    parser.add_argument("--rows", required=True, type=int)
    parser.add_argument("--group", required=True)
    parser.add_argument("--arn", required=True)
    parser.add_argument("--warmup-rows", type=int, default=0, help="0: no warm-up (a cold client is timed)")
    parser.add_argument("--smoke", action="store_true", help="warmup.SMOKE rather than warmup.FULL")
    parser.add_argument("--min-seconds", type=float, default=0.0, help="repeat the write until this long")
    parser.add_argument("--warmup-group")
    parser.add_argument("--warmup-arn")
    parser.add_argument("--jar", required=True, type=Path, help="our connector's jar")
    parser.add_argument("--sdk-processes", type=int, required=True)
    parser.add_argument("--sdk-workers", type=int, required=True)
    parser.add_argument("--ctl-in", required=True, type=int)
    parser.add_argument("--ctl-out", required=True, type=int)
    args = parser.parse_args()

    client = clients.BY_NAME[args.client]
    target = clients.Target(args.group, args.arn, args.sdk_processes, args.sdk_workers)
    inp = os.fdopen(args.ctl_in, "r")
    out = os.fdopen(args.ctl_out, "w")

    spark = None
    warmed = None
    try:
        if client.kind == "spark":
            spark, prepared = clients.prepare_spark(
                [args.jar, *clients.aws_connector_jars()], args.parquet, args.rows
            )
        else:
            prepared = clients.prepare_sdk(args.parquet, args.rows)
        write = clients.writer(client)
        if args.warmup_rows > 0:
            warm_target = clients.Target(args.warmup_group, args.warmup_arn, args.sdk_processes, args.sdk_workers)
            warm_rows = clients.first_rows(client, prepared, args.warmup_rows)
            warmed = warmup.warm(lambda: write(warm_rows, warm_target), warmup.SMOKE if args.smoke else warmup.FULL)
    except Exception:
        _send(out, {"event": "failed", "error": traceback.format_exc()})
        raise

    _send(out, {"event": "ready", "warmup": warmed})
    _expect(inp, "go")
    error = None
    writes = 0
    start = time.perf_counter()
    try:
        while writes == 0 or time.perf_counter() - start < args.min_seconds:
            write(prepared, target)
            writes += 1
    except Exception:
        error = traceback.format_exc()
    seconds = time.perf_counter() - start
    _send(out, {"event": "done", "seconds": seconds, "writes": writes, "error": error})
    _expect(inp, "exit")
    if spark is not None:
        spark.stop()


if __name__ == "__main__":
    main()
