"""The million-row mixed ingestion on a local standalone cluster: a master and two workers from the pyspark
distribution, executors in their own JVMs, the jar passed with --jars only. Proves that the native library
ships inside the jar and loads in every executor: each executor fetched the jar from the driver (it is not on
its command line) and reports, in its own log, rows that its native writer wrote."""

from __future__ import annotations

import os
import random
import re
import subprocess
import sys

import pytest

import mixed_rows
from cluster import StandaloneCluster
from conftest import spark_env
from readback import get_records, mismatches, summary_lines

ROWS = 1_000_000
PARTITIONS = 8
GROUP = "mixed-cluster"
JOB = os.path.join(os.path.dirname(__file__), "ingest_mixed_job.py")
TASK_COMMITTED = re.compile(
    r"featurestore task \d+ \(partition (\d+), attempt \d+\) committed: (\d+) rows accepted, (\d+) written, (\d+) failed")


@pytest.fixture(scope="module")
def cluster(store, tmp_path_factory):
    running = StandaloneCluster(tmp_path_factory.mktemp("cluster"), spark_env(store.endpoint)).start()
    try:
        yield running
    finally:
        running.stop()


def test_a_million_mixed_rows_on_a_standalone_cluster_with_two_executors(cluster, store, runtime, jar):
    store.create_feature_group(GROUP, mixed_rows.RECORD_IDENTIFIER, mixed_rows.EVENT_TIME,
                               mixed_rows.FEATURE_DEFINITIONS, mixed_rows.STORAGE_TYPE)
    written_before = store.records_written()
    submit = cluster.spark_submit(jar, JOB, "--group", GROUP, "--rows", str(ROWS), "--partitions", str(PARTITIONS),
                                  "--endpoint", store.endpoint)
    run = subprocess.run(submit, env=cluster.submit_env(spark_env(store.endpoint)),
                         capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, f"spark-submit failed:\n{run.stdout[-3000:]}\n{run.stderr[-6000:]}"
    assert f"at {cluster.master_url}: done" in run.stdout, run.stdout

    [line] = [m for m in summary_lines(run.stdout) if m["group"] == GROUP]
    assert (int(line["written"]), int(line["failed"])) == (ROWS, 0), line.group(0)

    # Two executors, each its own JVM launched by a worker, each with the jar fetched from the driver (not on
    # its class path) and with rows written by its native writer.
    cluster.wait_for_executors_to_exit()
    logs = cluster.executor_logs()
    assert len(logs) == 2, list(logs)
    written_by_executor = {}
    for executor, log in logs.items():
        command = next(l for l in log.splitlines() if l.startswith("Spark Executor Command:"))
        assert "featurestore-spark" not in command, command
        assert re.search(r"Fetching spark://127\.0\.0\.1:\d+/jars/featurestore-spark_2\.12-0\.1\.0\.jar", log), \
            f"{executor} did not fetch the jar:\n{log[-3000:]}"
        commits = TASK_COMMITTED.findall(log)
        assert commits, f"{executor} committed no featurestore task:\n{log[-3000:]}"
        assert all(int(accepted) == int(written) and failed == "0" for _, accepted, written, failed in commits)
        written_by_executor[executor] = sum(int(written) for _, _, written, _ in commits)
    assert all(n > 0 for n in written_by_executor.values()), written_by_executor
    assert sum(written_by_executor.values()) == ROWS, written_by_executor

    # The store's count, and a sample read back with boto3.
    accepted = store.records_written() - written_before
    assert accepted == ROWS if int(line["retried"]) == 0 else accepted >= ROWS, (accepted, line.group(0))
    ids = random.Random(7).sample(range(ROWS), 1000) + [0, 3, 7, ROWS - 1]
    expected = {mixed_rows.record_id(i): mixed_rows.expected_record(i) for i in ids}
    assert not mismatches(expected, get_records(runtime, GROUP, list(expected)))
    print(f"{line.group(0)}; by executor: {written_by_executor}", file=sys.stderr)
