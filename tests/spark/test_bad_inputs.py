"""The bad-input catalogue: every input a user gets wrong, each a case that asserts where it is caught (on the
driver before any task runs, or per row into the failed-records files) and that the message names the column,
the row or record identifier, and the rule. The README's catalogue table is rendered from CASES
(`test_the_readme_catalogue_is_these_cases`), so the two cannot drift apart.

Each case writes three rows (one partition, so that row numbers are the rows' positions); a per-row case breaks
row 1 only, and rows 0 and 2 must be written.
"""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pytest
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from conftest import EXPIRED_CREDENTIALS
from readback import get_records

ROOT = Path(__file__).resolve().parents[2]
GROUP = "catalogue"
OFFLINE_ONLY_GROUP = "catalogue-offline-only"
DEFINITIONS = [
    {"FeatureName": "rid", "FeatureType": "String"},
    {"FeatureName": "ts", "FeatureType": "String"},
    {"FeatureName": "n", "FeatureType": "Integral"},
    {"FeatureName": "x", "FeatureType": "Fractional"},
    {"FeatureName": "s", "FeatureType": "String"},
    {"FeatureName": "tags", "FeatureType": "String", "CollectionType": "List"},
    {"FeatureName": "uniq", "FeatureType": "String", "CollectionType": "Set"},
    {"FeatureName": "vec", "FeatureType": "Fractional", "CollectionType": "Vector",
     "CollectionConfig": {"VectorConfig": {"Dimension": 3}}},
]
SCHEMA = T.StructType([
    T.StructField("rid", T.StringType()),
    T.StructField("ts", T.StringType()),
    T.StructField("n", T.LongType()),
    T.StructField("x", T.DoubleType()),
    T.StructField("s", T.StringType()),
    T.StructField("tags", T.ArrayType(T.StringType())),
    T.StructField("uniq", T.ArrayType(T.StringType())),
    T.StructField("vec", T.ArrayType(T.DoubleType())),
])
KB = 1024


def row(case: str, i: int) -> dict:
    return {"rid": f"{case}-{i}", "ts": "2024-05-06T07:08:09Z", "n": i, "x": i + 0.5, "s": f"s{i}",
            "tags": ["a", "b"], "uniq": ["u1", "u2"], "vec": [0.1, 0.2, 0.3]}


@dataclass(frozen=True)
class Case:
    id: str
    input: str
    # "driver": refused before any task runs; "row": row 1 fails with `rule`, rows 0 and 2 are written;
    # "written": every row is written as given.
    where: str
    # What must be named: the rule id or the error, and the column (None: the record as a whole).
    rule: str = ""
    column: str | None = None
    # Row 1's changes (per-row cases), or the whole DataFrame's (schema cases), or the write's options.
    change: dict = field(default_factory=dict)
    frame: Callable[[DataFrame], DataFrame] | None = None
    options: dict = field(default_factory=dict)
    group: str = GROUP
    # More text every message must hold (names of options, of stores).
    mentions: tuple[str, ...] = ()
    # For "written": row 1's values as the store must hold them, where they differ from what was given.
    stored: dict = field(default_factory=dict)
    # The status featurestore-local reports for the case's group (its group_statuses fault), if not Created.
    group_status: dict | None = None
    sees: str = ""

    def shown(self) -> str:
        """What the README's table says the user sees."""
        if self.sees:
            return self.sees
        if self.where == "row":
            column = f"column `{self.column}`, " if self.column else ""
            return f"row fails: `{self.rule}` ({column}the row and its record identifier), in failedRecordsPath"
        if self.where == "written":
            return "written as given"
        column = f" naming `{self.column}`" if self.column else ""
        return f"job fails on the driver, before any task: `{self.rule}`{column}"


def long_text(size: int) -> str:
    return "v" * size


