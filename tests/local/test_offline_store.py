"""The offline store: Parquet files in the service's S3 layout under the data directory, read back with pyarrow,
with the service's columns and types."""

from __future__ import annotations

import datetime

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from fslocal import ACCOUNT, REGION, create_group, record

UTC = datetime.timezone.utc


def offline_dir(store, group: str):
    resolved = store.sagemaker.describe_feature_group(FeatureGroupName=group)["OfflineStoreConfig"]["S3StorageConfig"][
        "ResolvedOutputS3Uri"
    ]
    assert resolved.startswith("s3://")
    return store.data_dir / "s3" / resolved.removeprefix("s3://")


def test_rows_are_partitioned_by_event_hour_with_the_services_columns(store, name):
    described = create_group(
        store,
        name,
        FeatureDefinitions=[
            {"FeatureName": "id", "FeatureType": "Integral"},
            {"FeatureName": "ts", "FeatureType": "String"},
            {"FeatureName": "amount", "FeatureType": "Fractional"},
            {"FeatureName": "city", "FeatureType": "String"},
        ],
        OfflineStoreConfig={"S3StorageConfig": {"S3Uri": "s3://analytics/feature-store/"}},
    )
    ts = int(described["CreationTime"].timestamp())
    before = datetime.datetime.now(UTC).replace(microsecond=0) - datetime.timedelta(seconds=1)
    rows = [
        ("1", "2024-05-01T10:15:00Z", "1.5", "Paris"),
        ("2", "2024-05-01T10:59:59.999Z", "2.5", None),
        ("3", "2024-05-01T11:00:00Z", "-3.25", "Oslo"),
        ("1", "2023-12-31T23:30:00.100Z", "0.0", "Lima"),
    ]
    store.runtime.batch_write_record(
        Entries=[
            {
                "FeatureGroupName": name,
                "Record": [
                    {"FeatureName": n, "ValueAsString": v}
                    for n, v in zip(("id", "ts", "amount", "city"), row)
                    if v is not None
                ],
            }
            for row in rows
        ]
    )
    store.runtime.delete_record(FeatureGroupName=name, RecordIdentifierValueAsString="3", EventTime="2024-05-01T11:30:00Z")
    flushed = store.flush()
    assert flushed["offline_rows_written"] == 5

    root = offline_dir(store, name)
    assert root == (
        store.data_dir / "s3" / "analytics" / "feature-store" / ACCOUNT / "sagemaker" / REGION / "offline-store" / f"{name}-{ts}" / "data"
    )
    partitions = sorted(str(p.parent.relative_to(root)) for p in root.rglob("*.parquet"))
    assert partitions == [
        "year=2023/month=12/day=31/hour=23",
        "year=2024/month=05/day=01/hour=10",
        "year=2024/month=05/day=01/hour=11",
    ]
    for path in root.rglob("*.parquet"):
        stem = path.name.removesuffix(".parquet")
        stamp, suffix = stem.split("_")
        assert len(suffix) == 16 and suffix.isalnum()
        datetime.datetime.strptime(stamp, "%Y%m%dT%H%M%SZ")

    table = ds.dataset(root, format="parquet", partitioning="hive").to_table()
    schema = pq.read_schema(next(root.rglob("*.parquet")))
    assert schema.names == ["id", "ts", "amount", "city", "write_time", "api_invocation_time", "is_deleted"]
    assert schema.field("id").type == pa.int64()
    assert schema.field("ts").type == pa.string()
    assert schema.field("amount").type == pa.float64()
    assert schema.field("city").type == pa.string()
    assert schema.field("write_time").type == pa.timestamp("ms", tz="UTC")
    assert schema.field("api_invocation_time").type == pa.timestamp("ms", tz="UTC")
    assert schema.field("is_deleted").type == pa.bool_()

    got = sorted(
        (r["id"], r["ts"], r["amount"], r["city"], r["is_deleted"], r["year"], r["hour"]) for r in table.to_pylist()
    )
    assert got == [
        (1, "2023-12-31T23:30:00.100Z", 0.0, "Lima", False, 2023, 23),
        (1, "2024-05-01T10:15:00Z", 1.5, "Paris", False, 2024, 10),
        (2, "2024-05-01T10:59:59.999Z", 2.5, None, False, 2024, 10),
        (3, "2024-05-01T11:00:00Z", -3.25, "Oslo", False, 2024, 11),
        (3, "2024-05-01T11:30:00Z", None, None, True, 2024, 11),
    ]
    after = datetime.datetime.now(UTC) + datetime.timedelta(seconds=1)
    for row in table.to_pylist():
        assert before <= row["api_invocation_time"] <= row["write_time"] <= after


