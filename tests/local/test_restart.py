"""Durability: a clean stop (SIGTERM or SIGINT) flushes everything and a restart serves the same online store, on
the same port too; a killed process keeps what was flushed before it died."""

from __future__ import annotations

import signal
import socket
import time

import pyarrow.dataset as ds

from fslocal import LocalStore, as_dict, create_group, record


def test_a_restart_keeps_groups_and_the_online_store(tmp_path):
    data = tmp_path / "data"
    first = LocalStore.start(data)
    create_group(first, "kept")
    first.runtime.batch_write_record(
        Entries=[{"FeatureGroupName": "kept", "Record": record(f"k{i}", count=str(i))} for i in range(20)]
    )
    first.runtime.put_record(FeatureGroupName="kept", Record=record("k3", ts="2024-06-01T00:00:00Z", count="33"))
    first.runtime.delete_record(FeatureGroupName="kept", RecordIdentifierValueAsString="k4", EventTime="2024-06-01T00:00:00Z")
    first.runtime.delete_record(
        FeatureGroupName="kept", RecordIdentifierValueAsString="k5", EventTime="2024-06-01T00:00:00Z", DeletionMode="HardDelete"
    )
    described = first.sagemaker.describe_feature_group(FeatureGroupName="kept")
    assert first.stop(signal.SIGTERM) == 0
    assert "SIGTERM received" in first.log()

    second = LocalStore.start(data)
    try:
        again = second.sagemaker.describe_feature_group(FeatureGroupName="kept")
        for key in ("FeatureGroupArn", "CreationTime", "FeatureDefinitions", "OfflineStoreConfig"):
            assert again[key] == described[key]
        got = second.runtime.get_record(FeatureGroupName="kept", RecordIdentifierValueAsString="k3")
        assert as_dict(got["Record"])["count"] == "33"
        assert as_dict(second.runtime.get_record(FeatureGroupName="kept", RecordIdentifierValueAsString="k19")["Record"])["count"] == "19"
        assert "Record" not in second.runtime.get_record(FeatureGroupName="kept", RecordIdentifierValueAsString="k4")
        listed = second.runtime.list_records(FeatureGroupName="kept", IncludeSoftDeletedRecords=True)["RecordIdentifiers"]
        assert len(listed) == 19 and "k4" in listed and "k5" not in listed
        # The offline rows buffered at the stop were written by it.
        offline = data / "s3" / "test-bucket"
        assert ds.dataset(offline, format="parquet", partitioning="hive").count_rows() == 23
    finally:
        assert second.stop(signal.SIGINT) == 0
    assert "SIGINT received" in second.log()


def test_a_killed_store_keeps_what_was_flushed(tmp_path):
    data = tmp_path / "data"
    first = LocalStore.start(data, "--online-flush-interval-ms", "3600000")
    create_group(first, "crash")
    first.runtime.put_record(FeatureGroupName="crash", Record=record("flushed"))
    first.flush()
    first.runtime.put_record(FeatureGroupName="crash", Record=record("not-flushed"))
    assert first.stop(signal.SIGKILL) == -signal.SIGKILL

    second = LocalStore.start(data)
    try:
        assert "Record" in second.runtime.get_record(FeatureGroupName="crash", RecordIdentifierValueAsString="flushed")
        # Acknowledged but never flushed: what a crash loses (at most one online flush interval, 200 ms by default).
        assert "Record" not in second.runtime.get_record(FeatureGroupName="crash", RecordIdentifierValueAsString="not-flushed")
    finally:
        assert second.stop() == 0


def test_a_store_restarted_on_the_same_port_serves_a_client_that_kept_its_connections(tmp_path):
    data = tmp_path / "data"
    first = LocalStore.start(data)
    port = int(first.endpoint.rsplit(":", 1)[1])
    create_group(first, "same-port")
    # This client's pooled connection, and an idle one that never sent a request, stay open across the restarts.
    runtime = first.runtime
    runtime.batch_write_record(
        Entries=[{"FeatureGroupName": "same-port", "Record": record(f"s{i}", count=str(i))} for i in range(25)]
    )
    idle = socket.create_connection(("127.0.0.1", port))
    try:
        store = first
        for restart in range(2):
            stopping = time.monotonic()
            assert store.stop(signal.SIGTERM) == 0
            # An idle connection does not hold the stop up for the shutdown grace period (10 s).
            assert time.monotonic() - stopping < 5
            store = LocalStore.start(data, port=port)
            assert store.endpoint == first.endpoint
            got = runtime.get_record(FeatureGroupName="same-port", RecordIdentifierValueAsString="s24")
            assert as_dict(got["Record"])["count"] == "24"
            runtime.put_record(FeatureGroupName="same-port", Record=record(f"after-{restart}"))
        assert "Record" in runtime.get_record(FeatureGroupName="same-port", RecordIdentifierValueAsString="after-0")
    finally:
        idle.close()
        assert store.stop() == 0
