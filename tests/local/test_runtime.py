"""The runtime (boto3's `sagemaker-featurestore-runtime` client, REST-JSON): every operation and every record rule,
each refusal asserted as the typed exception and code boto3 raises."""

from __future__ import annotations

import datetime
import http.client
import json
import time

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from fslocal import LocalStore, as_dict, create_group, record

UNCHECKED = Config(parameter_validation=False, retries={"total_max_attempts": 1, "mode": "standard"})


@pytest.fixture
def group(store, name):
    create_group(store, name)
    return name


def put(store: LocalStore, group: str, values: list[dict], **more):
    return store.runtime.put_record(FeatureGroupName=group, Record=values, **more)


def get(store: LocalStore, group: str, id: str, **more) -> dict | None:
    found = store.runtime.get_record(FeatureGroupName=group, RecordIdentifierValueAsString=id, **more)
    return as_dict(found["Record"]) if "Record" in found else None


def refused(store: LocalStore, call, *, code="ValidationError", status=400, client=None, **kwargs) -> str:
    """Calls `call` on the runtime client and returns the message of the error it must raise."""
    client = client or store.runtime
    with pytest.raises(ClientError) as raised:
        getattr(client, call)(**kwargs)
    error = raised.value
    assert error.response["Error"]["Code"] == code, error.response
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == status
    assert error.response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-errortype"] == code
    modeled = getattr(client.exceptions, code, None)
    if modeled is not None:
        assert isinstance(error, modeled)
    return error.response["Error"]["Message"]


# ---- operations ----------------------------------------------------------------------------------------------


def test_put_and_get_with_a_feature_filter(store, group):
    put(store, group, record("a", count="5", label="hello \u00e9\u6f22"))
    assert get(store, group, "a") == {"id": "a", "ts": "2024-05-01T10:00:00Z", "count": "5", "score": "0.5", "label": "hello \u00e9\u6f22"}
    assert get(store, group, "a", FeatureNames=["label", "count"]) == {"count": "5", "label": "hello \u00e9\u6f22"}
    assert get(store, group, "missing") is None
    message = refused(store, "get_record", FeatureGroupName=group, RecordIdentifierValueAsString="a", FeatureNames=["nope"])
    assert "nope" in message


def test_put_accepts_the_arn_and_records_may_leave_features_out(store, group):
    arn = store.sagemaker.describe_feature_group(FeatureGroupName=group)["FeatureGroupArn"]
    put(store, arn, [{"FeatureName": "ts", "ValueAsString": "2024-01-01T00:00:00Z"}, {"FeatureName": "id", "ValueAsString": "b"}])
    assert get(store, arn, "b") == {"id": "b", "ts": "2024-01-01T00:00:00Z"}


def test_the_latest_event_time_wins_and_an_equal_one_overwrites(store, group):
    put(store, group, record("k", ts="2024-05-01T10:00:00.500Z", count="1"))
    put(store, group, record("k", ts="2024-05-01T10:00:00.499Z", count="2"))
    assert get(store, group, "k")["count"] == "1"
    put(store, group, record("k", ts="2024-05-01T10:00:00.500Z", count="3"))
    assert get(store, group, "k")["count"] == "3"
    put(store, group, record("k", ts="2024-05-02T00:00:00Z", count="4"))
    assert get(store, group, "k")["count"] == "4"


def test_unknown_groups(store):
    # PutRecord and DeleteRecord have no ResourceNotFound in their model: the service answers ValidationError.
    message = refused(store, "put_record", FeatureGroupName="no-such-group", Record=record())
    assert message == "Resource Not Found: Amazon SageMaker can't find a FeatureGroup with name no-such-group"
    refused(store, "delete_record", FeatureGroupName="no-such-group", RecordIdentifierValueAsString="a", EventTime="2024-01-01T00:00:00Z")
    refused(store, "get_record", code="ResourceNotFound", status=404, FeatureGroupName="no-such-group", RecordIdentifierValueAsString="a")
    refused(store, "list_records", code="ResourceNotFound", status=404, FeatureGroupName="no-such-group")


