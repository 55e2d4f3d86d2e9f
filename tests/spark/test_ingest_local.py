"""A million rows of mixed types from PySpark 3.5 on local[2] into the real local store, read back with boto3."""

from __future__ import annotations

import random

import mixed_rows
from conftest import SESSION_TIME_ZONE
from readback import get_records, mismatches, summary_lines

ROWS = 1_000_000
PARTITIONS = 8
GROUP = "mixed-local"


def sample_ids(rows: int, count: int, seed: int) -> list[int]:
    """A random sample plus the rows with edge values (zeros, nulls, pre-1970 times, the first and last rows)."""
    edges = [0, 1, 2, 3, 7, 13, 17, 500, 500_000, 500_001, rows // 2, rows - 2, rows - 1]
    return sorted(set(random.Random(seed).sample(range(rows), count)) | {i for i in edges if i < rows})


def test_a_million_mixed_rows_from_local_two_cores(spark, store, runtime, write_options, driver_stdout):
    store.create_feature_group(GROUP, mixed_rows.RECORD_IDENTIFIER, mixed_rows.EVENT_TIME,
                               mixed_rows.FEATURE_DEFINITIONS, mixed_rows.STORAGE_TYPE)
    written_before = store.records_written()
    frame = mixed_rows.mixed_dataframe(spark, ROWS, PARTITIONS)

    # The session's time zone is not UTC, and Spark shows the event time in it: the store must still get UTC.
    assert spark.conf.get("spark.sql.session.timeZone") == SESSION_TIME_ZONE
    shown = frame.selectExpr("cast(event_time as string) AS t").first().t
    assert shown == "2023-11-14 14:13:20", shown

    driver_stdout.mark()
    frame.write.format("featurestore").options(**write_options).option("featureGroupName", GROUP) \
        .mode("append").save()
    stdout = driver_stdout.since_mark()

    # The driver's summary line: every row written, none failed (written + failed = rows).
    [line] = [m for m in summary_lines(stdout) if m["group"] == GROUP]
    assert int(line["written"]) == ROWS and int(line["failed"]) == 0, line.group(0)
    assert line["where"] == "none", line.group(0)
    kept = spark._jvm.featurestore.spark.WriteSummaries.last(GROUP).get()
    assert kept.line() == line.group(0)
    assert kept.written() + kept.failed() == ROWS == kept.accepted()

    # The full count, from the store's own counters: it accepted exactly the rows (more only if a request was
    # retried after the store had applied it) and refused none. (A full ListRecords over a million records
    # costs the local store minutes; the smaller ingestions list every record.)
    stats = store.stats()
    accepted = store.records_written() - written_before
    assert accepted == ROWS if int(line["retried"]) == 0 else accepted >= ROWS, (accepted, line.group(0))
    assert stats["records_rejected"] == 0, stats

    # ListRecords' first page names records of this ingestion; they join the sample read back below.
    listed = runtime.list_records(FeatureGroupName=GROUP, MaxResults=100)["RecordIdentifiers"]
    assert len(listed) == 100

    # A sample read back with GetRecord holds exactly the expected strings.
    ids = sorted(set(sample_ids(ROWS, 2000, seed=4)) | {mixed_rows.record_index(r) for r in listed})
    expected = {mixed_rows.record_id(i): mixed_rows.expected_record(i) for i in ids}
    actual = get_records(runtime, GROUP, list(expected))
    assert not mismatches(expected, actual), mismatches(expected, actual)
