"""Fault injection (admin API and command-line flags) as boto3 sees it, records-per-second caps for the store and
per feature group, and the stats endpoint."""

from __future__ import annotations

import subprocess
import time

import botocore.exceptions
import pytest
from botocore.config import Config
from botocore.retries.standard import RetryEventAdapter, ThrottlingErrorDetector

from fslocal import ACCOUNT, BINARY, REGION, LocalStore, create_group, record


@pytest.fixture
def group(store, name):
    create_group(store, name)
    return name


def entries(group: str, n: int, prefix: str = "e") -> list[dict]:
    return [{"FeatureGroupName": group, "Record": record(f"{prefix}{i}")} for i in range(n)]


def test_faults_are_read_and_replaced_through_the_admin_api(store):
    status, faults = store.admin("GET", "faults")
    assert status == 200
    assert faults == {
        "latency_ms": 0,
        "latency_jitter_ms": 0,
        "latency_spike_probability": 0.0,
        "latency_spike_ms": 0,
        "throttle_probability": 0.0,
        "server_error_probability": 0.0,
        "unavailable_probability": 0.0,
        "connection_reset_probability": 0.0,
        "unprocessed_entry_probability": 0.0,
        "max_records_per_second": None,
        "max_records_per_second_by_group": {},
        "denied_operations": [],
        "operations": [],
        "discard_writes": False,
        "group_statuses": {},
    }
    status, set_ = store.admin("PUT", "faults", {"latency_ms": 5, "denied_operations": ["GetRecord"]})
    assert status == 200 and set_["latency_ms"] == 5
    assert store.admin("GET", "faults")[1]["denied_operations"] == ["GetRecord"]
    for invalid, problem in [
        ({"throttle_probability": 1.5}, "throttle_probability"),
        ({"latency_spike_probability": -0.1}, "latency_spike_probability"),
        ({"denied_operations": ["PutRecords"]}, "PutRecords"),
        ({"latency": 5}, "unknown field"),
        ({"max_records_per_second": -1}, "max_records_per_second"),
        ({"max_records_per_second_by_group": {"customers": 0}}, "max_records_per_second_by_group: the rate of 'customers'"),
        ({"max_records_per_second_by_group": {"customers": -2.5}}, "got -2.5"),
        ({"max_records_per_second_by_group": {"": 10}}, "max_records_per_second_by_group: '' is not a feature group name"),
        ({"max_records_per_second_by_group": {"a": 1, "A": 2}}, "named twice"),
        ({"max_records_per_second_by_group": {"customers": "fast"}}, "invalid faults"),
        ({"max_records_per_second_by_group": [2000]}, "invalid faults"),
        ({"group_statuses": {"customers": {"status": "Created"}}}, "group_statuses: the status of 'customers' must"),
        ({"group_statuses": {"-x": {"status": "Creating"}}}, "group_statuses: '-x' is not a feature group name"),
    ]:
        status, body = store.admin("PUT", "faults", invalid)
        assert status == 400 and problem in body["message"], body
    # A refused change leaves the faults as they were.
    assert store.admin("GET", "faults")[1]["latency_ms"] == 5
    assert store.admin("GET", "nothing-here")[0] == 404
    assert store.admin("GET", "health") == (200, {"status": "ok"})


def test_added_latency(store, group):
    store.set_faults(latency_ms=300)
    started = time.monotonic()
    store.runtime.put_record(FeatureGroupName=group, Record=record())
    assert time.monotonic() - started >= 0.3
    store.admin("POST", "stats/reset")
    store.set_faults(latency_jitter_ms=40)
    for _ in range(5):
        store.runtime.get_record(FeatureGroupName=group, RecordIdentifierValueAsString="r1")
    assert 0 <= store.stats()["injected_latency_ms"] <= 200
    store.admin("POST", "stats/reset")
    store.set_faults(latency_spike_probability=1.0, latency_spike_ms=250)
    started = time.monotonic()
    store.runtime.get_record(FeatureGroupName=group, RecordIdentifierValueAsString="r1")
    assert time.monotonic() - started >= 0.25 and store.stats()["injected_latency_ms"] == 250


