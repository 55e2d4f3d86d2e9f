"""Runs every example in examples/ once, on small data, against a fresh local store, as a user would (spark-submit,
spark-shell), and reads what it wrote back with boto3: the examples cannot rot."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from cluster import spark_home
from conftest import spark_env
from localstore import ROOT, LocalStore
from readback import get_records, list_record_ids, summary_lines

EXAMPLES = ROOT / "examples"
SEGMENTS = ["new", "regular", "vip"]


@pytest.fixture
def example_store(tmp_path):
    """A store of its own per example: the examples use fixed feature group names."""
    local = LocalStore.start(tmp_path / "store")
    try:
        yield local
    finally:
        local.stop()


def run(command: list[str], store: LocalStore, timeout: int = 600) -> subprocess.CompletedProcess:
    env = {**os.environ, **spark_env(store.endpoint), "SPARK_HOME": str(spark_home())}
    done = subprocess.run(command, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT)
    assert done.returncode == 0, f"{command[:3]} failed:\n{done.stdout[-3000:]}\n{done.stderr[-6000:]}"
    return done


def create_groups(store: LocalStore, *names: str) -> None:
    done = run([sys.executable, str(EXAMPLES / "feature_groups.py"), "--endpoint", store.endpoint, *names], store)
    assert done.stdout.splitlines() == [f"feature group {name}: created" for name in names], done.stdout


def spark_submit(jar, *args: str) -> list[str]:
    return [str(spark_home() / "bin" / "spark-submit"), "--master", "local[2]", "--jars", str(jar),
            "--conf", "spark.ui.enabled=false", "--conf", "spark.driver.host=127.0.0.1", *args]


def expected_customer(n: int) -> dict[str, str]:
    """The synthetic customer `n` of the batch examples, as the store must hold it."""
    signup = 18262 + n % 1500  # 2020-01-01 as days since the epoch
    from datetime import date, timedelta

    return {
        "customer_id": f"c-{n:07d}",
        "event_time": f"2026-01-01T{(n % 86400) // 3600:02d}:{(n % 3600) // 60:02d}:{n % 60:02d}.000Z",
        "age": str(18 + n % 60),
        "lifetime_value": repr((n * 7919) % 500_000 / 100),
        "segment": SEGMENTS[n % 3],
        "signup_date": (date(1970, 1, 1) + timedelta(days=signup)).isoformat(),
        "is_active": "true" if n % 4 else "false",
    }


def check_customers(store: LocalStore, rows: int) -> None:
    runtime = store.client("sagemaker-featurestore-runtime")
    assert sorted(list_record_ids(runtime, "customers")) == [f"c-{n:07d}" for n in range(rows)]
    sample = [0, 1, 4, 5, 59, 61, rows // 2, rows - 1]
    stored = get_records(runtime, "customers", [f"c-{n:07d}" for n in sample])
    for n in sample:
        assert stored[f"c-{n:07d}"] == expected_customer(n), n


def test_pyspark_processing_example_ingests_synthetic_customers(example_store, jar):
    create_groups(example_store, "customers")
    done = run(spark_submit(jar, str(EXAMPLES / "pyspark" / "ingest_features.py"), "--feature-group", "customers",
                            "--synthetic-rows", "2000", "--endpoint", example_store.endpoint), example_store)
    [line] = summary_lines(done.stdout)
    assert (line["group"], line["written"], line["failed"]) == ("customers", "2000", "0"), done.stdout
    assert "ingest_features: 2000 rows from synthetic rows, 2000 written, 0 failed, to feature group customers" \
        in done.stdout
    check_customers(example_store, 2000)


def test_pyspark_processing_example_reads_parquet_and_keeps_failed_records(example_store, jar, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    create_groups(example_store, "customers")
    rows = [expected_customer(n) for n in range(50)]
    input_dir = tmp_path / "input"
    input_dir.mkdir()
    pq.write_table(pa.table({
        "customer_id": [None if n in (10, 20) else r["customer_id"] for n, r in enumerate(rows)],
        "event_time": pa.array([r["event_time"] for r in rows]),  # already the service's text
        "age": pa.array([int(r["age"]) for r in rows], pa.int32()),
        "lifetime_value": [float(r["lifetime_value"]) for r in rows],
        "segment": [r["segment"] for r in rows],
        "signup_date": [r["signup_date"] for r in rows],
        "is_active": [r["is_active"] == "true" for r in rows],
    }), input_dir / "part-0.parquet")
    failed = tmp_path / "failed"
    done = run(spark_submit(jar, str(EXAMPLES / "pyspark" / "ingest_features.py"), "--feature-group", "customers",
                            "--input", str(input_dir), "--endpoint", example_store.endpoint,
                            "--failed-records-path", str(failed), "--max-failed-records", "2"), example_store)
    assert f"ingest_features: 50 rows from {input_dir}, 48 written, 2 failed" in done.stdout, done.stdout
    failed_rows = [json.loads(l) for f in failed.glob("*.jsonl") for l in f.read_text().splitlines()]
    assert sorted(r["values"]["event_time"] for r in failed_rows) == [rows[10]["event_time"], rows[20]["event_time"]]
    runtime = example_store.client("sagemaker-featurestore-runtime")
    assert len(list_record_ids(runtime, "customers")) == 48
    assert get_records(runtime, "customers", ["c-0000007"])["c-0000007"] == expected_customer(7)


def test_pyspark_processing_example_backfills_the_offline_store_directly(example_store, jar):
    import pyarrow.dataset as ds

    done = run([sys.executable, str(EXAMPLES / "feature_groups.py"), "--endpoint", example_store.endpoint,
                "--offline-store-uri", "s3://examples/offline", "customers"], example_store)
    assert done.stdout.splitlines() == ["feature group customers: created"], done.stdout
    done = run(spark_submit(jar, str(EXAMPLES / "pyspark" / "ingest_features.py"), "--feature-group", "customers",
                            "--synthetic-rows", "300", "--endpoint", example_store.endpoint, "--offline-direct",
                            "--offline-file-system", f"file://{example_store.data_dir}/s3/"), example_store)
    assert "ingest_features: 300 rows from synthetic rows, 300 written, 0 failed" in done.stdout, done.stdout
    table = ds.dataset(example_store.data_dir / "s3" / "examples", format="parquet", partitioning="hive").to_table()
    assert sorted(table.column("customer_id").to_pylist()) == [f"c-{n:07d}" for n in range(300)]
    first = [r for r in table.to_pylist() if r["customer_id"] == "c-0000001"][0]
    assert first["event_time"] == expected_customer(1)["event_time"] and first["age"] == 19
    runtime = example_store.client("sagemaker-featurestore-runtime")
    assert get_records(runtime, "customers", ["c-0000001"]) == {"c-0000001": None}, "nothing went online"


def test_pyspark_delete_example_deletes_the_customers_it_names(example_store, jar):
    create_groups(example_store, "customers")
    run(spark_submit(jar, str(EXAMPLES / "pyspark" / "ingest_features.py"), "--feature-group", "customers",
                     "--synthetic-rows", "200", "--endpoint", example_store.endpoint), example_store)
    done = run(spark_submit(jar, str(EXAMPLES / "pyspark" / "delete_records.py"), "--feature-group", "customers",
                            "--synthetic-ids", "50", "--deletion-mode", "HardDelete",
                            "--endpoint", example_store.endpoint), example_store)
    assert "featurestore delete from 'customers': 50 records deleted, 0 failed" in done.stdout, done.stdout
    assert "delete_records: 50 rows, 50 deleted (HardDelete), 0 failed, from feature group customers" \
        in done.stdout
    runtime = example_store.client("sagemaker-featurestore-runtime")
    assert sorted(list_record_ids(runtime, "customers")) == [f"c-{n:07d}" for n in range(50, 200)]
    stored = get_records(runtime, "customers", ["c-0000000", "c-0000049", "c-0000050"])
    assert stored == {"c-0000000": None, "c-0000049": None, "c-0000050": expected_customer(50)}


def test_scala_batch_example_runs_in_spark_shell(example_store, jar):
    create_groups(example_store, "customers")
    endpoint = example_store.endpoint
    shell = [str(spark_home() / "bin" / "spark-shell"), "--master", "local[2]", "--jars", str(jar),
             "--conf", "spark.ui.enabled=false", "--conf", "spark.driver.host=127.0.0.1",
             "--conf", f"spark.datasource.featurestore.runtimeEndpoint={endpoint}",
             "--conf", f"spark.datasource.featurestore.controlEndpoint={endpoint}",
             "--conf", "spark.datasource.featurestore.region=us-east-1",
             "--conf", "spark.example.rows=1000", "-i", str(EXAMPLES / "scala" / "IngestCustomers.scala")]
    done = run(shell, example_store)
    assert "IngestCustomers: 1000 of 1000 customers written to customers" in done.stdout, done.stdout
    [line] = summary_lines(done.stdout)
    assert (line["written"], line["failed"]) == ("1000", "0")
    check_customers(example_store, 1000)


def test_streaming_example_writes_every_click_micro_batch_by_micro_batch(example_store, jar, tmp_path):
    create_groups(example_store, "clicks")
    input_dir = tmp_path / "clicks"
    done = run(spark_submit(jar, str(EXAMPLES / "streaming" / "stream_clicks.py"),
                            "--input-dir", str(input_dir), "--checkpoint", str(tmp_path / "checkpoint"),
                            "--demo-events", "1200", "--max-files-per-trigger", "1", "--available-now",
                            "--endpoint", example_store.endpoint), example_store)
    # Three files of at most 500 events, one per micro-batch; the totals are the query's.
    [line] = summary_lines(done.stdout)
    assert (line["group"], line["written"], line["failed"]) == ("clicks", "1200", "0"), done.stdout
    assert "stream_clicks: query" in done.stdout
    # Each micro-batch printed its own line: epochs 0, 1, 2 of 500, 500 and 200 records.
    epochs = re.findall(r"featurestore epoch (\d+) of query \S+: write to 'clicks': (\d+) records written, 0 failed",
                        done.stdout)
    assert epochs == [("0", "500"), ("1", "500"), ("2", "200")], done.stdout
    events = [json.loads(l) for f in sorted(input_dir.glob("clicks-*.json")) for l in f.read_text().splitlines()]
    assert len(events) == 1200
    runtime = example_store.client("sagemaker-featurestore-runtime")
    assert sorted(list_record_ids(runtime, "clicks")) == sorted(e["click_id"] for e in events)
    sample = events[::97]
    stored = get_records(runtime, "clicks", [e["click_id"] for e in sample])
    for event in sample:
        assert stored[event["click_id"]] == {
            "click_id": event["click_id"], "user_id": event["user_id"], "page": event["page"],
            "dwell_seconds": repr(event["dwell_seconds"]), "event_time": event["ts"]}, event


def test_the_main_job_ingests_with_spark_and_ends_with_the_summary(tmp_path):
    """README's first command, on small data (it starts and stops its own store)."""
    done = subprocess.run(["bash", str(ROOT / "scripts" / "main-job.sh")],
                          env={**os.environ, "RECORDS": "3000", "WORK": str(tmp_path / "work")},
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=900, cwd=ROOT)
    assert done.returncode == 0, f"main-job.sh failed:\n{done.stdout[-3000:]}\n{done.stderr[-6000:]}"
    [line] = summary_lines(done.stdout)
    assert (line["group"], line["written"], line["failed"]) == ("customers", "3000", "0"), done.stdout
    assert done.stdout.rstrip().endswith("3000 written, 0 failed, to feature group customers"), done.stdout
    assert "store stopped; offline store:" in done.stderr, done.stderr
    assert list((tmp_path / "work" / "main-job" / "data" / "s3").rglob("*.parquet")), "no offline store files"


