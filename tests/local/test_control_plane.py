"""The control plane (boto3's `sagemaker` client, JSON 1.1): CreateFeatureGroup's rules, DescribeFeatureGroup's
shape, ListFeatureGroups, DeleteFeatureGroup, names and ARNs, and the protocol's errors."""

from __future__ import annotations

import datetime
import http.client
import json

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ParamValidationError

from fslocal import ACCOUNT, REGION, STANDARD_FEATURES, LocalStore, create_group, features

# Requests that boto3 itself would refuse (missing members, short lists) go out unchecked, to see the store's answer.
UNCHECKED = Config(parameter_validation=False, retries={"total_max_attempts": 1, "mode": "standard"})


def base_request(name: str, **changes) -> dict:
    request = {
        "FeatureGroupName": name,
        "RecordIdentifierFeatureName": "id",
        "EventTimeFeatureName": "ts",
        "FeatureDefinitions": STANDARD_FEATURES,
        "OnlineStoreConfig": {"EnableOnlineStore": True},
    }
    request.update(changes)
    return request


def validation_message(store: LocalStore, request: dict) -> str:
    client = store.client("sagemaker", UNCHECKED)
    with pytest.raises(ClientError) as raised:
        client.create_feature_group(**request)
    error = raised.value.response
    assert error["Error"]["Code"] == "ValidationException", error
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    return error["Error"]["Message"]


def test_create_then_describe_gives_the_services_shape(store, name):
    created = store.sagemaker.create_feature_group(
        **base_request(
            name,
            FeatureDefinitions=STANDARD_FEATURES,
            OnlineStoreConfig={"EnableOnlineStore": True, "TtlDuration": {"Unit": "Days", "Value": 7}},
            OfflineStoreConfig={"S3StorageConfig": {"S3Uri": "s3://my-bucket/some/prefix/"}, "TableFormat": "Iceberg"},
            RoleArn=f"arn:aws:iam::{ACCOUNT}:role/service-role/FeatureStoreRole",
            Description="customers by id",
        )
    )
    arn = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:feature-group/{name.lower()}"
    assert created["FeatureGroupArn"] == arn

    described = store.sagemaker.describe_feature_group(FeatureGroupName=name)
    created_at = described["CreationTime"]
    assert isinstance(created_at, datetime.datetime)
    assert abs(created_at.timestamp() - datetime.datetime.now().timestamp()) < 60
    ts = int(created_at.timestamp())
    assert described["FeatureGroupArn"] == arn
    assert described["FeatureGroupName"] == name
    assert described["RecordIdentifierFeatureName"] == "id"
    assert described["EventTimeFeatureName"] == "ts"
    assert described["FeatureDefinitions"] == STANDARD_FEATURES
    assert described["FeatureGroupStatus"] == "Created"
    assert described["OfflineStoreStatus"] == {"Status": "Active"}
    assert described["OnlineStoreConfig"] == {
        "EnableOnlineStore": True,
        "StorageType": "Standard",
        "TtlDuration": {"Unit": "Days", "Value": 7},
    }
    offline = described["OfflineStoreConfig"]
    assert offline["S3StorageConfig"]["S3Uri"] == "s3://my-bucket/some/prefix/"
    resolved = f"s3://my-bucket/some/prefix/{ACCOUNT}/sagemaker/{REGION}/offline-store/{name}-{ts}/data"
    assert offline["S3StorageConfig"]["ResolvedOutputS3Uri"] == resolved
    assert offline["TableFormat"] == "Iceberg"
    assert offline["DataCatalogConfig"] == {
        "TableName": f"{name.lower().replace('-', '_')}_{ts}",
        "Catalog": "AwsDataCatalog",
        "Database": "sagemaker_featurestore",
    }
    assert described["ThroughputConfig"] == {"ThroughputMode": "OnDemand"}
    assert described["RoleArn"] == f"arn:aws:iam::{ACCOUNT}:role/service-role/FeatureStoreRole"
    assert described["Description"] == "customers by id"
    assert described["OnlineStoreTotalSizeBytes"] == 0


def test_describe_accepts_the_arn_and_any_case_of_the_name(store, name):
    arn = create_group(store, name)["FeatureGroupArn"]
    assert store.sagemaker.describe_feature_group(FeatureGroupName=arn)["FeatureGroupName"] == name
    assert store.sagemaker.describe_feature_group(FeatureGroupName=name.upper())["FeatureGroupName"] == name


