"""The write-cost benchmark's client process (started by featurebench.write_cost, pinned, with the client
environment): one warm Spark session, the data cached once per size, then writes of each size into one group,
each timed on its own (wall time, and the CPU of this process tree: Python, the JVM and its children). Reports
each write as a JSON line on --ctl-out.

Warm-up, before anything is timed: writes of WARM_ROWS rows in slices of at least SLICE_S seconds, until at least
WARM_MIN_S seconds of the client's own work and two slices in a row whose CPU per write agree within 5% (at most
WARM_MAX_S seconds).
"""

import argparse
import json
import os
import statistics
import sys
import time
import traceback
from pathlib import Path

from . import clients, procfs

WARM_ROWS = 10_000
SLICE_S = 4.0
WARM_MIN_S = 20.0
WARM_MAX_S = 180.0
AGREE = 0.05


def _timed(write, df, target) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process tree) of one write."""
    pid = os.getpid()
    before = procfs.cpu_snapshot(pid)
    start = time.perf_counter()
    write(df, target)
    wall = time.perf_counter() - start
    return wall, procfs.cpu_used(before, procfs.cpu_snapshot(pid))[0]


def _warm(write, df, target, out, min_s: float, max_s: float, slice_s: float) -> None:
    started = time.perf_counter()
    slices: list[float] = []  # CPU per write of each slice
    while True:
        slice_start = time.perf_counter()
        cpu = []
        while time.perf_counter() - slice_start < slice_s:
            cpu.append(_timed(write, df, target)[1])
        slices.append(statistics.median(cpu))
        elapsed = time.perf_counter() - started
        agree = len(slices) >= 2 and abs(slices[-1] - slices[-2]) <= AGREE * slices[-2]
        if (elapsed >= min_s and agree) or elapsed >= max_s:
            _send(out, {"event": "warm", "seconds": round(elapsed, 1), "slices": len(slices),
                        "cpu_ms_per_write": [round(s * 1000, 2) for s in slices], "stable": agree})
            return


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
    parser.add_argument("--warm-min-s", type=float, default=WARM_MIN_S)
    parser.add_argument("--warm-max-s", type=float, default=WARM_MAX_S)
    parser.add_argument("--slice-s", type=float, default=SLICE_S)
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

        _warm(write, rows(WARM_ROWS), target, out, args.warm_min_s, args.warm_max_s, args.slice_s)
        for size, count in zip(sizes, writes):
            df = rows(size)
            for _ in range(count):
                wall, cpu = _timed(write, df, target)
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
