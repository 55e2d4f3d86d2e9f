"""featurestore_spark.feature_groups against the real local store (signatures checked): the definitions a
DataFrame's columns map to, a group created from a DataFrame of every type the mapping names that takes the
DataFrame and reads it back exactly, the errors naming every column without a feature type, and new columns
added to a group (on request and with addMissingFeatures), old and new records read back."""

from __future__ import annotations

import sys

import pytest

from localstore import ROOT
from readback import get_records

sys.path.insert(0, str(ROOT / "python"))

from featurestore_spark.feature_groups import (  # noqa: E402
    add_missing_features, create_feature_group, feature_definitions)

EVERY_TYPE = """SELECT * FROM VALUES
  ('r1', TIMESTAMP '2024-01-02 03:04:05.678901', CAST(1 AS TINYINT), CAST(2 AS SMALLINT), 3, 4000000000000,
   CAST(123456789012345678 AS DECIMAL(18,0)), CAST(12.34 AS DECIMAL(10,2)), CAST(1.5 AS FLOAT), 0.1D, 'héllo',
   true, DATE '2024-02-29', TIMESTAMP '2024-01-02 03:04:05.678901', TIMESTAMP_NTZ '2024-05-06 07:08:09.123456',
   array(1L, -2L), array(0.25D, 1e300D), array('a', 'b'), array(true, false), array(DATE '2020-01-01'),
   array(TIMESTAMP '2024-01-02 03:04:05'), array('x', 'y'), array(CAST(0.5 AS FLOAT), 1.0F, 2.0F)),
  ('r2', TIMESTAMP '2024-01-03 00:00:00', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
   NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)
AS t(id, ts, tiny, small, int, big, dec18, dec_scaled, float, double, text, flag, day, time, ntz, ints,
     doubles, texts, flags, days, times, tag_set, embedding)"""

COLLECTIONS = {"tag_set": "Set", "embedding": "Vector(3)"}


def connection(write_options: dict[str, str]) -> dict[str, str]:
    """The connector's options for the control-plane calls (credentials come from the environment)."""
    return {"region": write_options["region"], "controlEndpoint": write_options["controlEndpoint"]}


def test_feature_definitions_map_every_type_the_readme_names(spark):
    definitions = feature_definitions(spark.sql(EVERY_TYPE), event_time="ts", collection_types=COLLECTIONS)
    shown = [(d["FeatureName"], d["FeatureType"], d.get("CollectionType"),
              d.get("CollectionConfig", {}).get("VectorConfig", {}).get("Dimension")) for d in definitions]
    assert shown == [
        ("id", "String", None, None), ("ts", "String", None, None), ("tiny", "Integral", None, None),
        ("small", "Integral", None, None), ("int", "Integral", None, None), ("big", "Integral", None, None),
        ("dec18", "Integral", None, None), ("dec_scaled", "Fractional", None, None),
        ("float", "Fractional", None, None), ("double", "Fractional", None, None), ("text", "String", None, None),
        ("flag", "String", None, None), ("day", "String", None, None), ("time", "String", None, None),
        ("ntz", "String", None, None), ("ints", "Integral", "List", None), ("doubles", "Fractional", "List", None),
        ("texts", "String", "List", None), ("flags", "String", "List", None), ("days", "String", "List", None),
        ("times", "String", "List", None), ("tag_set", "String", "Set", None),
        ("embedding", "Fractional", "Vector", 3),
    ]


def test_a_group_created_from_a_dataframe_takes_it_and_reads_back_exactly(spark, runtime, write_options):
    df = spark.sql(EVERY_TYPE)
    described = create_feature_group(
        "py-every-type", df, record_identifier="id", event_time="ts", storage_type="InMemory",
        ttl_duration="520 Weeks", description="every type", tags={"team": "tests"},
        collection_types=COLLECTIONS, timeout_seconds=30, options=connection(write_options))
    assert described["FeatureGroupStatus"] == "Created"
    assert described["OnlineStoreConfig"]["TtlDuration"] == {"Unit": "Weeks", "Value": 520}
    assert len(described["FeatureDefinitions"]) == 23

    df.write.format("featurestore").options(featureGroupName="py-every-type", **write_options).mode("append").save()

    # The session's time zone is America/Los_Angeles: timestamps are written in UTC; TIMESTAMP_NTZ as wall-clock UTC.
    stored = get_records(runtime, "py-every-type", ["r1", "r2"])
    assert stored["r1"] == {
        "id": "r1", "ts": "2024-01-02T11:04:05.678Z", "tiny": "1", "small": "2", "int": "3", "big": "4000000000000",
        "dec18": "123456789012345678", "dec_scaled": "12.34", "float": "1.5", "double": "0.1", "text": "héllo",
        "flag": "true", "day": "2024-02-29", "time": "2024-01-02T11:04:05.678901Z",
        "ntz": "2024-05-06T07:08:09.123456Z", "ints": ["1", "-2"], "doubles": ["0.25", "1e+300"],
        "texts": ["a", "b"], "flags": ["true", "false"], "days": ["2020-01-01"],
        "times": ["2024-01-02T11:04:05.000000Z"], "tag_set": ["x", "y"], "embedding": ["0.5", "1.0", "2.0"],
    }
    assert stored["r2"] == {"id": "r2", "ts": "2024-01-03T08:00:00.000Z"}