def test_collections_and_vectors_are_described_with_their_config(store, name):
    definitions = STANDARD_FEATURES + [
        {"FeatureName": "tags", "FeatureType": "String", "CollectionType": "List"},
        {"FeatureName": "codes", "FeatureType": "Integral", "CollectionType": "Set"},
        {
            "FeatureName": "embedding",
            "FeatureType": "Fractional",
            "CollectionType": "Vector",
            "CollectionConfig": {"VectorConfig": {"Dimension": 4}},
        },
    ]
    store.sagemaker.create_feature_group(
        **base_request(name, FeatureDefinitions=definitions, OnlineStoreConfig={"EnableOnlineStore": True, "StorageType": "InMemory"})
    )
    described = store.sagemaker.describe_feature_group(FeatureGroupName=name)
    assert described["FeatureDefinitions"] == definitions
    assert described["OnlineStoreConfig"]["StorageType"] == "InMemory"
    assert "OfflineStoreConfig" not in described and "OfflineStoreStatus" not in described


def test_an_existing_name_is_resource_in_use_whatever_its_case(store, name):
    create_group(store, name)
    for again in (name, name.upper()):
        with pytest.raises(store.sagemaker.exceptions.ResourceInUse) as raised:
            store.sagemaker.create_feature_group(**base_request(again))
        assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_unknown_groups_are_resource_not_found(store):
    for call in (store.sagemaker.describe_feature_group, store.sagemaker.delete_feature_group):
        with pytest.raises(store.sagemaker.exceptions.ResourceNotFound) as raised:
            call(FeatureGroupName="never-created")
        assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
        assert "never-created" in raised.value.response["Error"]["Message"]
    with pytest.raises(store.sagemaker.exceptions.ResourceNotFound):
        store.sagemaker.describe_feature_group(FeatureGroupName=f"arn:aws:sagemaker:eu-west-1:{ACCOUNT}:feature-group/x")


@pytest.mark.parametrize(
    "change, expected",
    [
        ({"FeatureGroupName": "bad name"}, "Member must satisfy regular expression pattern"),
        ({"FeatureGroupName": "-starts-with-hyphen"}, "regular expression pattern"),
        ({"FeatureGroupName": "x" * 65}, "length less than or equal to 64"),
        ({"FeatureDefinitions": features(("id", "String"), ("ts", "Text"))}, "enum value set: [Integral, Fractional, String]"),
        ({"FeatureDefinitions": features(("id", "String"), ("bad.name", "String"), ("ts", "String"))}, "featureDefinitions.2.member.featureName"),
        ({"FeatureDefinitions": features(("id", "String"), ("ts", "String"), ("write_time", "String"))}, "reserved"),
        ({"FeatureDefinitions": features(("id", "String"), ("ts", "String"), ("IS_DELETED", "String"))}, "reserved"),
        ({"FeatureDefinitions": features(("id", "String"), ("ts", "String"), ("api_invocation_time", "Integral"))}, "reserved"),
        ({"FeatureDefinitions": features(("id", "String"), ("ts", "String"), ("ID", "Integral"))}, "more than once"),
        ({"RecordIdentifierFeatureName": "missing"}, "RecordIdentifierFeatureName 'missing'"),
        ({"EventTimeFeatureName": "missing"}, "EventTimeFeatureName 'missing'"),
        ({"EventTimeFeatureName": "count"}, "must be of FeatureType String or Fractional"),
        ({"EventTimeFeatureName": "id"}, "must be different features"),
        ({"OnlineStoreConfig": {"EnableOnlineStore": False}}, "at least one of OnlineStoreConfig"),
        ({"OnlineStoreConfig": {"EnableOnlineStore": True, "StorageType": "Fast"}}, "enum value set: [Standard, Standard_V2, InMemory]"),
        ({"OnlineStoreConfig": {"EnableOnlineStore": True, "TtlDuration": {"Unit": "Months", "Value": 1}}}, "onlineStoreConfig.ttlDuration.unit"),
        ({"OnlineStoreConfig": {"EnableOnlineStore": True, "TtlDuration": {"Unit": "Days", "Value": 0}}}, "greater than or equal to 1"),
        ({"OfflineStoreConfig": {"S3StorageConfig": {"S3Uri": "ftp://bucket/x"}}}, "(https|s3)://"),
        ({"OfflineStoreConfig": {"S3StorageConfig": {"S3Uri": "https://bucket.s3.amazonaws.com/x"}}}, "not supported by featurestore-local"),
        ({"OfflineStoreConfig": {"S3StorageConfig": {"S3Uri": "s3://b/x"}, "TableFormat": "Delta"}}, "enum value set: [Default, Glue, Iceberg]"),
        ({"OfflineStoreConfig": {"S3StorageConfig": {"S3Uri": "s3://b/x"}, "TableFormat": "Iceberg", "DisableGlueTableCreation": True}}, "Iceberg"),
        ({"FeatureDefinitions": STANDARD_FEATURES + [{"FeatureName": "tags", "FeatureType": "String", "CollectionType": "List"}]}, "InMemory"),
        ({"RoleArn": "arn:aws:iam::12345:role/x"}, "roleArn"),
        ({"Description": "d" * 129}, "description"),
        ({"ThroughputConfig": {"ThroughputMode": "Burst"}}, "throughputConfig.throughputMode"),
    ],
)
def test_every_create_rule_is_a_validation_exception(store, name, change, expected):
    message = validation_message(store, base_request(name, **change))
    assert expected in message, message