def test_throttling_is_a_429_throttling_exception_that_botocore_retries_as_throttling(store, group):
    store.set_faults(throttle_probability=1.0)
    retrying = store.client("sagemaker-featurestore-runtime", Config(retries={"mode": "standard", "total_max_attempts": 3}))
    verdicts = []
    detector = ThrottlingErrorDetector(RetryEventAdapter())

    def classify(**kwargs):
        verdicts.append(detector.is_throttling_error(**kwargs))

    retrying.meta.events.register("needs-retry.sagemaker-featurestore-runtime.PutRecord", classify)
    store.admin("POST", "stats/reset")
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        retrying.put_record(FeatureGroupName=group, Record=record())
    response = raised.value.response
    assert response["Error"]["Code"] == "ThrottlingException"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert response["ResponseMetadata"]["RetryAttempts"] == 2
    assert verdicts == [True, True, True]
    stats = store.stats()
    assert stats["throttled"] == 3 and stats["errors_by_code"] == {"ThrottlingException": 3}
    assert stats["records_written"] == {}


@pytest.mark.parametrize(
    "fault, code, status",
    [("server_error_probability", "InternalFailure", 500), ("unavailable_probability", "ServiceUnavailable", 503)],
)
def test_server_errors_are_the_modeled_exceptions(store, group, fault, code, status):
    store.set_faults(**{fault: 1.0})
    with pytest.raises(getattr(store.runtime.exceptions, code)) as raised:
        store.runtime.batch_write_record(Entries=entries(group, 2))
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    # The control plane is not affected unless asked for.
    store.sagemaker.describe_feature_group(FeatureGroupName=group)


def test_denied_operations_are_access_errors_on_both_planes(store, group):
    store.set_faults(denied_operations=["BatchWriteRecord", "CreateFeatureGroup"])
    with pytest.raises(store.runtime.exceptions.AccessForbidden) as raised:
        store.runtime.batch_write_record(Entries=entries(group, 1))
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert "not authorized to perform: sagemaker:BatchWriteRecord" in raised.value.response["Error"]["Message"]
    # PutRecord is still allowed: what the sink's `auto` mode falls back to.
    store.runtime.put_record(FeatureGroupName=group, Record=record("allowed"))
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        create_group(store, f"{group}-denied")
    assert raised.value.response["Error"]["Code"] == "AccessDeniedException"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_a_connection_reset_reaches_boto3_as_a_closed_connection(store, group):
    store.set_faults(connection_reset_probability=1.0)
    store.admin("POST", "stats/reset")
    with pytest.raises(botocore.exceptions.ConnectionClosedError):
        store.runtime.put_record(FeatureGroupName=group, Record=record())
    assert store.stats()["connection_resets"] == 1
    store.set_faults()
    store.runtime.put_record(FeatureGroupName=group, Record=record())


def test_unprocessed_entries_are_returned_not_written(store, group):
    store.set_faults(unprocessed_entry_probability=1.0)
    sent = entries(group, 3, "u")
    output = store.runtime.batch_write_record(Entries=sent)
    assert output["Errors"] == []
    assert output["UnprocessedEntries"] == sent
    assert "Record" not in store.runtime.get_record(FeatureGroupName=group, RecordIdentifierValueAsString="u0")


def test_the_records_per_second_ceiling_throttles_writes_beyond_it(store, group):
    store.set_faults(max_records_per_second=100)
    for batch in range(4):
        store.runtime.batch_write_record(Entries=entries(group, 25, f"b{batch}-"))
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        store.runtime.batch_write_record(Entries=entries(group, 25, "over-"))
    assert raised.value.response["Error"]["Code"] == "ThrottlingException"
    assert "records-per-second" in raised.value.response["Error"]["Message"]
    time.sleep(0.3)
    store.runtime.batch_write_record(Entries=entries(group, 25, "later-"))


def arn(group: str) -> str:
    return f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:feature-group/{group.lower()}"


def throttled(call, **kwargs) -> str:
    """Calls and expects a ThrottlingException (HTTP 429); returns its message."""
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        call(**kwargs)
    response = raised.value.response
    assert response["Error"]["Code"] == "ThrottlingException", response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 429
    return response["Error"]["Message"]


# The caps below are half a record per second or so: a write larger than a full bucket goes through and then owes
# the rest for seconds, so that each step holds however slow the machine is.


def test_the_records_per_second_ceiling_is_not_refilled_by_an_unrelated_change(store, group):
    store.set_faults(max_records_per_second=0.5)
    store.runtime.batch_write_record(Entries=entries(group, 10, "w"))
    throttled(store.runtime.put_record, FeatureGroupName=group, Record=record())
    store.set_faults(max_records_per_second=0.5, latency_ms=1)
    throttled(store.runtime.put_record, FeatureGroupName=group, Record=record())


