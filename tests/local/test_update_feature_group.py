"""UpdateFeatureGroup (boto3's `sagemaker` client): FeatureAdditions appended by the service's rules (additions only,
1 to 100 per call, names new and unique ignoring case, every definition rule of CreateFeatureGroup), the group's
LastUpdateStatus and LastModifiedTime, records with the new features online and offline, and a restart."""

from __future__ import annotations

import signal

import pyarrow as pa
import pyarrow.dataset as ds
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from fslocal import LocalStore, as_dict, create_group, features, record

# Requests that boto3 itself would refuse (an empty list) go out unchecked, to see the store's answer.
UNCHECKED = Config(parameter_validation=False, retries={"total_max_attempts": 1, "mode": "standard"})


def read_offline(path) -> pa.Table:
    """Every offline file of a group as one table, with the union of their columns, as a catalog after an update
    describes them (pyarrow alone takes the schema of whichever file it reads first, old or new)."""
    dataset = ds.dataset(path, format="parquet", partitioning="hive")
    schema = pa.unify_schemas([dataset.schema, *(f.physical_schema for f in dataset.get_fragments())])
    return ds.dataset(path, schema=schema, format="parquet", partitioning="hive").to_table()


def refused(store: LocalStore, name: str, code: str = "ValidationException", **request) -> str:
    with pytest.raises(ClientError) as raised:
        store.client("sagemaker", UNCHECKED).update_feature_group(FeatureGroupName=name, **request)
    assert raised.value.response["Error"]["Code"] == code, raised.value.response
    return raised.value.response["Error"]["Message"]


def test_additions_are_appended_and_written_online_and_offline(store, name):
    described = create_group(store, name)
    assert "LastUpdateStatus" not in described
    store.runtime.put_record(FeatureGroupName=name, Record=record("old"))

    answer = store.sagemaker.update_feature_group(
        FeatureGroupName=name, FeatureAdditions=features(("region", "String"), ("visits", "Integral")))
    assert answer["FeatureGroupArn"] == described["FeatureGroupArn"]
    updated = store.sagemaker.describe_feature_group(FeatureGroupName=name)
    assert updated["FeatureDefinitions"] == described["FeatureDefinitions"] + features(
        ("region", "String"), ("visits", "Integral"))
    assert updated["LastUpdateStatus"] == {"Status": "Successful"}
    assert updated["LastModifiedTime"] >= updated["CreationTime"]

    store.runtime.put_record(FeatureGroupName=name, Record=record("new", region="eu", visits="3"))
    new = as_dict(store.runtime.get_record(FeatureGroupName=name, RecordIdentifierValueAsString="new")["Record"])
    assert (new["region"], new["visits"]) == ("eu", "3")
    old = as_dict(store.runtime.get_record(FeatureGroupName=name, RecordIdentifierValueAsString="old")["Record"])
    assert "region" not in old and old["id"] == "old"

    store.flush()
    resolved = updated["OfflineStoreConfig"]["S3StorageConfig"]["ResolvedOutputS3Uri"].removeprefix("s3://")
    table = read_offline(store.data_dir / "s3" / resolved)
    rows = {r["id"]: r for r in table.to_pylist()}
    assert set(rows) == {"old", "new"}
    assert (rows["new"]["region"], rows["new"]["visits"]) == ("eu", 3)
    assert rows["old"].get("region") is None


def test_the_services_rules_refuse_what_is_not_a_valid_addition(store, name):
    create_group(store, name)
    existing = refused(store, name, FeatureAdditions=features(("COUNT", "Integral")))
    assert "already exists" in existing and "'count'" in existing
    assert "more than once" in refused(store, name, FeatureAdditions=features(("a", "String"), ("A", "String")))
    assert "reserved" in refused(store, name, FeatureAdditions=features(("write_time", "String")))
    assert "InMemory" in refused(
        store, name, FeatureAdditions=[{"FeatureName": "tags", "FeatureType": "String", "CollectionType": "List"}])
    too_many = refused(store, name, FeatureAdditions=features(*[(f"f{i}", "String") for i in range(101)]))
    assert too_many.startswith("1 validation error detected") and "featureAdditions" in too_many
    assert "featureAdditions" in refused(store, name, FeatureAdditions=[])
    assert "featureAdditions.1.member.featureType" in refused(
        store, name, FeatureAdditions=[{"FeatureName": "x", "FeatureType": "Text"}])
    assert "FeatureAdditions only" in refused(
        store, name, OnlineStoreConfig={"TtlDuration": {"Unit": "Days", "Value": 1}})
    refused(store, "no-such-group", "ResourceNotFound", FeatureAdditions=features(("x", "String")))
    # Nothing refused was applied.
    after = store.sagemaker.describe_feature_group(FeatureGroupName=name)
    assert len(after["FeatureDefinitions"]) == 5 and "LastUpdateStatus" not in after


def test_an_in_memory_group_takes_collection_additions_and_a_restart_keeps_them(tmp_path):
    data = tmp_path / "data"
    first = LocalStore.start(data)
    create_group(first, "grows", offline=False, online={"EnableOnlineStore": True, "StorageType": "InMemory"})
    first.sagemaker.update_feature_group(FeatureGroupName="grows", FeatureAdditions=[
        {"FeatureName": "tags", "FeatureType": "String", "CollectionType": "Set"},
        {"FeatureName": "v", "FeatureType": "Fractional", "CollectionType": "Vector",
         "CollectionConfig": {"VectorConfig": {"Dimension": 2}}}])
    first.runtime.put_record(FeatureGroupName="grows", Record=record("r") + [
        {"FeatureName": "tags", "ValueAsStringList": ["a", "b"]},
        {"FeatureName": "v", "ValueAsStringList": ["0.5", "1.5"]}])
    described = first.sagemaker.describe_feature_group(FeatureGroupName="grows")
    assert first.stop(signal.SIGTERM) == 0

    second = LocalStore.start(data)
    try:
        again = second.sagemaker.describe_feature_group(FeatureGroupName="grows")
        for key in ("FeatureDefinitions", "LastModifiedTime", "LastUpdateStatus"):
            assert again[key] == described[key]
        got = as_dict(second.runtime.get_record(FeatureGroupName="grows", RecordIdentifierValueAsString="r")["Record"])
        assert got["v"] == ["0.5", "1.5"] and sorted(got["tags"]) == ["a", "b"]
    finally:
        assert second.stop(signal.SIGINT) == 0
