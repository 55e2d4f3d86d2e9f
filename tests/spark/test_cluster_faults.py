"""Faults that need executors of their own, on a local standalone cluster (a master and two workers from the
pyspark distribution): an executor JVM killed with `kill -9` mid-write, and a slow task overtaken by its
speculative copy, so that two attempts of one partition write at once. Each job is checked by its summary and by
reading the whole online store back (versioned_rows.py: every record with its newer version's values)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time

import pytest

import versioned_rows
from cluster import StandaloneCluster
from conftest import spark_env
from readback import summary_lines

JOB = os.path.join(os.path.dirname(__file__), "fault_job.py")
TASK_LINE = re.compile(
    r"featurestore task \d+ \(partition (\d+), attempt (\d+)\) (committed|aborted): (\d+) rows accepted, "
    r"(\d+) written, (\d+) failed")


@pytest.fixture(scope="module")
def cluster(store, tmp_path_factory):
    # Two host names for one loopback: a speculative copy must run on another host than its original.
    running = StandaloneCluster(tmp_path_factory.mktemp("fault-cluster"), spark_env(store.endpoint),
                                worker_hosts=["127.0.0.1", "localhost"]).start()
    try:
        yield running
    finally:
        running.stop()


def submit(cluster, store, jar, *args: str, conf: tuple[str, ...] = ()) -> subprocess.Popen:
    return subprocess.Popen(cluster.spark_submit(jar, JOB, "--endpoint", store.endpoint, *args, conf=conf),
                            env=cluster.submit_env(spark_env(store.endpoint)),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(job: subprocess.Popen, timeout: float = 600) -> tuple[str, str]:
    """The job's stdout (with the connector's summary line) and stderr (the driver's log), once it succeeded."""
    out, err = job.communicate(timeout=timeout)
    assert job.returncode == 0, f"spark-submit failed:\n{out[-3000:]}\n{err[-6000:]}"
    assert ": done" in out, out
    return out, err


def app_logs(cluster, output: str) -> dict[str, str]:
    """The executor logs of the application that printed `output`."""
    [app] = set(re.findall(r"app-\d{14}-\d{4}", output))
    return {name: log for name, log in cluster.executor_logs().items() if name.startswith(app + "/")}


def test_an_executor_killed_mid_write_has_its_tasks_rerun_and_nothing_is_lost(cluster, store, runtime, jar):
    group = "cluster-kill"
    ids = 20_000
    versioned_rows.create_group(store, group)
    store.admin("POST", "stats/reset")
    # 40,000 rows at 5,000 records/s: about 8 s of writing, with an executor killed after the first 5,000.
    job = submit(cluster, store, jar, "--group", group, "--ids", str(ids), "--partitions", "8",
                 "--max-records-per-second", "5000")
    deadline = time.monotonic() + 120
    while store.records_written() < 5000 and time.monotonic() < deadline and job.poll() is None:
        time.sleep(0.1)
    executors = cluster.executor_pids()
    assert len(executors) == 2 and job.poll() is None, (executors, store.records_written())
    os.kill(executors[0], signal.SIGKILL)
    output, driver_log = finish(job)

    [line] = [m for m in summary_lines(output) if m["group"] == group]
    assert (int(line["written"]), int(line["failed"])) == (2 * ids, 0), line.group(0)
    assert "ExecutorLostFailure" in driver_log, driver_log[-3000:]
    assert store.records_written() >= 2 * ids  # the killed executor's tasks were written again elsewhere
    problems = versioned_rows.check_store(runtime, group, ids)
    assert not problems, problems


def test_a_slow_task_and_its_speculative_copy_write_at_once_and_the_loser_is_aborted(
        cluster, store, runtime, jar, tmp_path):
    group = "cluster-speculation"
    ids = 10_000
    failed_dir = tmp_path / "failed"
    versioned_rows.create_group(store, group)
    # Partition 0's first attempt sleeps 2 ms per row (5,000 rows: 10 s); the other three take about a second,
    # so Spark starts a copy of partition 0 on the other executor, which wins; the first attempt is killed. Notes
    # of 1 KB push its rows out of the Python worker every 64 rows, so that it writes meanwhile.
    notes = 1000
    job = submit(cluster, store, jar, "--group", group, "--ids", str(ids), "--partitions", "4",
                 "--slow-partition", "0", "--batch-rows", "64", "--note-bytes", str(notes),
                 "--failed-records-path", str(failed_dir),
                 conf=("spark.speculation=true", "spark.speculation.interval=100ms",
                       "spark.speculation.multiplier=2", "spark.speculation.quantile=0.5",
                       "spark.speculation.minTaskRuntime=500ms"))
    output, driver_log = finish(job)

    [line] = [m for m in summary_lines(output) if m["group"] == group]
    assert (int(line["written"]), int(line["failed"])) == (2 * ids, 0), line.group(0)
    problems = versioned_rows.check_store(runtime, group, ids, notes)
    assert not problems, problems

    # Two attempts of partition 0 wrote: the copy committed, the original was aborted (killed by Spark when the
    # copy won) with what it had not had acknowledged counted as failed in its own task's counters.
    lines = [m for log in app_logs(cluster, driver_log).values() for m in TASK_LINE.finditer(log)]
    partition0 = sorted((int(m[2]), m[3]) for m in lines if m[1] == "0")
    assert partition0 == [(0, "aborted"), (1, "committed")], partition0
    [aborted] = [m for m in lines if m[1] == "0" and m[3] == "aborted"]
    assert int(aborted[4]) == int(aborted[5]) + int(aborted[6]) and int(aborted[5]) > 0, aborted.group(0)
    # Only the aborted attempt left failed records, in a file marked as aborted and naming that attempt.
    # (Hadoop's local file system keeps a hidden .crc checksum beside each file it writes: not a failed-records file.)
    files = sorted(p.name for p in failed_dir.iterdir() if not p.name.startswith(".")) if failed_dir.exists() else []
    assert all(name.endswith(".jsonl.aborted") for name in files), files
    for path in failed_dir.glob("*.aborted"):
        for record in map(json.loads, path.read_text().splitlines()):
            assert record["attempt"]["partition"] == 0 and record["attempt"]["attemptNumber"] == 0, record
            assert record["reason"]["origin"] == "Aborted", record
