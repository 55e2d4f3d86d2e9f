"""Records/s and CPU seconds of the million-row mixed ingestion, on local[2] and on a local standalone cluster.

    .venv/bin/python tests/spark/bench_e2e.py [--rows 1000000] [--runs 3] [--modes local,cluster]

Run by hand (not a test: no timing is asserted anywhere). Each run starts a fresh featurestore-local, creates the
group, and runs tests/spark/ingest_mixed_job.py with spark-submit. CPU is measured from the kernel's accounting:
the driver is this script's child (getrusage of reaped children: the driver JVM and its Python), the executors
are the workers' children (their reaped children's time in /proc/<worker>/stat), the store is read from
/proc/<store>/stat. JVM start-up is included in every figure, and also measured alone by a one-row run of each mode (subtracted
for the CPU per record above the fixed cost); the records/s are the connector's own (from the write's planning
to its commit). Prints one line per run and the medians.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import mixed_rows  # noqa: E402
from cluster import StandaloneCluster, spark_home  # noqa: E402
from conftest import JAR_2_12, spark_env  # noqa: E402
from localstore import LocalStore  # noqa: E402
from readback import summary_lines  # noqa: E402

JOB = Path(__file__).with_name("ingest_mixed_job.py")
TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu(pid: int, children: bool = False) -> float:
    """CPU seconds of `pid` (user + system), or of its reaped children with `children`."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # After the command: state is field 3; utime, stime, cutime, cstime are fields 14-17 (1-based).
    utime, stime, cutime, cstime = (int(fields[i]) for i in range(11, 15))
    return ((cutime + cstime) if children else (utime + stime)) / TICKS


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_once(mode: str, rows: int, work: Path) -> dict:
    store = LocalStore.start(work / "store")
    cluster = None
    try:
        store.create_feature_group("bench", mixed_rows.RECORD_IDENTIFIER, mixed_rows.EVENT_TIME,
                                   mixed_rows.FEATURE_DEFINITIONS, mixed_rows.STORAGE_TYPE)
        env = {**os.environ, **spark_env(store.endpoint), "SPARK_HOME": str(spark_home())}
        master = ["--master", "local[2]"]
        if mode == "cluster":
            cluster = StandaloneCluster(work / "cluster", spark_env(store.endpoint)).start()
            master = cluster.submit_args()
        executors_before = sum(process_cpu(w.pid, children=True) for w in cluster.worker_processes) if cluster else 0
        store_before = process_cpu(store.process.pid)
        driver_before = children_cpu()
        started = time.monotonic()
        done = subprocess.run(
            [str(spark_home() / "bin" / "spark-submit"), *master, "--jars", str(JAR_2_12),
             "--conf", "spark.ui.enabled=false", "--conf", "spark.driver.host=127.0.0.1",
             "--conf", "spark.driver.memory=2g",
             str(JOB), "--group", "bench", "--rows", str(rows), "--partitions", "8", "--endpoint", store.endpoint],
            env=env, capture_output=True, text=True, timeout=1800)
        wall = time.monotonic() - started
        if done.returncode != 0:
            raise RuntimeError(f"spark-submit failed:\n{done.stderr[-4000:]}")
        driver = children_cpu() - driver_before
        executors = 0.0
        if cluster:
            cluster.wait_for_executors_to_exit()
            executors = sum(process_cpu(w.pid, children=True) for w in cluster.worker_processes) - executors_before
        [line] = summary_lines(done.stdout)
        return {"mode": mode, "rate": int(line["rate"]), "seconds": float(line["seconds"]), "wall": wall,
                "driver_cpu": driver, "executor_cpu": executors, "client_cpu": driver + executors,
                "store_cpu": process_cpu(store.process.pid) - store_before, "written": int(line["written"])}
    finally:
        if cluster:
            cluster.stop()
        store.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--modes", default="local,cluster")
    args = parser.parse_args()
    results: dict[str, list[dict]] = {}
    baselines: dict[str, dict] = {}
    for mode in args.modes.split(","):
        # The fixed cost (JVM start-up, session, planning, one row): subtracted for the CPU per record.
        with tempfile.TemporaryDirectory(prefix=f"bench-e2e-{mode}-") as work:
            baselines[mode] = run_once(mode, 1, Path(work))
        b = baselines[mode]
        print(f"{mode} one-row baseline: CPU s: driver {b['driver_cpu']:.1f}, executors {b['executor_cpu']:.1f}, "
              f"client total {b['client_cpu']:.1f}", flush=True)
        for n in range(args.runs):
            with tempfile.TemporaryDirectory(prefix=f"bench-e2e-{mode}-") as work:
                r = run_once(mode, args.rows, Path(work))
            assert r["written"] == args.rows, r
            results.setdefault(mode, []).append(r)
            print(f"{mode} run {n + 1}: {r['rate']} records/s (write {r['seconds']:.1f} s, spark-submit "
                  f"{r['wall']:.1f} s); CPU s: driver {r['driver_cpu']:.1f}, executors {r['executor_cpu']:.1f}, "
                  f"client total {r['client_cpu']:.1f}; store {r['store_cpu']:.1f}", flush=True)
    for mode, runs in results.items():
        med = {k: statistics.median(r[k] for r in runs) for k in
               ("rate", "seconds", "wall", "driver_cpu", "executor_cpu", "client_cpu", "store_cpu")}
        print(f"{mode} median of {len(runs)}: {med['rate']:.0f} records/s, write {med['seconds']:.1f} s, "
              f"spark-submit {med['wall']:.1f} s; client CPU {med['client_cpu']:.1f} s (driver "
              f"{med['driver_cpu']:.1f}, executors {med['executor_cpu']:.1f}), "
              f"{1e6 * med['client_cpu'] / args.rows:.1f} us/record, "
              f"{1e6 * (med['client_cpu'] - baselines[mode]['client_cpu']) / args.rows:.1f} us/record above the "
              f"one-row baseline; store CPU {med['store_cpu']:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