def test_vector_rules(store, name):
    in_memory = {"EnableOnlineStore": True, "StorageType": "InMemory"}
    vector = {"FeatureName": "v", "FeatureType": "Fractional", "CollectionType": "Vector"}
    cases = [
        ({**vector}, "Dimension"),
        ({**vector, "FeatureType": "String", "CollectionConfig": {"VectorConfig": {"Dimension": 3}}}, "Fractional"),
        ({**vector, "CollectionConfig": {"VectorConfig": {"Dimension": 8193}}}, "less than or equal to 8192"),
        ({**vector, "CollectionType": "List", "CollectionConfig": {"VectorConfig": {"Dimension": 3}}}, "only CollectionType Vector"),
    ]
    for definition, expected in cases:
        request = base_request(name, OnlineStoreConfig=in_memory, FeatureDefinitions=STANDARD_FEATURES + [definition])
        assert expected in validation_message(store, request)


def test_missing_required_members_are_reported_like_the_service(store, name):
    request = base_request(name)
    del request["EventTimeFeatureName"]
    del request["FeatureDefinitions"]
    message = validation_message(store, request)
    assert message.startswith("2 validation errors detected: "), message
    assert "Value null at 'eventTimeFeatureName' failed to satisfy constraint: Member must not be null" in message
    assert "Value null at 'featureDefinitions'" in message
    # boto3 checks these itself when parameter validation is on.
    with pytest.raises(ParamValidationError):
        store.sagemaker.create_feature_group(**request)


def test_list_filters_sorts_and_pages(store, name):
    names = [f"{name}-{i}" for i in range(3)]
    for each in names:
        create_group(store, each, offline=each != names[1])
    listed = store.sagemaker.list_feature_groups(NameContains=name, SortBy="Name", SortOrder="Ascending")
    summaries = listed["FeatureGroupSummaries"]
    assert [s["FeatureGroupName"] for s in summaries] == names
    assert summaries[0]["FeatureGroupArn"].endswith(f"feature-group/{names[0].lower()}")
    assert summaries[0]["FeatureGroupStatus"] == "Created"
    assert summaries[0]["OfflineStoreStatus"] == {"Status": "Active"}
    assert "OfflineStoreStatus" not in summaries[1]
    # Newest first by default.
    default = store.sagemaker.list_feature_groups(NameContains=name)["FeatureGroupSummaries"]
    assert [s["FeatureGroupName"] for s in default] == names[::-1]
    active = store.sagemaker.list_feature_groups(NameContains=name, OfflineStoreStatusEquals="Active")
    assert len(active["FeatureGroupSummaries"]) == 2
    pages = store.sagemaker.get_paginator("list_feature_groups").paginate(
        NameContains=name, SortBy="Name", SortOrder="Ascending", PaginationConfig={"PageSize": 2}
    )
    paged = [[s["FeatureGroupName"] for s in page["FeatureGroupSummaries"]] for page in pages]
    assert paged == [names[:2], names[2:]]


def test_delete_removes_the_group_and_its_online_store_but_keeps_offline_files(store, name):
    create_group(store, name)
    store.runtime.put_record(
        FeatureGroupName=name,
        Record=[{"FeatureName": "id", "ValueAsString": "r"}, {"FeatureName": "ts", "ValueAsString": "2024-01-01T00:00:00Z"}],
    )
    arn = store.sagemaker.describe_feature_group(FeatureGroupName=name)["FeatureGroupArn"]
    store.sagemaker.delete_feature_group(FeatureGroupName=arn)
    with pytest.raises(store.sagemaker.exceptions.ResourceNotFound):
        store.sagemaker.describe_feature_group(FeatureGroupName=name)
    with pytest.raises(store.runtime.exceptions.ResourceNotFound):
        store.runtime.get_record(FeatureGroupName=name, RecordIdentifierValueAsString="r")
    offline = [p for p in store.data_dir.rglob("*.parquet") if f"/{name}-" in str(p)]
    assert len(offline) == 1, offline
    # The name can be used again, for a new, empty group.
    create_group(store, name)
    assert "Record" not in store.runtime.get_record(FeatureGroupName=name, RecordIdentifierValueAsString="r")