def test_a_group_cap_throttles_only_that_group_and_is_counted_by_group(store, name):
    capped, free = name, f"{name}-free"
    create_group(store, capped)
    create_group(store, free)
    store.admin("POST", "stats/reset")
    store.set_faults(max_records_per_second_by_group={capped: 0.5})
    # A mixed write: the full bucket of `capped` lets its 20 records through, which it then owes; `free` has no cap.
    output = store.runtime.batch_write_record(Entries=entries(capped, 20, "c") + entries(free, 5, "f"))
    assert output["Errors"] == [] and output["UnprocessedEntries"] == []
    # An entry naming `capped` by its ARN draws on the same budget.
    message = throttled(store.runtime.batch_write_record, Entries=[{"FeatureGroupName": arn(capped), "Record": record("a")}])
    assert f"records-per-second limit set on featurestore-local for feature group {capped}" in message
    store.runtime.batch_write_record(Entries=entries(free, 25, "g"))
    throttled(store.runtime.put_record, FeatureGroupName=capped, Record=record("p"))
    throttled(store.runtime.put_record, FeatureGroupName=arn(capped), Record=record("q"))
    # A write of both groups is refused whole while one of them is over its cap, and nothing of it is written.
    throttled(store.runtime.batch_write_record, Entries=entries(free, 3, "both") + entries(capped, 1, "both-c"))
    assert "Record" not in store.runtime.get_record(FeatureGroupName=free, RecordIdentifierValueAsString="both0")
    # Injected throttling counts against the group a write names too.
    store.set_faults(throttle_probability=1.0)
    throttled(store.runtime.put_record, FeatureGroupName=free, Record=record("r"))

    by_group = store.stats()["by_group"]
    assert by_group[capped] == {"requests": 5, "records_written": 20, "throttled": 4}
    assert by_group[free] == {"requests": 4, "records_written": 30, "throttled": 2}
    assert store.admin("POST", "stats/reset")[1]["by_group"] == {}


def test_changing_caps_while_writing_is_a_step_not_a_refill(store, name):
    a, b = name, f"{name}-b"
    create_group(store, a)
    create_group(store, b)
    store.set_faults(max_records_per_second_by_group={a: 0.5, b: 0.5})
    store.runtime.batch_write_record(Entries=entries(a, 10, "a") + entries(b, 10, "b"))
    # Raising b's cap leaves a's bucket as it is: a refilled one would let the next write through.
    store.set_faults(max_records_per_second_by_group={a: 0.5, b: 1000})
    assert store.admin("GET", "faults")[1]["max_records_per_second_by_group"] == {a: 0.5, b: 1000.0}
    throttled(store.runtime.put_record, FeatureGroupName=a, Record=record())
    # b keeps what it owes (9.5 records), which its new rate pays back in ~10 ms.
    time.sleep(0.2)
    store.runtime.put_record(FeatureGroupName=b, Record=record())
    # Halving or doubling a's cap keeps its debt: tokens are clamped to the new burst, never refilled.
    store.set_faults(max_records_per_second_by_group={a: 0.25, b: 1000})
    throttled(store.runtime.put_record, FeatureGroupName=a, Record=record())
    store.set_faults(max_records_per_second_by_group={a: 1.0})
    throttled(store.runtime.put_record, FeatureGroupName=a, Record=record())
    # A group no longer capped is written again.
    store.set_faults(max_records_per_second_by_group={b: 1000})
    store.runtime.put_record(FeatureGroupName=a, Record=record())


def test_faults_can_be_narrowed_to_some_operations(store, group):
    store.runtime.put_record(FeatureGroupName=group, Record=record())
    store.set_faults(throttle_probability=1.0, operations=["GetRecord"])
    store.runtime.put_record(FeatureGroupName=group, Record=record())
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        store.runtime.get_record(FeatureGroupName=group, RecordIdentifierValueAsString="r1")
    assert raised.value.response["Error"]["Code"] == "ThrottlingException"
    # Listing a control plane operation applies the faults to it too.
    store.set_faults(server_error_probability=1.0, operations=["DescribeFeatureGroup"])
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        store.sagemaker.describe_feature_group(FeatureGroupName=group)
    assert raised.value.response["Error"]["Code"] == "InternalFailure"


