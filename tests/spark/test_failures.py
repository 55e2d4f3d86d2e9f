"""What a PySpark job sees when rows or the whole job cannot be written: failed-records files, the failure limit,
and a schema error raised before any task runs. Plus the text of awkward doubles."""

from __future__ import annotations

import json
import math

import pytest
from pyspark.sql import functions as F

import mixed_rows
from conftest import connector_options
from localstore import LocalStore
from readback import get_records, list_record_ids, mismatches, summary_lines


def create_mixed_group(store, name: str) -> None:
    store.create_feature_group(name, mixed_rows.RECORD_IDENTIFIER, mixed_rows.EVENT_TIME,
                               mixed_rows.FEATURE_DEFINITIONS, mixed_rows.STORAGE_TYPE)


def with_bad_rows(spark, good_rows: int, start: int):
    """`good_rows` good rows, then 10 bad ones: 4 null record identifiers, 3 NaN scores, 3 names over 350 KB."""
    good = mixed_rows.mixed_dataframe(spark, good_rows, 2, start=start)
    null_id = mixed_rows.mixed_dataframe(spark, 4, 1, start=start + 100_000) \
        .withColumn("rid", F.lit(None).cast("string"))
    nan_score = mixed_rows.mixed_dataframe(spark, 3, 1, start=start + 200_000) \
        .withColumn("score", F.lit(float("nan")))
    huge_name = mixed_rows.mixed_dataframe(spark, 3, 1, start=start + 300_000) \
        .withColumn("name", F.expr("repeat('n', 400000)"))
    return good.unionByName(null_id).unionByName(nan_score).unionByName(huge_name)


def read_failed_records(directory) -> list[dict]:
    lines = []
    for path in sorted(directory.glob("failed-*.jsonl")):
        lines.extend(json.loads(line) for line in path.read_text().splitlines())
    return lines


def test_bad_rows_go_to_the_failed_records_files_and_the_rest_is_written(
        spark, store, runtime, write_options, driver_stdout, tmp_path):
    group = "mixed-bad-rows"
    create_mixed_group(store, group)
    failed_dir = tmp_path / "failed"
    driver_stdout.mark()
    with_bad_rows(spark, 1000, start=0).write.format("featurestore").options(**write_options) \
        .option("featureGroupName", group) \
        .option("failedRecordsPath", str(failed_dir)) \
        .option("maxFailedRecords", "10") \
        .mode("append").save()

    [line] = [m for m in summary_lines(driver_stdout.since_mark()) if m["group"] == group]
    assert (int(line["written"]), int(line["failed"])) == (1000, 10), line.group(0)
    kept = spark._jvm.featurestore.spark.WriteSummaries.last(group).get()
    assert kept.accepted() == 1010 == kept.written() + kept.failed()
    files = sorted(failed_dir.glob("failed-*.jsonl"))
    assert line["where"] == f"{failed_dir} ({len(files)} files)", line.group(0)

    failed = read_failed_records(failed_dir)
    assert len(failed) == 10, failed
    by_column: dict[str, list[dict]] = {}
    for record in failed:
        by_column.setdefault(record["reason"]["column"], []).append(record)
    assert sorted((column, len(records)) for column, records in by_column.items()) == \
        [("name", 3), ("rid", 4), ("score", 3)], failed
    # The original values are kept: the NaN rows' record identifiers and their other features.
    nan_ids = sorted(r["values"]["rid"] for r in by_column["score"])
    assert nan_ids == [mixed_rows.record_id(200_000 + k) for k in range(3)]
    assert all(r["values"]["rid"] is None for r in by_column["rid"])
    for record in by_column["score"]:
        i = mixed_rows.record_index(record["values"]["rid"])
        assert record["values"]["amount"] == mixed_rows.expected_record(i)["amount"], record
        assert record["values"]["name"] == mixed_rows.name(i), record
    assert all(r["reason"]["message"] for r in failed)

    # The good rows are all there; the refused ones are not.
    assert len(list_record_ids(runtime, group)) == 1000
    bad_ids = [mixed_rows.record_id(200_000 + k) for k in range(3)] + \
        [mixed_rows.record_id(300_000 + k) for k in range(3)]
    assert all(found is None for found in get_records(runtime, group, bad_ids).values())
    sample = {mixed_rows.record_id(i): mixed_rows.expected_record(i) for i in (0, 1, 3, 7, 500, 999)}
    assert not mismatches(sample, get_records(runtime, group, list(sample)))


def test_more_failures_than_allowed_fail_the_job_after_every_other_row_was_written(
        spark, store, runtime, write_options, tmp_path):
    group = "mixed-over-limit"
    create_mixed_group(store, group)
    with pytest.raises(Exception) as raised:
        with_bad_rows(spark, 500, start=0).write.format("featurestore").options(**write_options) \
            .option("featureGroupName", group) \
            .option("failedRecordsPath", str(tmp_path / "failed")) \
            .mode("append").save()
    message = str(raised.value)
    assert "FeatureStoreFailedRecordsException" in message, message
    assert "10 of 510 records failed" in message and "maxFailedRecords = 0" in message, message
    assert "500 records were written" in message, message
    # Every good row was attempted and written before the job failed at commit.
    assert len(list_record_ids(runtime, group)) == 500
    assert len(read_failed_records(tmp_path / "failed")) == 10


