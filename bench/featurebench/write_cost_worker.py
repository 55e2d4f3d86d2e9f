"""The write-cost benchmark's client process (started by featurebench.write_cost, pinned, with the client
environment): one warm Spark session, the data cached once per size, then writes of each size into one group,
each timed on its own (wall time, and the CPU of this process tree: Python, the JVM and its children). Reports
each write as a JSON line on --ctl-out.

Warm-up, before anything is timed: featurebench.warmup's rule, with writes of WARM_ROWS rows.
"""

import argparse
import json
import os
import sys
import traceback
from pathlib import Path

from . import clients, warmup

WARM_ROWS = 10_000


def _send(out, message: dict) -> None:
    out.write(json.dumps(message) + "\n")
    out.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--client", required=True, choices=[c.name for c in clients.CLIENTS if c.kind == "spark"])
    parser.add_argument("--parquet", required=True, type=Path)
    parser.add_argument("--group", required=True)
    parser.add_argument("--arn", required=True)
    parser.add_argument("--jar", required=True, type=Path)
    parser.add_argument("--sizes", required=True, help="rows per write, e.g. 1,1000,10000")
    parser.add_argument("--writes", required=True, help="writes of each size, e.g. 30,30,10")
    parser.add_argument("--smoke-warmup", action="store_true", help="warmup.SMOKE: a few seconds")
    parser.add_argument("--ctl-in", required=True, type=int)
    parser.add_argument("--ctl-out", required=True, type=int)
    args = parser.parse_args()
    out = os.fdopen(args.ctl_out, "w")
    sizes = [int(s) for s in args.sizes.split(",")]
    writes = [int(w) for w in args.writes.split(",")]
    client = clients.BY_NAME[args.client]
    target = clients.Target(args.group, args.arn, 1, 1)
    spark = None
    try:
        spark = clients.spark_session([args.jar, *clients.aws_connector_jars()])
        base = spark.read.parquet(str(args.parquet)).cache()
        base.count()
        write = clients.writer(client)

        def rows(n: int):
            df = base.limit(n).repartition(clients.SPARK_CORES).cache()
            if df.count() != n:
                raise RuntimeError(f"{args.parquet} has fewer than {n} rows")
            return df

        warm_df = rows(WARM_ROWS)
        report = warmup.warm(lambda: write(warm_df, target), warmup.SMOKE if args.smoke_warmup else warmup.FULL)
        _send(out, {"event": "warm", **report})
        for size, count in zip(sizes, writes):
            df = rows(size)
            for _ in range(count):
                wall, cpu = warmup.timed(lambda: write(df, target))
                _send(out, {"event": "write", "rows": size, "wall_s": wall, "cpu_s": cpu})
            df.unpersist()
        _send(out, {"event": "done"})
    except Exception:
        _send(out, {"event": "failed", "error": traceback.format_exc()})
        sys.exit(1)
    finally:
        if spark is not None:
            spark.stop()


if __name__ == "__main__":
    main()
