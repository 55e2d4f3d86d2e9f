"""featurestore_spark.ingest on PySpark 3.5 against the real local store: the summary object against what
GetRecord reads back, Python option names and values, and options refused before any Spark job runs."""

from __future__ import annotations

import json
import math
import uuid
from pathlib import Path

import pytest

import featurestore_spark
from featurestore_spark import FailedRecordsError, OptionError

from conftest import endpoint_options
from readback import get_records

ROWS = 300


def rows(count: int, nan_at: tuple[int, ...] = ()) -> list[tuple]:
    """`count` records r0.. (a NaN score, which the connector refuses, at `nan_at`)."""
    return [(f"r{i}", "2026-01-01T00:00:00Z", i, math.nan if i in nan_at else i / 4, f"label-{i}")
            for i in range(count)]


def frame(spark, data: list[tuple]):
    return spark.createDataFrame(data, "id string, ts string, count long, score double, label string")


def test_ingest_returns_the_summary_of_what_the_store_holds(spark, store, runtime, make_group, tmp_path):
    group = make_group("wheel-ingest")
    failed_dir = tmp_path / "failed"
    summary = featurestore_spark.ingest(
        frame(spark, rows(ROWS, nan_at=(7,))).repartition(2), group, **endpoint_options(store.endpoint),
        max_failed_records=1, failed_records_path=str(failed_dir), max_in_flight=8, adaptive_rate=False)

    stored = get_records(runtime, group, [f"r{i}" for i in range(ROWS)])
    present = {record_id for record_id, record in stored.items() if record is not None}
    assert present == {f"r{i}" for i in range(ROWS)} - {"r7"}
    assert stored["r12"] == {"id": "r12", "ts": "2026-01-01T00:00:00Z", "count": "12", "score": "3.0",
                             "label": "label-12"}
    assert (summary.written, summary.failed, summary.deleted) == (len(present), 1, 0)
    assert summary.feature_group == group and not summary.dry_run and summary.validated == 0
    assert summary.requests >= math.ceil(len(present) / 25) and summary.retried == summary.throttled == 0
    assert summary.seconds > 0
    assert summary.failed_records_path == str(failed_dir)
    [failed_file] = summary.failed_records_files
    [line] = [json.loads(text) for text in Path(failed_file.removeprefix("file:")).read_text().splitlines()]
    assert (line["recordIdentifier"], line["reason"]["code"]) == ("r7", "non_finite_fractional")
    assert summary.line.startswith(f"featurestore write to '{group}': {len(present)} records written, 1 failed")


def test_python_values_reach_the_connector_as_its_text(spark, store, runtime, make_group):
    """A list for target_stores and booleans, in a dry run: every row validated, nothing sent."""
    group = make_group("wheel-dry-run")
    summary = featurestore_spark.ingest(frame(spark, rows(40)), group, **endpoint_options(store.endpoint),
                                        dry_run=True, target_stores=["OnlineStore"], ignore_unknown_columns=False,
                                        ttl_duration=None)
    assert (summary.dry_run, summary.validated, summary.written, summary.failed) == (True, 40, 0, 0)
    assert summary.requests == 0
    assert set(get_records(runtime, group, ["r0", "r39"]).values()) == {None}


def test_more_failures_than_allowed_raise_with_the_summary(spark, store, runtime, make_group):
    group = make_group("wheel-too-many-failures")
    with pytest.raises(FailedRecordsError, match="2 of 20 records failed") as raised:
        featurestore_spark.ingest(frame(spark, rows(20, nan_at=(3, 11))), group, **endpoint_options(store.endpoint))
    assert (raised.value.summary.written, raised.value.summary.failed) == (18, 2)
    stored = get_records(runtime, group, [f"r{i}" for i in range(20)])
    assert sum(record is not None for record in stored.values()) == 18


def jobs_of(spark, run) -> list[int]:
    """The Spark jobs `run()` started (in a job group of its own)."""
    job_group = f"options-{uuid.uuid4()}"
    spark.sparkContext.setJobGroup(job_group, "featurestore option checks")
    try:
        run()
    finally:
        spark.sparkContext.setLocalProperty("spark.jobGroup.id", None)
    return list(spark.sparkContext.statusTracker().getJobIdsForGroup(job_group))


def refused(spark, df, group: str, **options) -> OptionError:
    raised = []

    def run():
        with pytest.raises(OptionError) as error:
            featurestore_spark.ingest(df, group, **options)
        raised.append(error.value)

    assert jobs_of(spark, run) == [], "an option problem must stop the write before any Spark job"
    return raised[0]


def test_bad_option_names_and_values_fail_before_any_spark_job(spark, store):
    # Computing this DataFrame would fail the job: the checks must not need it.
    df = frame(spark, rows(5)).selectExpr("*", "assert_true(false) AS boom")
    endpoints = endpoint_options(store.endpoint)
    # A job group of its own sees the jobs a write starts (the control experiment for the checks below).
    assert jobs_of(spark, lambda: frame(spark, rows(5)).count())

    error = refused(spark, df, "no-such-group", **endpoints, max_in_flite=4, recordsPerRequest=5)
    assert error.problems == ["max_in_flite: unknown option (did you mean 'max_in_flight'?)",
                              "recordsPerRequest: unknown option (did you mean 'records_per_request'?)"]

    error = refused(spark, df, "no-such-group", **endpoints, records_per_request=30, adaptive_rate="maybe",
                    deletion_mode="HardDelete", target_stores=["OnlineStore", "Online"])
    assert error.problems == [
        "adaptive_rate: must be true or false (given 'maybe')",
        "records_per_request: must be integer 1..25 (given '30')",
        "target_stores: unknown store Online (OnlineStore, OfflineStore) (given 'OnlineStore,Online')",
        "deletion_mode: applies only with operation=delete",
    ]
    assert str(error).startswith("invalid featurestore options (4 problems): adaptive_rate: must be true or false")

    error = refused(spark, df, " ", **endpoints, feature_group_name="other", operation="delete",
                    ttl_duration="7 Days")
    assert error.problems == [
        "feature_group_name: give the feature group as ingest's argument feature_group",
        "feature_group: must not be empty (given ' ')",
        "ttl_duration: cannot be combined with operation=delete: a delete has no time to live",
    ]


def test_check_options_gives_the_connectors_typed_view_without_writing(spark, store):
    df = frame(spark, rows(1))
    values = featurestore_spark.check_options(df, " customers ", records_per_request=10, dry_run=True,
                                              target_stores=("OfflineStore",), max_records_per_second=2500.5)
    assert (values["featureGroupName"], values["recordsPerRequest"], values["dryRun"]) == ("customers", 10, True)
    assert (values["targetStores"], values["maxRecordsPerSecond"]) == (["OfflineStore"], 2500.5)
    assert values["maxInFlight"] == 64, "defaults filled in by the connector"


def test_a_dataframe_without_a_classic_session_is_refused_clearly():
    class ConnectFrame:  # what a Spark Connect DataFrame offers: a session without a py4j gateway
        sparkSession = object()

    with pytest.raises(TypeError, match="needs a DataFrame of a classic SparkSession .* Spark Connect"):
        featurestore_spark.ingest(ConnectFrame(), "customers")