def test_a_schema_error_fails_before_any_task_runs_and_names_every_problem(spark, store, write_options):
    group = "mixed-schema-error"
    create_mixed_group(store, group)
    bad = mixed_rows.mixed_dataframe(spark, 100, 2) \
        .drop("event_time") \
        .withColumn("n_long", F.col("n_long").cast("string")) \
        .withColumn("not_a_feature", F.lit(1))
    writes_before = store.stats()["requests_by_operation"]
    spark.sparkContext.setJobGroup("schema-error", "a write that must not start")
    try:
        with pytest.raises(Exception) as raised:
            bad.write.format("featurestore").options(**write_options).option("featureGroupName", group) \
                .mode("append").save()
    finally:
        spark.sparkContext.setLocalProperty("spark.jobGroup.id", None)
    message = str(raised.value)
    assert "FeatureStoreValidationException" in message, message
    for problem in ("event_time", "n_long", "not_a_feature"):
        assert problem in message, (problem, message)
    # No Spark job started, and the store saw no write.
    assert list(spark.sparkContext.statusTracker().getJobIdsForGroup("schema-error")) == []
    writes_after = store.stats()["requests_by_operation"]
    for operation in ("BatchWriteRecord", "PutRecord"):
        assert writes_after.get(operation, 0) == writes_before.get(operation, 0)


def test_a_group_whose_definitions_span_several_describe_pages_is_written_whole(spark, write_options, tmp_path):
    # The service answers DescribeFeatureGroup with at most 2,500 definitions and a NextToken; a store paging
    # by 3 makes every page boundary fall inside the mixed group's definitions.
    own = LocalStore.start(tmp_path / "data", "--describe-page-size", "3")
    try:
        group = "mixed-paged"
        create_mixed_group(own, group)
        assert own.client("sagemaker").describe_feature_group(FeatureGroupName=group).get("NextToken")
        options = {**write_options, **connector_options(own.endpoint)}
        mixed_rows.mixed_dataframe(spark, 300, 2).write.format("featurestore").options(**options) \
            .option("featureGroupName", group).mode("append").save()
        assert spark._jvm.featurestore.spark.WriteSummaries.last(group).get().written() == 300
        expected = {mixed_rows.record_id(i): mixed_rows.expected_record(i) for i in (0, 1, 2, 150, 299)}
        runtime = own.client("sagemaker-featurestore-runtime")
        assert not mismatches(expected, get_records(runtime, group, list(expected)))
    finally:
        own.stop()


def significant_digits(text: str) -> tuple[str, int]:
    """(digits without leading/trailing zeros, decimal exponent of the first digit) of a decimal number's text."""
    mantissa, _, exponent = text.lower().lstrip("-").partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = (whole + fraction).lstrip("0")
    point = len(whole) - (len(whole + fraction) - len((whole + fraction).lstrip("0")))
    return digits.rstrip("0"), point + int(exponent or 0)


AWKWARD_DOUBLES = [0.1 + 0.2, 1e21, 1.5e300, 1e-7, 2.5e-5, 5e-324, 2.2250738585072014e-308,
                   1.7976931348623157e308, -123456789012345680.0, 9007199254740993.0, 100.0, -0.5, 1 / 3]


def test_fractional_text_is_the_shortest_that_reads_back_as_the_same_double(spark, store, runtime, write_options):
    group = "awkward-doubles"
    store.create_feature_group(group, "rid", "t", [
        {"FeatureName": "rid", "FeatureType": "Integral"},
        {"FeatureName": "t", "FeatureType": "Fractional"},
        {"FeatureName": "x", "FeatureType": "Fractional"},
    ])
    rows = [(k, 1_700_000_000.25, value) for k, value in enumerate(AWKWARD_DOUBLES)]
    spark.createDataFrame(rows, "rid long, t double, x double").write.format("featurestore") \
        .options(**write_options).option("featureGroupName", group).mode("append").save()
    stored = get_records(runtime, group, [str(k) for k in range(len(AWKWARD_DOUBLES))])
    for k, value in enumerate(AWKWARD_DOUBLES):
        record = stored[str(k)]
        assert record is not None and record["rid"] == str(k) and record["t"] == "1700000000.25"
        text = record["x"]
        assert float(text) == value and math.copysign(1, float(text)) == math.copysign(1, value), (value, text)
        # Python's repr is the shortest round-trip text: same significant digits, whatever the notation.
        assert significant_digits(text) == significant_digits(repr(value)), (value, text)