def test_batch_write_reports_bad_entries_and_writes_the_others(store, group):
    entries = [
        {"FeatureGroupName": group, "Record": record("b1")},
        {"FeatureGroupName": group, "Record": record("b2", count="1.5")},
        {"FeatureGroupName": "no-such-group", "Record": record("b3")},
        {"FeatureGroupName": group, "Record": record("b4", ts="yesterday")},
        {"FeatureGroupName": group, "Record": record("b5"), "TargetStores": ["OnlineStore"]},
    ]
    output = store.runtime.batch_write_record(Entries=entries)
    assert output["UnprocessedEntries"] == []
    errors = [(e["Entry"]["Record"][0]["ValueAsString"], e["ErrorCode"]) for e in output["Errors"]]
    assert errors == [("b2", "ValidationError"), ("b3", "ResourceNotFound"), ("b4", "ValidationError")]
    # Each error carries the entry as it was sent.
    assert output["Errors"][0]["Entry"] == entries[1]
    assert "count" in output["Errors"][0]["ErrorMessage"]
    assert "yyyy-MM-dd'T'HH:mm:ssZ" in output["Errors"][2]["ErrorMessage"]
    assert get(store, group, "b1") and get(store, group, "b5")
    assert get(store, group, "b2") is None


def test_batch_write_takes_1_to_25_entries(store, group):
    too_many = [{"FeatureGroupName": group, "Record": record(f"m{i}")} for i in range(26)]
    message = refused(store, "batch_write_record", Entries=too_many)
    assert "length less than or equal to 25" in message
    message = refused(store, "batch_write_record", client=store.client("sagemaker-featurestore-runtime", UNCHECKED), Entries=[])
    assert "length greater than or equal to 1" in message
    assert get(store, group, "m0") is None


def test_batch_get_returns_found_records_and_per_identifier_errors(store, group):
    for id in ("g1", "g2"):
        put(store, group, record(id))
    output = store.runtime.batch_get_record(
        Identifiers=[
            {"FeatureGroupName": group, "RecordIdentifiersValueAsString": ["g1", "nope", "g2"], "FeatureNames": ["id", "count"]},
            {"FeatureGroupName": "no-such-group", "RecordIdentifiersValueAsString": ["x"]},
        ]
    )
    found = [(r["FeatureGroupName"], r["RecordIdentifierValueAsString"], as_dict(r["Record"])) for r in output["Records"]]
    assert found == [(group, "g1", {"id": "g1", "count": "1"}), (group, "g2", {"id": "g2", "count": "1"})]
    assert [(e["FeatureGroupName"], e["RecordIdentifierValueAsString"], e["ErrorCode"]) for e in output["Errors"]] == [
        ("no-such-group", "x", "ResourceNotFound")
    ]
    assert output["UnprocessedIdentifiers"] == []


def test_soft_and_hard_delete(store, group):
    for id in ("d1", "d2", "d3"):
        put(store, group, record(id, ts="2024-05-01T10:00:00Z"))
    # A delete older than the record: a soft delete leaves the record, a hard delete is refused.
    store.runtime.delete_record(FeatureGroupName=group, RecordIdentifierValueAsString="d1", EventTime="2024-05-01T09:00:00Z")
    assert get(store, group, "d1")
    message = refused(
        store,
        "delete_record",
        FeatureGroupName=group,
        RecordIdentifierValueAsString="d1",
        EventTime="2024-05-01T09:00:00Z",
        DeletionMode="HardDelete",
    )
    assert "EventTime" in message
    store.runtime.delete_record(FeatureGroupName=group, RecordIdentifierValueAsString="d1", EventTime="2024-05-01T11:00:00Z")
    store.runtime.delete_record(
        FeatureGroupName=group, RecordIdentifierValueAsString="d2", EventTime="2024-05-01T11:00:00.000Z", DeletionMode="HardDelete"
    )
    assert get(store, group, "d1") is None and get(store, group, "d2") is None
    listed = store.runtime.list_records(FeatureGroupName=group)["RecordIdentifiers"]
    assert listed == ["d3"]
    with_soft = store.runtime.list_records(FeatureGroupName=group, IncludeSoftDeletedRecords=True)["RecordIdentifiers"]
    assert with_soft == ["d1", "d3"]
    # A soft-deleted record comes back with a later write, not with an earlier one.
    put(store, group, record("d1", ts="2024-05-01T10:30:00Z"))
    assert get(store, group, "d1") is None
    put(store, group, record("d1", ts="2024-05-01T12:00:00Z"))
    assert get(store, group, "d1")
    refused(store, "delete_record", FeatureGroupName=group, RecordIdentifierValueAsString="d3", EventTime="2024-05-01")
    refused(
        store,
        "delete_record",
        client=store.client("sagemaker-featurestore-runtime", UNCHECKED),
        FeatureGroupName=group,
        RecordIdentifierValueAsString="d3",
        EventTime="2024-05-02T00:00:00Z",
        DeletionMode="Erase",
    )


