"""offlineWrite=direct: backfills written straight into the offline store as Parquet by Spark.

Into featurestore-local's own offline store on disk (its ResolvedOutputS3Uri mapped to its data directory through
offlineFileSystem): rows written through the API and rows written directly read back as one table, with pyarrow
and with Spark, and the rows the API path would refuse go to the failed records instead. Then through Hadoop's S3A
into moto's S3 server on 127.0.0.1 (offline_direct_job.py, run with spark-submit and the hadoop-aws jars): many
rows written in a non-UTC session, read back with Spark and with pyarrow from S3, every row once, values exact,
partitions the UTC hours of the event times."""

from __future__ import annotations

import json
import math
import os
import subprocess
import time
from datetime import datetime, timezone

import pyarrow.dataset as ds
import pytest

from cluster import spark_home
from localstore import ROOT, spark_env
from offline_direct_job import expected_row
from readback import summary_lines

FEATURES = [
    {"FeatureName": "id", "FeatureType": "String"},
    {"FeatureName": "ts", "FeatureType": "String"},
    {"FeatureName": "count", "FeatureType": "Integral"},
    {"FeatureName": "score", "FeatureType": "Fractional"},
    {"FeatureName": "label", "FeatureType": "String"},
]
# Rows a job of offline_direct_job.py writes to S3: 1 M takes about 40 s on 2 cores (README, Backfills).
S3_ROWS = 1_000_000
# Partition 0 (ids below 500,000) fails its first attempt here, after it wrote the rows before it to Parquet.
FAILED_ATTEMPT_AT = 300_000


def create_group(store, name: str, s3_uri: str, offline: bool = True) -> str:
    """A Created group with an online store and, with `offline`, an offline store at `s3_uri`; its
    ResolvedOutputS3Uri."""
    sagemaker = store.client("sagemaker")
    extra = {"OfflineStoreConfig": {"S3StorageConfig": {"S3Uri": s3_uri}}} if offline else {}
    sagemaker.create_feature_group(FeatureGroupName=name, RecordIdentifierFeatureName="id",
                                   EventTimeFeatureName="ts", FeatureDefinitions=FEATURES,
                                   OnlineStoreConfig={"EnableOnlineStore": True}, **extra)
    deadline = time.monotonic() + 30
    while (described := sagemaker.describe_feature_group(FeatureGroupName=name))["FeatureGroupStatus"] != "Created":
        assert time.monotonic() < deadline, f"{name} was not Created within 30 s"
        time.sleep(0.1)
    return described.get("OfflineStoreConfig", {}).get("S3StorageConfig", {}).get("ResolvedOutputS3Uri", "")