def test_create_feature_group_example_creates_the_group_from_its_dataframe_and_writes_it(example_store, jar,
                                                                                           monkeypatch):
    # The example imports featurestore_spark from python/ (until the package is installed).
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT / "python"),
                                                                   os.environ.get("PYTHONPATH")])))
    done = run(spark_submit(jar, str(EXAMPLES / "pyspark" / "create_feature_group.py"),
                            "--feature-group", "products", "--rows", "300",
                            "--offline-store-uri", "s3://examples/products",
                            "--endpoint", example_store.endpoint), example_store)
    assert ("create_feature_group: arn:aws:sagemaker:us-east-1:123456789012:feature-group/products is Created"
            in done.stdout), done.stdout
    assert "create_feature_group: 300 of 300 products written to products" in done.stdout, done.stdout
    prefix = "create_feature_group: {"
    definitions = [json.loads(l[len(prefix) - 1:]) for l in done.stdout.splitlines() if l.startswith(prefix)]
    assert [d["FeatureName"] for d in definitions] == [
        "product_id", "event_time", "stock", "price", "rating", "in_stock", "listed_on", "tags", "embedding"]
    assert definitions[-1] == {"FeatureName": "embedding", "FeatureType": "Fractional", "CollectionType": "Vector",
                               "CollectionConfig": {"VectorConfig": {"Dimension": 4}}}
    sagemaker = example_store.client("sagemaker")
    described = sagemaker.describe_feature_group(FeatureGroupName="products")
    assert described["OnlineStoreConfig"]["StorageType"] == "InMemory"
    assert "OfflineStoreConfig" in described
    runtime = example_store.client("sagemaker-featurestore-runtime")
    assert len(list_record_ids(runtime, "products")) == 300
    assert get_records(runtime, "products", ["p-00007"])["p-00007"] == {
        "product_id": "p-00007", "event_time": "2026-01-01T00:00:07.000Z", "stock": "7", "price": "7.99",
        "rating": "0.875", "in_stock": "false", "listed_on": "2025-01-08", "tags": ["tag-1", "tag-2"],
        "embedding": ["7.0", "0.5", "-1.0", "2.25"]}