def test_list_records_pages_in_order(store, group):
    ids = [f"l{i:03}" for i in range(25)]
    for start in range(0, 25, 25):
        store.runtime.batch_write_record(Entries=[{"FeatureGroupName": group, "Record": record(id)} for id in ids[start : start + 25]])
    pages = store.runtime.get_paginator("list_records").paginate(FeatureGroupName=group, PaginationConfig={"PageSize": 10})
    seen = [page["RecordIdentifiers"] for page in pages]
    assert [len(page) for page in seen] == [10, 10, 5]
    assert sum(seen, []) == ids
    refused(store, "list_records", FeatureGroupName=group, NextToken="forged")
    refused(store, "list_records", client=store.client("sagemaker-featurestore-runtime", UNCHECKED), FeatureGroupName=group, MaxResults=101)


def test_ttl_expires_records_and_expires_at_is_returned_on_request(store, name):
    create_group(store, name, online={"EnableOnlineStore": True, "TtlDuration": {"Unit": "Hours", "Value": 1}})
    put(store, name, record("t1", ts="2999-01-01T00:00:00Z"))
    found = store.runtime.get_record(FeatureGroupName=name, RecordIdentifierValueAsString="t1", ExpirationTimeResponse="Enabled")
    assert found["ExpiresAt"] == "2999-01-01T01:00:00.000Z"
    assert "ExpiresAt" not in store.runtime.get_record(FeatureGroupName=name, RecordIdentifierValueAsString="t1")
    # A record's own TtlDuration wins over the group's.
    put(store, name, record("t2", ts="2999-01-01T00:00:00Z"), TtlDuration={"Unit": "Weeks", "Value": 2})
    found = store.runtime.get_record(FeatureGroupName=name, RecordIdentifierValueAsString="t2", ExpirationTimeResponse="Enabled")
    assert found["ExpiresAt"] == "2999-01-15T00:00:00.000Z"
    # Expired already (event time + 1 hour is in the past), then expiring while we wait.
    put(store, name, record("t3", ts="2020-01-01T00:00:00Z"))
    assert get(store, name, "t3") is None
    now = datetime.datetime.now(datetime.timezone.utc)
    soon = (now - datetime.timedelta(seconds=9)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    store.runtime.batch_write_record(
        Entries=[{"FeatureGroupName": name, "Record": record("t4", ts=soon)}], TtlDuration={"Unit": "Seconds", "Value": 11}
    )
    assert get(store, name, "t4")
    time.sleep(2.5)
    assert get(store, name, "t4") is None
    assert "t4" not in store.runtime.list_records(FeatureGroupName=name)["RecordIdentifiers"]


def test_target_stores(store, name):
    create_group(store, name)
    put(store, name, record("only-offline"), TargetStores=["OfflineStore"])
    assert get(store, name, "only-offline") is None
    put(store, name, record("only-online"), TargetStores=["OnlineStore"])
    assert get(store, name, "only-online")
    message = refused(store, "put_record", FeatureGroupName=name, Record=record("x"), TargetStores=["OnlineStore", "OnlineStore"])
    assert "more than once" in message
    refused(store, "put_record", FeatureGroupName=name, Record=record("x"), TargetStores=["Elsewhere"])

    online_only = f"{name}-online"
    create_group(store, online_only, offline=False)
    message = refused(store, "put_record", FeatureGroupName=online_only, Record=record("x"), TargetStores=["OfflineStore"])
    assert "OfflineStore" in message
    offline_only = f"{name}-offline"
    create_group(store, offline_only, online={"EnableOnlineStore": False})
    message = refused(store, "put_record", FeatureGroupName=offline_only, Record=record("x"), TargetStores=["OnlineStore"])
    assert "OnlineStore" in message
    put(store, offline_only, record("y"))
    message = refused(store, "get_record", FeatureGroupName=offline_only, RecordIdentifierValueAsString="y")
    assert "OnlineStore is not enabled" in message


# ---- record rules ----------------------------------------------------------------------------------------------


BIG = 358_400


@pytest.mark.parametrize(
    "values, expected",
    [
        (record(count="9223372036854775808"), "not a valid Integral"),
        (record(count="1.0"), "not a valid Integral"),
        (record(count="12a"), "not a valid Integral"),
        (record(count=""), "not a valid Integral"),
        (record(score="abc"), "not a valid Fractional"),
        (record(score="NaN"), "not a valid Fractional"),
        (record(score="Infinity"), "not a valid Fractional"),
        (record(ts="2024-05-01T10:00:00"), "not in a supported format"),
        (record(ts="2024-05-01 10:00:00Z"), "not in a supported format"),
        (record(ts="2024-05-01T10:00:00.12Z"), "not in a supported format"),
        (record(ts="2024-05-01T10:00:00+00:00"), "not in a supported format"),
        (record(ts="2024-02-30T10:00:00Z"), "not in a supported format"),
        (record(ts="1714557600"), "not in a supported format"),
        (record(unknown_feature="1"), "'unknown_feature' is not defined"),
        (record(is_deleted="true"), "'is_deleted' is not defined"),
        (record() + [{"FeatureName": "label", "ValueAsString": "again"}], "more than once"),
        (record()[1:], "record identifier feature 'id' is missing"),
        ([v for v in record() if v["FeatureName"] != "ts"], "event time feature 'ts' is missing"),
        (record(id=""), "1 to 2048 bytes"),
        (record(id="x" * 2049), "1 to 2048 bytes"),
        (record(label="v" * 200_000, more="w" * 200_000), "350 KB"),
        (record(label="v" * (BIG + 1)), "length less than or equal to 358400"),
        (record() + [{"FeatureName": "bad name", "ValueAsString": "1"}], "regular expression pattern"),
        (record() + [{"FeatureName": "label2", "ValueAsString": "a", "ValueAsStringList": ["b"]}], "both"),
        ([{**v, "ValueAsStringList": ["1"]} if v["FeatureName"] == "count" else v for v in record()], "both"),
        ([{"FeatureName": "count"} if v["FeatureName"] == "count" else v for v in record()], "neither"),
        ([{"FeatureName": "count", "ValueAsStringList": ["1"]} if v["FeatureName"] == "count" else v for v in record()], "not a collection feature"),
    ],
)
def test_every_record_rule_is_a_validation_error(store, name, values, expected):
    definitions = [
        {"FeatureName": n, "FeatureType": t}
        for n, t in [("id", "String"), ("ts", "String"), ("count", "Integral"), ("score", "Fractional"), ("label", "String"), ("label2", "String"), ("more", "String")]
    ]
    create_group(store, name, FeatureDefinitions=definitions)
    message = refused(store, "put_record", FeatureGroupName=name, Record=values)
    assert expected in message, message
    # The same record in a batch is a per-entry error, not a failed call.
    output = store.runtime.batch_write_record(Entries=[{"FeatureGroupName": name, "Record": values}]) if "length less" not in expected and "pattern" not in expected else None
    if output is not None:
        assert [e["ErrorCode"] for e in output["Errors"]] == ["ValidationError"]
        assert expected in output["Errors"][0]["ErrorMessage"]


def test_limits_hold_exactly_at_their_bounds(store, name):
    create_group(store, name)
    put(store, name, record(id="i" * 2048, count="-9223372036854775808", score="1e308", label="v" * 100_000))
    assert get(store, name, "i" * 2048)["count"] == "-9223372036854775808"


def test_fractional_event_times_are_epoch_seconds(store, name):
    definitions = [{"FeatureName": "id", "FeatureType": "Integral"}, {"FeatureName": "ts", "FeatureType": "Fractional"}]
    create_group(store, name, FeatureDefinitions=definitions)
    put(store, name, [{"FeatureName": "id", "ValueAsString": "7"}, {"FeatureName": "ts", "ValueAsString": "1714557600.25"}])
    assert get(store, name, "7") == {"id": "7", "ts": "1714557600.25"}
    message = refused(store, "put_record", FeatureGroupName=name, Record=[{"FeatureName": "id", "ValueAsString": "8"}, {"FeatureName": "ts", "ValueAsString": "2024-05-01T10:00:00Z"}])
    assert "not a valid Fractional" in message
    # The record identifier must fit its type.
    message = refused(store, "put_record", FeatureGroupName=name, Record=[{"FeatureName": "id", "ValueAsString": "x"}, {"FeatureName": "ts", "ValueAsString": "1"}])
    assert "not a valid Integral" in message


def test_collections(store, name):
    definitions = [
        {"FeatureName": "id", "FeatureType": "String"},
        {"FeatureName": "ts", "FeatureType": "String"},
        {"FeatureName": "tags", "FeatureType": "String", "CollectionType": "List"},
        {"FeatureName": "codes", "FeatureType": "Integral", "CollectionType": "Set"},
        {"FeatureName": "embedding", "FeatureType": "Fractional", "CollectionType": "Vector", "CollectionConfig": {"VectorConfig": {"Dimension": 3}}},
    ]
    create_group(store, name, offline=False, online={"EnableOnlineStore": True, "StorageType": "InMemory"}, FeatureDefinitions=definitions)

    def values(tags=("a", "b", "a"), codes=("1", "2"), embedding=("0.1", "0.2", "0.3")):
        return record("c", count="0")[:2] + [
            {"FeatureName": "tags", "ValueAsStringList": list(tags)},
            {"FeatureName": "codes", "ValueAsStringList": list(codes)},
            {"FeatureName": "embedding", "ValueAsStringList": list(embedding)},
        ]

    put(store, name, values())
    assert get(store, name, "c") == {"id": "c", "ts": "2024-05-01T10:00:00Z", "tags": ["a", "b", "a"], "codes": ["1", "2"], "embedding": ["0.1", "0.2", "0.3"]}
    for bad, expected in [
        (values(embedding=("0.1", "0.2")), "dimension 3 but 2 values"),
        (values(embedding=("0.1", "0.2", "x")), "not a valid Fractional"),
        (values(codes=("1", "1")), "more than once"),
        (values(codes=("1", "one")), "not a valid Integral"),
        (values()[:2] + [{"FeatureName": "tags", "ValueAsString": "a"}], "give its value as ValueAsStringList"),
    ]:
        assert expected in refused(store, "put_record", FeatureGroupName=name, Record=bad)


# ---- protocol errors -------------------------------------------------------------------------------------------


def raw(store: LocalStore, method: str, path: str, body: bytes = b"", headers: dict | None = None):
    host, port = store.endpoint.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=60)
    connection.request(method, path, body=body, headers=headers or {})
    response = connection.getresponse()
    payload = response.read()
    connection.close()
    return response.status, response.getheader("x-amzn-errortype"), json.loads(payload) if payload else None


