"""One timed run of one client, in a process of its own (started by the runner, pinned and with the client
environment). It prepares everything that is not timed, says `ready` and waits for `go` (the runner takes its
CPU snapshot in between), times the write, says `done`, and waits for `exit` before shutting Spark down.

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

from . import clients


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
    parser.add_argument("--warmup-rows", type=int, default=0)
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
    try:
        if client.kind == "spark":
            spark, prepared = clients.prepare_spark(
                [args.jar, *clients.aws_connector_jars()], args.parquet, args.rows
            )
        else:
            prepared = clients.prepare_sdk(args.parquet, args.rows)
        write = clients.writer(client)
        if args.warmup_rows > 0:
            # The same call on the first rows, into another group, untimed: the JVM's class loading and JIT of
            # the client's code happen here rather than in the timed write.
            warm_target = clients.Target(args.warmup_group, args.warmup_arn, args.sdk_processes, args.sdk_workers)
            write(clients.first_rows(client, prepared, args.warmup_rows), warm_target)
    except Exception:
        _send(out, {"event": "failed", "error": traceback.format_exc()})
        raise

    _send(out, {"event": "ready"})
    _expect(inp, "go")
    error = None
    start = time.perf_counter()
    try:
        write(prepared, target)
    except Exception:
        error = traceback.format_exc()
    seconds = time.perf_counter() - start
    _send(out, {"event": "done", "seconds": seconds, "error": error})
    _expect(inp, "exit")
    if spark is not None:
        spark.stop()


if __name__ == "__main__":
    main()