def test_the_feature_group_quota_is_resource_limit_exceeded(tmp_path):
    local = LocalStore.start(tmp_path / "data", "--max-feature-groups", "2")
    try:
        create_group(local, "one")
        create_group(local, "two")
        with pytest.raises(local.sagemaker.exceptions.ResourceLimitExceeded) as raised:
            create_group(local, "three")
        assert "2 FeatureGroups" in raised.value.response["Error"]["Message"]
    finally:
        assert local.stop() == 0


def test_the_group_statuses_fault_reports_a_group_being_created_deleted_or_failed(store, name):
    create_group(store, name)
    store.set_faults(group_statuses={name.upper(): {"status": "CreateFailed", "failure_reason": "No S3 access"}})
    described = store.sagemaker.describe_feature_group(FeatureGroupName=name)
    assert (described["FeatureGroupStatus"], described["FailureReason"]) == ("CreateFailed", "No S3 access")
    listed = store.sagemaker.list_feature_groups(NameContains=name, FeatureGroupStatusEquals="CreateFailed")
    assert [s["FeatureGroupStatus"] for s in listed["FeatureGroupSummaries"]] == ["CreateFailed"]
    assert not store.sagemaker.list_feature_groups(NameContains=name, FeatureGroupStatusEquals="Created")[
        "FeatureGroupSummaries"]
    store.set_faults()
    described = store.sagemaker.describe_feature_group(FeatureGroupName=name)
    assert described["FeatureGroupStatus"] == "Created" and "FailureReason" not in described


def test_describe_pages_long_feature_lists_with_next_token(tmp_path):
    # The service pages FeatureDefinitions (2,500 per answer); a smaller page makes clients' paging testable.
    local = LocalStore.start(tmp_path / "data", "--describe-page-size", "3")
    try:
        definitions = STANDARD_FEATURES + [{"FeatureName": f"extra_{i}", "FeatureType": "Integral"} for i in range(5)]
        local.sagemaker.create_feature_group(**base_request("paged", FeatureDefinitions=definitions))
        pages, token = [], None
        while True:
            answer = local.sagemaker.describe_feature_group(
                FeatureGroupName="paged", **({"NextToken": token} if token else {})
            )
            pages.append([d["FeatureName"] for d in answer["FeatureDefinitions"]])
            assert answer["RecordIdentifierFeatureName"] == "id"
            token = answer.get("NextToken")
            if not token:
                break
        assert [len(page) for page in pages] == [3] * (len(definitions) // 3) + [len(definitions) % 3]
        assert [name for page in pages for name in page] == [d["FeatureName"] for d in definitions]
        with pytest.raises(ClientError) as raised:
            local.sagemaker.describe_feature_group(FeatureGroupName="paged", NextToken="not-a-token")
        assert raised.value.response["Error"]["Code"] == "ValidationException"
    finally:
        assert local.stop() == 0


def raw_post(store: LocalStore, body: bytes, headers: dict) -> tuple[int, dict, dict]:
    host, port = store.endpoint.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    connection.request("POST", "/", body=body, headers=headers)
    response = connection.getresponse()
    payload = json.loads(response.read())
    connection.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, payload


@pytest.mark.parametrize(
    "body, headers, status, code",
    [
        (b"{}", {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "SageMaker.CreateTrainingJob"}, 400, "UnknownOperationException"),
        (b"{}", {"Content-Type": "application/x-amz-json-1.1"}, 400, "UnknownOperationException"),
        (b"{not json", {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "SageMaker.DescribeFeatureGroup"}, 400, "SerializationException"),
        (b'{"FeatureGroupName": 5}', {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "SageMaker.DescribeFeatureGroup"}, 400, "SerializationException"),
        (b"{}", {"Content-Type": "text/plain", "X-Amz-Target": "SageMaker.ListFeatureGroups"}, 415, "UnsupportedMediaTypeException"),
    ],
)
def test_protocol_errors_are_answered_and_the_store_keeps_serving(store, body, headers, status, code):
    got_status, got_headers, payload = raw_post(store, body, headers)
    assert got_status == status
    assert payload["__type"] == code and payload["message"]
    assert got_headers["x-amzn-errortype"] == code
    assert got_headers["content-type"] == "application/x-amz-json-1.1"
    assert "FeatureGroupSummaries" in store.sagemaker.list_feature_groups()