def test_a_creation_that_fails_raises_the_services_failure_reason(spark, store, write_options):
    # The store reports the group CreateFailed, as the service does when, say, its role cannot reach the S3 URI.
    reason = "The IAM role cannot write to s3://py-failed/offline"
    store.set_faults(group_statuses={"py-create-failed": {"status": "CreateFailed", "failure_reason": reason}})
    try:
        with pytest.raises(Exception) as raised:
            create_feature_group("py-create-failed", spark.sql(EVERY_TYPE), record_identifier="id", event_time="ts",
                                 storage_type="InMemory", collection_types=COLLECTIONS, timeout_seconds=30,
                                 options=connection(write_options))
    finally:
        store.set_faults()
    message = str(raised.value)
    assert "FeatureStoreServiceException" in message and "CreateFailed" in message and reason in message, message


def test_every_column_without_a_feature_type_is_named_in_one_error(spark, store, write_options):
    from py4j.protocol import Py4JJavaError

    df = spark.sql("""SELECT 'a' AS id, current_timestamp() AS ts, named_struct('x', 1) AS address,
                      map('k', 'v') AS attributes, X'00' AS photo, array(array(1.0D)) AS matrix, 1 AS ok""")
    with pytest.raises(Py4JJavaError) as raised:
        feature_definitions(df)
    message = str(raised.value.java_exception)
    assert "FeatureStoreValidationException" in raised.value.java_exception.getClass().getName()
    for column in ("address", "attributes", "photo", "matrix"):
        assert f"column '{column}'" in message, message
    assert "column 'ok'" not in message

    with pytest.raises(Py4JJavaError) as raised:
        create_feature_group("py-refused", df, record_identifier="id", event_time="ts",
                             options=connection(write_options))
    assert "column 'photo'" in str(raised.value.java_exception)
    sagemaker = store.client("sagemaker")
    assert "py-refused" not in [g["FeatureGroupName"] for g in sagemaker.list_feature_groups()["FeatureGroupSummaries"]]


def test_new_columns_are_added_and_old_and_new_records_read_back(spark, runtime, write_options):
    v1 = spark.sql("SELECT 'a' AS id, TIMESTAMP '2024-01-02 03:04:05' AS ts, 1 AS visits")
    create_feature_group("py-grows", v1, record_identifier="id", event_time="ts", options=connection(write_options))
    options = {"featureGroupName": "py-grows", **write_options}
    v1.write.format("featurestore").options(**options).mode("append").save()

    v2 = spark.sql("SELECT 'b' AS id, TIMESTAMP '2024-01-03 00:00:00' AS ts, 2 AS visits, 'eu' AS region")
    described = add_missing_features("py-grows", v2, options=connection(write_options))
    assert described["LastUpdateStatus"] == {"Status": "Successful"}
    assert [d["FeatureName"] for d in described["FeatureDefinitions"]] == ["id", "ts", "visits", "region"]
    v2.write.format("featurestore").options(**options).mode("append").save()

    v3 = spark.sql("SELECT 'c' AS id, TIMESTAMP '2024-01-04 00:00:00' AS ts, 0.5D AS score")
    v3.write.format("featurestore").options(**options, addMissingFeatures="true").mode("append").save()

    stored = get_records(runtime, "py-grows", ["a", "b", "c"])
    assert stored == {
        "a": {"id": "a", "ts": "2024-01-02T11:04:05.000Z", "visits": "1"},
        "b": {"id": "b", "ts": "2024-01-03T08:00:00.000Z", "visits": "2", "region": "eu"},
        "c": {"id": "c", "ts": "2024-01-04T08:00:00.000Z", "score": "0.5"},
    }