CASES = [
    # Record identifiers.
    Case("null-record-id", "null record identifier", "row", "null_record_identifier", "rid", {"rid": None}),
    Case("empty-record-id", "empty record identifier", "row", "empty_record_identifier", "rid", {"rid": ""}),
    Case("long-record-id", "record identifier over 2 KB", "row", "record_identifier_too_large", "rid",
         {"rid": "r" * (2 * KB + 1)}),
    Case("unicode-record-id", "emoji and right-to-left text in a record identifier", "written",
         change={"rid": "unicode-record-id-1-😀-שלום"}),
    Case("control-record-id", "control characters in a record identifier", "written",
         change={"rid": "control-record-id-1-\t\x01"}),
    # Event times.
    Case("null-event-time", "null event time", "row", "null_event_time", "ts", {"ts": None}),
    Case("unparseable-event-time", "unparseable event time text", "row", "event_time_format", "ts",
         {"ts": "yesterday"}),
    Case("zoneless-event-time", "event time text without a time zone", "row", "event_time_format", "ts",
         {"ts": "2024-05-06T07:08:09"}),
    Case("year-10000-event-time", "event time in year 10000", "row", "event_time_format", "ts",
         {"ts": "10000-01-01T00:00:00Z"}),
    Case("pre-1970-event-time", "event time before 1970", "written", change={"ts": "1969-07-20T20:17:40Z"}),
    Case("offset-event-time", "event time with an offset other than Z", "row", "event_time_format", "ts",
         {"ts": "2024-05-06T07:08:09+02:00"}),
    # Numbers.
    Case("nan", "NaN in a Fractional feature", "row", "non_finite_fractional", "x", {"x": float("nan")}),
    Case("plus-inf", "+Inf in a Fractional feature", "row", "non_finite_fractional", "x", {"x": float("inf")}),
    Case("minus-inf", "-Inf in a Fractional feature", "row", "non_finite_fractional", "x", {"x": float("-inf")}),
    Case("decimal-too-large", "decimal(38,0) too large for an Integral feature", "row", "integral_out_of_range",
         "n", frame=lambda df: df.withColumn(
             "n", F.when(F.col("rid").endswith("-1"), F.lit("100000000000000000000").cast("decimal(38,0)"))
             .otherwise(F.col("n").cast("decimal(38,0)")))),
    Case("decimal-fraction", "decimal with a fraction for an Integral feature", "row", "integral_not_whole", "n",
         frame=lambda df: df.withColumn(
             "n", F.when(F.col("rid").endswith("-1"), F.lit("1.5").cast("decimal(10,2)"))
             .otherwise(F.col("n").cast("decimal(10,2)")))),
    # Sizes.
    Case("value-over-350kb", "a value over 350 KB", "row", "value_too_large", "s", {"s": long_text(351 * KB)}),
    Case("record-over-350kb", "a record over 350 KB (each value under)", "row", "record_too_large", None,
         {"s": long_text(200 * KB), "tags": [long_text(200 * KB)]}),
    # Strings.
    Case("unicode-strings", "emoji, right-to-left text and control characters in strings", "written",
         change={"s": "😀 שלום \x00\x1f\x7f", "tags": ["مرحبا", "\n"]}),
    Case("invalid-utf8", "bytes that are not UTF-8 in a string (a binary cast to string)", "row",
         "invalid_utf8", "s", frame=lambda df: df.withColumn(
             "s", F.when(F.col("rid").endswith("-1"), F.unhex(F.lit("61EDA08062")).cast("string"))
             .otherwise(F.col("s")))),
    Case("lone-surrogate", "a lone surrogate in a string (from Python or Java)", "written",
         change={"s": "a\ud800b"}, stored={"s": "a\ufffdb"},
         sees="written as Spark holds it: Python's text reaches Spark as UTF-8, the lone surrogate as U+FFFD"),
    # Collections.
    Case("set-duplicates", "a Set feature with duplicate elements", "written", change={"uniq": ["u", "v", "u"]},
         stored={"uniq": ["u", "v"]}, sees="written with each element once, in first-seen order (the service's rule)"),
    Case("vector-dimension", "a Vector of the wrong dimension", "row", "vector_dimension_mismatch", "vec",
         {"vec": [0.1, 0.2]}),
    Case("vector-null-element", "a Vector with a null element", "row", "null_collection_element", "vec",
         {"vec": [0.1, None, 0.3]}),
    Case("list-null-element", "a List with a null element", "row", "null_collection_element", "tags",
         {"tags": ["a", None]}),
    Case("vector-nan", "a Vector with a NaN element", "row", "non_finite_fractional", "vec",
         {"vec": [0.1, float("nan"), 0.3]}),
    # Columns.
    Case("missing-record-id-column", "no record identifier column", "driver", "missing_record_identifier", "rid",
         frame=lambda df: df.drop("rid")),
    Case("missing-event-time-column", "no event time column", "driver", "missing_event_time", "ts",
         frame=lambda df: df.drop("ts")),
    Case("unknown-column", "a column that is not a feature", "driver", "unknown_column", "extra",
         frame=lambda df: df.withColumn("extra", F.lit(1))),
    Case("duplicate-column", "the same column twice, in another case (`s` and `S`)", "driver", "unknown_column",
         "S", frame=lambda df: df.selectExpr("*", "s AS S"), mentions=("did you mean 's'?",),
         sees="job fails on the driver, before any task: `unknown_column` naming `S` (feature names are "
              "case-sensitive), with the feature it resembles"),
    Case("struct-column", "a struct column", "driver", "nested_type_not_supported", "s",
         frame=lambda df: df.withColumn("s", F.struct(F.lit(1).alias("a")))),
    Case("map-column", "a map column", "driver", "nested_type_not_supported", "s",
         frame=lambda df: df.withColumn("s", F.create_map(F.lit("k"), F.lit("v")))),
    Case("binary-column", "a binary column", "driver", "unsupported_type", "s",
         frame=lambda df: df.withColumn("s", F.col("s").cast("binary"))),
    Case("array-of-arrays", "an array of arrays", "driver", "nested_type_not_supported", "vec",
         frame=lambda df: df.withColumn("vec", F.array(F.col("vec")))),
    Case("string-for-integral", "a string column for an Integral feature", "driver", "incompatible_type", "n",
         frame=lambda df: df.withColumn("n", F.col("n").cast("string"))),
    Case("double-for-integral", "a double column for an Integral feature", "driver", "incompatible_type", "n",
         frame=lambda df: df.withColumn("n", F.col("n").cast("double"))),
    Case("boolean-for-fractional", "a boolean column for a Fractional feature", "driver", "incompatible_type", "x",
         frame=lambda df: df.withColumn("x", F.lit(True))),
    Case("array-for-scalar", "an array column for a scalar feature", "driver", "incompatible_type", "s",
         frame=lambda df: df.withColumn("s", F.array(F.col("s")))),
    Case("scalar-for-list", "a scalar column for a List feature", "driver", "incompatible_type", "tags",
         frame=lambda df: df.withColumn("tags", F.lit("a"))),
    Case("double-array-for-string-list", "an array of doubles for a List of String feature", "written",
         frame=lambda df: df.withColumn("tags", F.array(F.lit(1.5))),
         sees="written as text (`1.5`), as numbers are to String features"),
    Case("empty-dataframe", "an empty DataFrame", "written", frame=lambda df: df.limit(0),
         sees="nothing to write: 0 records written, no error"),
    Case("empty-partitions", "empty partitions among full ones", "written",
         frame=lambda df: df.repartition(8), sees="written as given; empty partitions cost nothing"),
    # The feature group.
    Case("no-such-group", "a feature group that does not exist", "driver", "ResourceNotFound",
         options={"featureGroupName": "catalogue-no-such-group"}, mentions=("catalogue-no-such-group",),
         sees="job fails on the driver, before any task: the service's `ResourceNotFound`, naming the group"),
    Case("group-creating", "a feature group still being created", "driver", "cannot take this write",
         group="catalogue-creating", group_status={"status": "Creating"},
         mentions=("FeatureGroupStatus Creating", "write once it is Created"),
         sees="job fails on the driver, before any task: the group is still being created (`Creating`)"),
    Case("group-create-failed", "a feature group whose creation failed", "driver", "cannot take this write",
         group="catalogue-create-failed",
         group_status={"status": "CreateFailed", "failure_reason": "Access denied to s3://catalogue/offline"},
         mentions=("CreateFailed: Access denied to s3://catalogue/offline",),
         sees="job fails on the driver, before any task: the creation failed (`CreateFailed`), with the service's "
              "`FailureReason`"),
    Case("group-deleting", "a feature group being deleted", "driver", "cannot take this write",
         group="catalogue-deleting", group_status={"status": "Deleting"}, mentions=("FeatureGroupStatus Deleting",),
         sees="job fails on the driver, before any task: the group is being deleted (`Deleting`)"),
    Case("no-online-store", "writing the online store of a group that has none", "driver",
         "cannot take this write", group=OFFLINE_ONLY_GROUP, options={"targetStores": "OnlineStore"},
         mentions=("has no online store",),
         sees="job fails on the driver, before any task: the group `cannot take this write`, it has no online store"),
    Case("missing-target-store", "targetStores naming a store the group lacks", "driver", "cannot take this write",
         options={"targetStores": "OnlineStore,OfflineStore"}, mentions=("has no offline store",),
         sees="job fails on the driver, before any task: the group `cannot take this write`, naming the store"),
    # Options and the connection.
    Case("bad-option-values", "options with bad values, and an unknown option", "driver",
         "FeatureStoreValidationException",
         options={"batchRows": "0", "maxInFlight": "many", "api": "Bulk", "targetStores": "Nowhere",
                  "retryMaxAttempts": "-1", "featureGroupNmae": "x"},
         mentions=("batchRows", "maxInFlight", "api", "targetStores", "retryMaxAttempts", "featureGroupNmae"),
         sees="job fails on the driver, before any task: every bad option named at once, with its rule"),
    Case("no-credentials", "no credentials (a profile that does not exist)", "driver", "credentials: none found",
         options={"profile": "catalogue-no-such-profile"}, mentions=("profile 'catalogue-no-such-profile'",),
         sees="job fails on the driver, before any task: no credentials found, naming where they were looked for"),
    Case("wrong-credentials", "credentials the service does not know", "driver", "UnrecognizedClientException",
         options={"accessKeyId": "AKIDCATALOGUE", "secretAccessKey": "not-the-secret"},
         mentions=("check the access key id",),
         sees="job fails on the driver, before any task: the service's `UnrecognizedClientException`, with what to check"),
    Case("expired-credentials", "temporary credentials past their expiry", "driver", "ExpiredTokenException",
         options={"accessKeyId": EXPIRED_CREDENTIALS[0], "secretAccessKey": EXPIRED_CREDENTIALS[1],
                  "sessionToken": EXPIRED_CREDENTIALS[2]}, mentions=("the session token expired",),
         sees="job fails on the driver, before any task: the service's `ExpiredTokenException`, with what to check"),
    Case("unreachable-endpoint", "an endpoint nobody listens on", "driver", "DescribeFeatureGroup failed",
         options={"controlEndpoint": "closed-port", "connectTimeoutMs": "500"}, mentions=("Connection refused",),
         sees="job fails on the driver after a few retries (seconds): `DescribeFeatureGroup failed`, connection refused"),
    Case("tls-failure", "https to an endpoint that does not speak TLS", "driver", "DescribeFeatureGroup failed",
         options={"controlEndpoint": "https-to-http"}, mentions=("TLS handshake failed",),
         sees="job fails on the driver after a few retries (seconds): `DescribeFeatureGroup failed: TLS handshake failed`"),
]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def resolve(options: dict, store) -> dict:
    """Placeholders of CASES' options made real: a closed local port, https to the plain-HTTP store."""
    host_port = store.endpoint.removeprefix("http://")
    places = {"closed-port": f"http://127.0.0.1:{closed_port()}", "https-to-http": f"https://{host_port}"}
    return {k: places.get(v, v) for k, v in options.items()}