def test_every_record_reaches_the_offline_store_even_when_the_online_one_keeps_another(store, name):
    create_group(store, name)
    store.runtime.put_record(FeatureGroupName=name, Record=record("k", ts="2024-05-01T10:00:00Z", count="2"))
    store.runtime.put_record(FeatureGroupName=name, Record=record("k", ts="2024-05-01T09:00:00Z", count="1"))
    store.flush()
    table = ds.dataset(offline_dir(store, name), format="parquet", partitioning="hive").to_table()
    assert sorted(table.column("count").to_pylist()) == [1, 2]
    online = store.runtime.get_record(FeatureGroupName=name, RecordIdentifierValueAsString="k")["Record"]
    assert {"FeatureName": "count", "ValueAsString": "2"} in online


def test_the_background_flush_writes_without_being_asked(tmp_path):
    from fslocal import LocalStore

    local = LocalStore.start(tmp_path / "data", "--offline-flush-interval-ms", "100")
    try:
        create_group(local, "auto")
        local.runtime.put_record(FeatureGroupName="auto", Record=record("a"))
        root = offline_dir(local, "auto")
        deadline = datetime.datetime.now() + datetime.timedelta(seconds=20)
        while not list(root.rglob("*.parquet")):
            assert datetime.datetime.now() < deadline, "no Parquet file after 20 s"
            import time

            time.sleep(0.05)
        assert local.stats()["offline_rows_written"] == 1
    finally:
        assert local.stop() == 0


def test_collections_are_lists_in_parquet(store, name):
    definitions = [
        {"FeatureName": "id", "FeatureType": "String"},
        {"FeatureName": "ts", "FeatureType": "String"},
        {"FeatureName": "codes", "FeatureType": "Integral", "CollectionType": "List"},
        {"FeatureName": "vec", "FeatureType": "Fractional", "CollectionType": "Vector", "CollectionConfig": {"VectorConfig": {"Dimension": 2}}},
    ]
    create_group(store, name, online={"EnableOnlineStore": True, "StorageType": "InMemory"}, FeatureDefinitions=definitions)
    store.runtime.put_record(
        FeatureGroupName=name,
        Record=record("c")[:2]
        + [{"FeatureName": "codes", "ValueAsStringList": ["3", "-4"]}, {"FeatureName": "vec", "ValueAsStringList": ["0.5", "1e-3"]}],
    )
    store.flush()
    table = ds.dataset(offline_dir(store, name), format="parquet", partitioning="hive").to_table()
    assert table.schema.field("codes").type == pa.list_(pa.int64())
    assert table.schema.field("vec").type == pa.list_(pa.float64())
    assert table.column("codes").to_pylist() == [[3, -4]]
    assert table.column("vec").to_pylist() == [[0.5, 0.001]]


def test_a_late_soft_delete_still_writes_its_marker_and_a_refused_hard_delete_writes_none(store, name):
    """DeleteRecord's rules (API reference): a delete whose event time is not later than the stored record's does
    not delete; a SoftDelete still appends the is_deleted marker to the offline store, a HardDelete is refused
    (400 ValidationError naming EventTime) and appends nothing; an applied delete appends its marker."""
    create_group(
        store,
        name,
        FeatureDefinitions=[{"FeatureName": "id", "FeatureType": "String"}, {"FeatureName": "ts", "FeatureType": "String"}],
        OfflineStoreConfig={"S3StorageConfig": {"S3Uri": "s3://analytics/late-deletes/"}},
    )
    store.runtime.put_record(FeatureGroupName=name, Record=[{"FeatureName": "id", "ValueAsString": "a"},
                                                            {"FeatureName": "ts", "ValueAsString": "2024-05-01T10:00:00Z"}])
    late = "2024-05-01T09:00:00Z"
    store.runtime.delete_record(FeatureGroupName=name, RecordIdentifierValueAsString="a", EventTime=late)
    try:
        store.runtime.delete_record(FeatureGroupName=name, RecordIdentifierValueAsString="a", EventTime=late,
                                    DeletionMode="HardDelete")
        raise AssertionError("a late HardDelete was applied")
    except store.runtime.exceptions.ClientError as e:
        assert e.response["Error"]["Code"] == "ValidationError" and "EventTime" in e.response["Error"]["Message"]
    assert store.runtime.get_record(FeatureGroupName=name, RecordIdentifierValueAsString="a").get("Record")
    store.runtime.delete_record(FeatureGroupName=name, RecordIdentifierValueAsString="a",
                                EventTime="2024-05-01T11:00:00Z", DeletionMode="HardDelete")
    store.flush()
    table = ds.dataset(offline_dir(store, name), format="parquet", partitioning="hive").to_table()
    got = sorted((r["id"], r["ts"], r["is_deleted"]) for r in table.to_pylist())
    assert got == [
        ("a", "2024-05-01T09:00:00Z", True),  # the late SoftDelete's marker
        ("a", "2024-05-01T10:00:00Z", False),
        ("a", "2024-05-01T11:00:00Z", True),  # the applied HardDelete's; the refused one left none
    ]