@pytest.mark.parametrize(
    "method, path, body, headers, status, code",
    [
        ("GET", "/NoSuchThing", b"", {}, 404, "UnknownOperationException"),
        ("POST", "/FeatureGroup/g/Unknown", b"{}", {"Content-Type": "application/json"}, 404, "UnknownOperationException"),
        ("PATCH", "/FeatureGroup/g", b"{}", {"Content-Type": "application/json"}, 404, "UnknownOperationException"),
        ("POST", "/BatchWriteRecord", b'{"Entries": [', {"Content-Type": "application/json"}, 400, "SerializationException"),
        ("POST", "/BatchWriteRecord", b'{"Entries": "none"}', {"Content-Type": "application/json"}, 400, "SerializationException"),
        ("POST", "/BatchWriteRecord", b"\xff\xfe", {"Content-Type": "application/json"}, 400, "SerializationException"),
        ("POST", "/BatchGetRecord", b"{nope}", {"Content-Type": "application/json"}, 400, "SerializationException"),
        ("POST", "/BatchWriteRecord", b"{}", {"Content-Type": "text/csv"}, 415, "UnsupportedMediaTypeException"),
    ],
)
def test_protocol_errors_are_answered_and_the_store_keeps_serving(store, name, method, path, body, headers, status, code):
    got_status, error_type, payload = raw(store, method, path, body, headers)
    assert (got_status, error_type, payload["__type"]) == (status, code, code)
    assert payload["message"]
    create_group(store, name)
    put(store, name, record())
    assert get(store, name, "r1")


def test_an_oversized_body_is_refused_and_the_store_keeps_serving(store, name):
    status, code, payload = raw(store, "POST", "/BatchWriteRecord", b"x" * (16 * 1024 * 1024 + 1), {"Content-Type": "application/json"})
    assert (status, code) == (413, "RequestEntityTooLargeException")
    assert "16777216" in payload["message"]
    create_group(store, name)
    put(store, name, record())
    assert get(store, name, "r1")