def test_stats_count_requests_records_and_errors_until_reset(store, group):
    store.admin("POST", "stats/reset")
    store.runtime.batch_write_record(
        Entries=entries(group, 3, "s") + [{"FeatureGroupName": group, "Record": record("bad", count="x")}]
    )
    store.runtime.put_record(FeatureGroupName=group, Record=record("p"))
    with pytest.raises(store.runtime.exceptions.ValidationError):
        store.runtime.put_record(FeatureGroupName=group, Record=record("p", ts="now"))
    store.runtime.get_record(FeatureGroupName=group, RecordIdentifierValueAsString="s1")
    store.runtime.delete_record(FeatureGroupName=group, RecordIdentifierValueAsString="s1", EventTime="2030-01-01T00:00:00Z")
    stats = store.stats()
    assert stats["requests"] == 5
    assert stats["requests_by_operation"] == {"BatchWriteRecord": 1, "PutRecord": 2, "GetRecord": 1, "DeleteRecord": 1}
    assert stats["records_written"] == {"BatchWriteRecord": 3, "PutRecord": 1}
    assert stats["records_rejected"] == 2
    assert stats["records_read"] == 1
    assert stats["records_deleted"] == 1
    assert stats["errors_by_code"] == {"ValidationError": 1}
    assert stats["entry_errors_by_code"] == {"ValidationError": 1}
    status, reset = store.admin("POST", "stats/reset")
    assert status == 200 and reset["requests"] == 0 and reset["records_written"] == {}
    flushed = store.flush()
    assert set(flushed) == {"offline_rows_written", "offline_files_written"}


def test_faults_set_on_the_command_line(tmp_path):
    local = LocalStore.start(
        tmp_path / "data",
        "--throttle-probability", "1",
        "--deny-operation", "DeleteRecord",
        "--deny-operation", "ListRecords",
        "--max-records-per-second", "1000",
        "--latency-ms", "1",
    )
    try:
        faults = local.admin("GET", "faults")[1]
        assert faults["throttle_probability"] == 1.0
        assert faults["denied_operations"] == ["DeleteRecord", "ListRecords"]
        assert faults["max_records_per_second"] == 1000.0
        assert faults["latency_ms"] == 1
        create_group(local, "flags")
        with pytest.raises(botocore.exceptions.ClientError) as raised:
            local.runtime.put_record(FeatureGroupName="flags", Record=record())
        assert raised.value.response["Error"]["Code"] == "ThrottlingException"
    finally:
        assert local.stop() == 0


def test_group_caps_set_on_the_command_line(tmp_path):
    local = LocalStore.start(
        tmp_path / "data",
        "--max-records-per-second-per-group", "capped=0.5",
        "--max-records-per-second-per-group", "later=2000",
    )
    try:
        assert local.admin("GET", "faults")[1]["max_records_per_second_by_group"] == {"capped": 0.5, "later": 2000.0}
        create_group(local, "capped")
        create_group(local, "free")
        local.runtime.batch_write_record(Entries=entries("capped", 5))
        throttled(local.runtime.put_record, FeatureGroupName="capped", Record=record())
        local.runtime.batch_write_record(Entries=entries("free", 25))
        assert local.stats()["by_group"]["capped"] == {"requests": 2, "records_written": 5, "throttled": 1}
    finally:
        assert local.stop() == 0


@pytest.mark.parametrize(
    "value, problem",
    [
        ("capped", "expected NAME=RATE"),
        ("capped=fast", "the rate of 'capped' is not a number"),
        ("capped=0", "max_records_per_second_by_group: the rate of 'capped' must be a positive number, got 0"),
        ("=5", "is not a feature group name"),
    ],
)
def test_invalid_group_cap_flags_stop_the_store_before_it_starts(tmp_path, value, problem):
    done = subprocess.run(
        [str(BINARY), "--port", "0", "--data-dir", str(tmp_path / "data"), "--max-records-per-second-per-group", value],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    assert problem in done.stderr


def test_invalid_fault_flags_stop_the_store_before_it_starts(tmp_path):
    done = subprocess.run(
        [str(BINARY), "--port", "0", "--data-dir", str(tmp_path / "data"), "--throttle-probability", "2"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert "throttle_probability must be between 0 and 1" in done.stderr
