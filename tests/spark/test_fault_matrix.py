"""The fault matrix on Spark local[2]: random throttling, server errors, connection resets, unprocessed entries
and latency spikes all at once; the store stopped for 5 s mid-write and restarted on the same port; a job
cancelled mid-write from another thread. Each write is checked by reading the whole online store back (every
record present, with its newer version's values) and by its summary's counts adding up.

The cluster faults (an executor killed, speculation) are in test_cluster_faults.py."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

import versioned_rows
from localstore import LocalStore
from readback import summary_lines

IDS = 20_000


def summary_of(driver_stdout, group: str):
    [line] = [m for m in summary_lines(driver_stdout.since_mark()) if m["group"] == group]
    return line


def assert_whole(spark, runtime, driver_stdout, group: str, ids: int = IDS):
    line = summary_of(driver_stdout, group)
    assert (int(line["written"]), int(line["failed"])) == (2 * ids, 0), line.group(0)
    kept = spark._jvm.featurestore.spark.WriteSummaries.last(group).get()
    assert kept.accepted() == 2 * ids == kept.written() + kept.failed(), line.group(0)
    problems = versioned_rows.check_store(runtime, group, ids)
    assert not problems, problems
    return line


def test_random_throttling_errors_resets_unprocessed_entries_and_latency_spikes(
        spark, store, runtime, write_options, driver_stdout):
    group = "faults-random"
    versioned_rows.create_group(store, group)
    store.admin("POST", "stats/reset")
    store.set_faults(throttle_probability=0.3, server_error_probability=0.05, connection_reset_probability=0.01,
                     unprocessed_entry_probability=0.05, latency_jitter_ms=5, latency_spike_probability=0.02,
                     latency_spike_ms=500)
    driver_stdout.mark()
    try:
        versioned_rows.dataframe(spark, IDS, 4).write.format("featurestore").options(**write_options) \
            .option("featureGroupName", group).option("retryBaseDelayMs", "10").mode("append").save()
    finally:
        store.set_faults()
    stats = store.stats()
    line = assert_whole(spark, runtime, driver_stdout, group)
    # Every kind of fault happened, and the connector retried through all of them.
    assert stats["throttled"] > 0 and stats["connection_resets"] > 0, stats
    assert stats["errors_by_code"].get("InternalFailure", 0) > 0, stats
    assert stats["records_unprocessed"] > 0 and stats["injected_latency_ms"] >= 500, stats
    assert int(line["retried"]) > 0 and int(line["throttled"]) > 0, line.group(0)


def test_the_store_stopped_for_5_s_mid_write_and_restarted_on_the_same_port(
        spark, write_options, driver_stdout, tmp_path):
    own = LocalStore.start(tmp_path / "data")
    try:
        group = "faults-restart"
        versioned_rows.create_group(own, group)
        port = int(own.endpoint.rsplit(":", 1)[1])
        failure: list[BaseException] = []

        def write():
            try:
                versioned_rows.dataframe(spark, IDS, 4).write.format("featurestore") \
                    .option("featureGroupName", group).option("region", "us-east-1") \
                    .option("runtimeEndpoint", own.endpoint).option("controlEndpoint", own.endpoint) \
                    .option("maxRecordsPerSecond", "4000").mode("append").save()
            except BaseException as error:  # noqa: BLE001 - handed to the test thread
                failure.append(error)

        driver_stdout.mark()
        job = threading.Thread(target=write)
        job.start()
        deadline = time.monotonic() + 60
        while own.records_written() < 4000 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert own.stop() == 0
        time.sleep(5)
        own = LocalStore.start(own.data_dir, port=port, log_path=own.log_path)
        job.join(300)
        assert not job.is_alive() and not failure, failure
        line = assert_whole(spark, own.client("sagemaker-featurestore-runtime"), driver_stdout, group)
        assert int(line["retried"]) > 0, line.group(0)
    finally:
        own.stop()


def io_thread_cpu_ticks(pid: int) -> int:
    """CPU time (clock ticks) of the engine's I/O threads (`featurestore-io-N`, 15 characters kept) in `pid`."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            if not (task / "comm").read_text().startswith("featurestore-io"):
                continue
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the thread ended meanwhile
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total


def test_a_job_cancelled_mid_write_returns_at_once_leaves_no_native_work_and_the_next_write_works(
        spark, store, runtime, write_options, driver_stdout):
    group = "faults-cancel"
    versioned_rows.create_group(store, group)
    sc = spark.sparkContext
    jvm = spark._jvm
    running = lambda: sum(e.numRunningTasks() for e in sc._jsc.sc().statusTracker().getExecutorInfos())  # noqa: E731
    failure: list[BaseException] = []

    def write():
        sc.setJobGroup("faults-cancel", "a write to cancel", interruptOnCancel=True)
        try:
            versioned_rows.dataframe(spark, IDS, 2).write.format("featurestore").options(**write_options) \
                .option("featureGroupName", group).mode("append").save()
        except BaseException as error:  # noqa: BLE001 - handed to the test thread
            failure.append(error)

    store.set_faults(latency_ms=2000)
    try:
        job = threading.Thread(target=write)
        job.start()
        deadline = time.monotonic() + 60
        while running() < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(1.0)  # both tasks are handing rows over, every call waiting 2 s for its answer
        assert running() == 2
        cancelled = time.monotonic()
        sc.cancelJobGroup("faults-cancel")
        job.join(30)
        returned = time.monotonic() - cancelled
        assert not job.is_alive() and returned < 5, returned
        assert failure and "cancelled" in str(failure[0]), failure
        while running() and time.monotonic() - cancelled < 10:
            time.sleep(0.05)
        assert running() == 0, "tasks still running 10 s after the cancel"
    finally:
        store.set_faults()
    # No writer open, and the I/O threads idle: nothing of the cancelled write goes on.
    assert jvm.featurestore.spark.Native.openWriterCount() == 0
    pid = jvm.java.lang.ProcessHandle.current().pid()
    before = io_thread_cpu_ticks(pid)
    time.sleep(2)
    assert io_thread_cpu_ticks(pid) - before <= 2, "the native I/O threads kept working after the cancel"

    driver_stdout.mark()
    versioned_rows.dataframe(spark, IDS, 2).write.format("featurestore").options(**write_options) \
        .option("featureGroupName", group).mode("append").save()
    assert_whole(spark, runtime, driver_stdout, group)