def partition_of(iso: str) -> dict[str, int]:
    at = datetime.strptime(iso, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
    return {"year": at.year, "month": at.month, "day": at.day, "hour": at.hour}


def check_partitions(dataset: ds.Dataset) -> None:
    """Every file lies in the year=/month=/day=/hour= directory of its rows' event times in UTC."""
    for fragment in dataset.get_fragments():
        expected = {k: int(v) for k, v in (part.split("=") for part in fragment.path.split("/")[-5:-1])}
        for ts in fragment.to_table(columns=["ts"]).column("ts").to_pylist():
            assert partition_of(ts) == expected, (fragment.path, ts)


def test_rows_written_through_the_api_and_directly_read_back_as_one_table(
        spark, store, write_options, driver_stdout, tmp_path):
    resolved = create_group(store, "od-local", "s3://od-bucket/backfill")
    # The service's form: s3://bucket/prefix/<account>/sagemaker/<region>/offline-store/<group>-<created>/data.
    prefix = "s3://od-bucket/backfill/123456789012/sagemaker/us-east-1/offline-store/od-local-"
    assert resolved.startswith(prefix) and resolved.endswith("/data") and resolved[len(prefix):-5].isdigit()
    offline_dir = store.data_dir / "s3" / resolved.removeprefix("s3://")

    # The session's time zone is America/Los_Angeles: these local times fall on the next UTC day.
    api_rows = spark.sql("""SELECT * FROM VALUES
        ('a1', TIMESTAMP '2024-03-01 17:30:00', 1L, 0.5D, 'api'),
        ('a2', TIMESTAMP '2024-03-01 18:10:00.250', 2L, 1.25D, 'api')
        AS t(id, ts, count, score, label)""")
    api_rows.write.format("featurestore").options(featureGroupName="od-local", **write_options).mode("append").save()
    store.flush()

    direct_rows = spark.sql("""SELECT * FROM VALUES
        ('d1', TIMESTAMP '2024-03-01 17:45:00.123', 10L, 0.1D, 'direct'),
        ('d2', TIMESTAMP '2023-12-31 16:00:00', -9223372036854775808L, 1e300D, NULL),
        ('d3', TIMESTAMP '2024-07-04 00:00:00', NULL, -0.0D, 'héllo, "quoted"'),
        ('bad', TIMESTAMP '2024-07-04 00:00:00', 1L, CAST('NaN' AS DOUBLE), 'refused')
        AS t(id, ts, count, score, label)""")
    failed_dir = tmp_path / "failed"
    driver_stdout.mark()
    (direct_rows.write.format("featurestore")
     .options(featureGroupName="od-local", targetStores="OfflineStore", offlineWrite="direct",
              offlineFileSystem=f"file://{store.data_dir}/s3/", failedRecordsPath=str(failed_dir),
              maxFailedRecords="1", **write_options)
     .mode("append").save())
    [line] = summary_lines(driver_stdout.since_mark())
    assert (int(line["written"]), int(line["failed"])) == (3, 1), line.group(0)
    failed = [json.loads(l) for f in failed_dir.rglob("*.jsonl") for l in f.read_text().splitlines()]
    assert [(f["recordIdentifier"], f["reason"]["code"]) for f in failed] == [("bad", "non_finite_fractional")]

    dataset = ds.dataset(offline_dir, format="parquet", partitioning="hive")
    # Hadoop's local file system keeps hidden .crc files beside its files; readers skip hidden names.
    assert not [p for p in offline_dir.rglob("*") if p.name.startswith("_") or p.name.endswith(".tmp")], \
        "temporary files remain"
    table = dataset.to_table()
    rows = {r["id"]: r for r in table.to_pylist()}
    assert sorted(rows) == ["a1", "a2", "d1", "d2", "d3"]
    assert [f.name for f in table.schema][:8] == [
        "id", "ts", "count", "score", "label", "write_time", "api_invocation_time", "is_deleted"]
    assert str(table.schema.field("write_time").type) == "timestamp[ms, tz=UTC]"
    assert str(table.schema.field("count").type) == "int64"
    d1, d2, d3 = rows["d1"], rows["d2"], rows["d3"]
    assert (d1["ts"], d1["count"], d1["score"], d1["label"]) == ("2024-03-02T01:45:00.123Z", 10, 0.1, "direct")
    assert (d2["ts"], d2["count"], d2["score"], d2["label"]) == ("2024-01-01T00:00:00.000Z", -2**63, 1e300, None)
    assert (d3["ts"], d3["count"], d3["label"]) == ("2024-07-04T07:00:00.000Z", None, 'héllo, "quoted"')
    assert math.copysign(1, d3["score"]) == -1
    assert rows["a1"]["ts"] == "2024-03-02T01:30:00.000Z"
    assert not any(r["is_deleted"] for r in rows.values())
    assert all(r["write_time"] is not None and r["api_invocation_time"] is not None for r in rows.values())
    check_partitions(dataset)

    read = spark.read.parquet(str(offline_dir))
    assert read.count() == 5
    assert sorted(r.id for r in read.where("day = 2 AND hour = 1").collect()) == ["a1", "d1"]


def test_a_direct_write_is_refused_when_it_makes_no_sense(spark, store, write_options):
    create_group(store, "od-online-only", "", offline=False)
    df = spark.sql("SELECT 'x' AS id, TIMESTAMP '2024-01-01 00:00:00' AS ts")
    base = {"offlineWrite": "direct", **write_options}

    def refusal(group: str, **options: str) -> str:
        with pytest.raises(Exception) as raised:
            df.write.format("featurestore").options(featureGroupName=group, **base, **options).mode("append").save()
        return str(raised.value)

    assert "targetStores: must be OfflineStore with offlineWrite=direct" in refusal("od-online-only")
    assert "it has no offline store" in refusal("od-online-only", targetStores="OfflineStore")
    assert "ttlDuration: applies to online records" in refusal(
        "od-local", targetStores="OfflineStore", ttlDuration="1 Days")


@pytest.fixture
def s3(moto):
    """moto's server (conftest.py), for its S3."""
    return moto


def test_a_million_rows_through_s3a_read_back_exactly_with_spark_and_pyarrow(store, jar, s3, tmp_path):
    """Partition 0's first attempt fails after it wrote 300,000 rows' files; its retry's files are the only ones
    visible (Spark's file commit protocol)."""
    jars = os.environ.get("S3A_JARS")
    if not jars:
        pytest.fail("S3A_JARS is not set: run scripts/test/40-spark-e2e.sh (scripts/lib.sh ensure_s3a_jars)")
    import boto3
    import pyarrow.fs

    env = {**os.environ, **spark_env(store.endpoint)}
    boto3.client("s3", endpoint_url=s3, region_name="us-east-1", aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                 aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"]).create_bucket(Bucket="od-s3")
    resolved = create_group(store, "od-s3", "s3://od-s3/backfill")

    # local[2,2]: a failed task is tried again, as on a cluster.
    command = [str(spark_home() / "bin" / "spark-submit"), "--master", "local[2,2]",
               "--jars", f"{jar},{jars}", "--driver-memory", "2g",
               "--conf", "spark.ui.enabled=false", "--conf", "spark.driver.host=127.0.0.1",
               "--conf", "spark.sql.session.timeZone=America/Los_Angeles",
               "--conf", f"spark.hadoop.fs.s3a.endpoint={s3}",
               "--conf", "spark.hadoop.fs.s3a.path.style.access=true",
               "--conf", "spark.hadoop.fs.s3a.connection.ssl.enabled=false",
               "--conf", f"spark.hadoop.fs.s3a.access.key={env['AWS_ACCESS_KEY_ID']}",
               "--conf", f"spark.hadoop.fs.s3a.secret.key={env['AWS_SECRET_ACCESS_KEY']}",
               "--conf", "spark.hadoop.fs.s3a.aws.credentials.provider="
                         "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider",
               str(ROOT / "tests" / "spark" / "offline_direct_job.py"), "--endpoint", store.endpoint,
               "--group", "od-s3", "--rows", str(S3_ROWS), "--output", resolved.replace("s3://", "s3a://", 1),
               "--fail-first-attempt-at", str(FAILED_ATTEMPT_AT)]
    started = time.monotonic()
    done = subprocess.run(command, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=900)
    errors = [line for line in (done.stdout + done.stderr).splitlines() if "Exception" in line]
    assert done.returncode == 0, "\n".join(errors[:5]) or done.stderr[-3000:]
    assert f"injected failure of partition 0, attempt 0, at row {FAILED_ATTEMPT_AT}" in done.stderr, \
        "partition 0's first attempt did not fail"
    [line] = summary_lines(done.stdout)
    assert (int(line["written"]), int(line["failed"])) == (S3_ROWS, 0), line.group(0)
    assert "spark read back: every row once, values exact" in done.stdout, done.stdout[-2000:]
    print(f"{S3_ROWS} rows written and read back through S3A in {time.monotonic() - started:.0f} s")

    fs = pyarrow.fs.S3FileSystem(endpoint_override=s3, scheme="http", region="us-east-1",
                                 access_key=env["AWS_ACCESS_KEY_ID"], secret_key=env["AWS_SECRET_ACCESS_KEY"])
    root = resolved.removeprefix("s3://")
    listed = fs.get_file_info(pyarrow.fs.FileSelector(root, recursive=True))
    assert not [f.path for f in listed if "/_" in f.path or "/." in f.path], "temporary files remain"
    table = ds.dataset(root, filesystem=fs, format="parquet", partitioning="hive").to_table(
        columns=["id", "ts", "count", "score", "label", "is_deleted", "year", "month", "day", "hour"])
    assert table.num_rows == S3_ROWS
    columns = {name: table.column(name).to_pylist() for name in table.column_names}
    seen = set()
    for k, row_id in enumerate(columns["id"]):
        i = int(row_id[1:])
        seen.add(i)
        want = expected_row(i)
        got = (columns["ts"][k], columns["count"][k], columns["score"][k], columns["label"][k])
        assert got == want, (i, got, want)
        ts = want[0]
        # The row's directory is its event time's hour in UTC.
        assert (columns["year"][k], columns["month"][k], columns["day"][k], columns["hour"][k]) == (
            int(ts[0:4]), int(ts[5:7]), int(ts[8:10]), int(ts[11:13])), (i, ts)
        assert columns["is_deleted"][k] is False
    assert seen == set(range(S3_ROWS))