STATUS_GROUPS = [c.group for c in CASES if c.group_status]


@pytest.fixture(scope="module")
def groups(store):
    # A group of its own for each status case: no earlier write has its answer kept by the driver.
    for group in [GROUP, *STATUS_GROUPS]:
        store.create_feature_group(group, "rid", "ts", DEFINITIONS, "InMemory")
    sagemaker = store.client("sagemaker")
    sagemaker.create_feature_group(
        FeatureGroupName=OFFLINE_ONLY_GROUP, RecordIdentifierFeatureName="rid", EventTimeFeatureName="ts",
        FeatureDefinitions=DEFINITIONS[:5],
        OfflineStoreConfig={"S3StorageConfig": {"S3Uri": "s3://catalogue/offline"}})
    return GROUP


def frame(spark, case: Case) -> DataFrame:
    rows = [row(case.id, i) for i in range(3)]
    rows[1].update(case.change)
    df = spark.createDataFrame([tuple(r[f.name] for f in SCHEMA.fields) for r in rows], SCHEMA).coalesce(1)
    return case.frame(df) if case.frame else df


def as_stored(value):
    """A row's value as GetRecord returns it."""
    if isinstance(value, list):
        return [repr(v) if isinstance(v, float) else v for v in value]
    return repr(value) if isinstance(value, float) else str(value)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case, spark, store, runtime, write_options, groups, tmp_path):
    failed_dir = tmp_path / "failed"
    options = {**write_options, "featureGroupName": case.group, "failedRecordsPath": str(failed_dir),
               "maxFailedRecords": "10", **resolve(case.options, store)}
    df = frame(spark, case)
    job_group = f"catalogue-{case.id}"
    spark.sparkContext.setJobGroup(job_group, case.input)
    if case.group_status:
        store.set_faults(group_statuses={case.group: case.group_status})
    try:
        if case.where == "driver":
            with pytest.raises(Exception) as raised:
                df.write.format("featurestore").options(**options).mode("append").save()
        else:
            df.write.format("featurestore").options(**options).mode("append").save()
    finally:
        spark.sparkContext.setLocalProperty("spark.jobGroup.id", None)
        if case.group_status:
            store.set_faults()
    started = list(spark.sparkContext.statusTracker().getJobIdsForGroup(job_group))

    if case.where == "driver":
        # The Java exception's own line (py4j wraps it in its call and stack).
        lines = [line for line in str(raised.value).splitlines() if "featurestore.spark.FeatureStore" in line]
        assert lines, str(raised.value)
        message = lines[0]
        assert started == [], f"{case.id}: a job started before the input was refused"
        for text in [case.rule, *case.mentions] + ([f"'{case.column}'"] if case.column else []):
            assert text in message, (case.id, text, message)
        return

    summary = spark._jvm.featurestore.spark.WriteSummaries.last(case.group).get()
    expected_rows = df.collect()
    ids = [r["rid"] for r in expected_rows if r["rid"] is not None]
    failed = [json.loads(line) for path in sorted(failed_dir.glob("failed-*.jsonl"))
              for line in path.read_text().splitlines()]
    if case.where == "row":
        assert (summary.written(), summary.failed()) == (2, 1), (case.id, failed)
        [record] = failed
        reason = record["reason"]
        assert reason["code"] == case.rule, (case.id, reason)
        assert reason["column"] == case.column, (case.id, reason)
        assert "row 1" in reason["message"] or reason["origin"] == "Service", (case.id, reason)
        assert record["row"] == 1, record
        if case.change.get("rid", "") is not None:
            assert record["recordIdentifier"] == expected_rows[1]["rid"], record
        written = [i for i in ids if i != expected_rows[1]["rid"]]
    else:
        assert failed == [] and summary.failed() == 0, (case.id, failed)
        assert summary.written() == len(expected_rows)
        written = ids
    stored = get_records(runtime, case.group, written)
    for r in expected_rows:
        if r["rid"] in written:
            got = stored[r["rid"]]
            assert got is not None, (case.id, r["rid"])
            for name in ("ts", "s", "tags", "uniq"):
                want = case.stored.get(name, r[name]) if r["rid"] == expected_rows[1]["rid"] else r[name]
                assert got[name] == as_stored(want), (case.id, name, got[name], want)


def readme_table() -> str:
    lines = ["| Input | What the user sees |", "| --- | --- |"]
    lines += [f"| {case.input} | {case.shown()} |" for case in CASES]
    return "\n".join(lines) + "\n"


def test_the_readme_catalogue_is_these_cases():
    readme = (ROOT / "README.md").read_text()
    assert readme_table() in readme, "README.md's bad-input table differs from tests/spark/test_bad_inputs.py " \
        "CASES; paste:\n" + readme_table()


def test_the_catalogue_holds_at_least_forty_distinct_cases():
    assert len(CASES) >= 40 and len({c.id for c in CASES}) == len(CASES)
