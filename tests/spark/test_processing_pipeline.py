"""The seed pipeline's Processing script (examples/processing/processing_job.py) run for real as a two-instance job
would run it: two spark-submits at once, each on its ShardedByS3Key shard of 2,000 CSV and Parquet files laid out as
/opt/ml/processing/input would be, against one featurestore-local; then every record read back and compared with
features computed independently in plain Python (pipeline_data.py)."""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import time

from cluster import spark_home
from conftest import spark_env
from localstore import ROOT
from pipeline_data import (FEATURE_DEFINITIONS, WINDOW_DAYS, WINDOW_END, expected_features, generate,
                           shard_by_s3_key)
from readback import batch_get_records, list_record_ids

PROCESSING = ROOT / "examples" / "processing"
FILES = 2000
GROUP = "seed-txn-features"
FRACTIONAL = ("amount_sum", "amount_avg", "fee_ratio")


def submit_command(jar, script, scratch, *args: str) -> list[str]:
    """spark-submit of one of the pipeline's entry points on local[1], seed_features.py shipped with --py-files."""
    return [str(spark_home() / "bin" / "spark-submit"), "--master", "local[1]", "--jars", str(jar),
            "--py-files", str(PROCESSING / "seed_features.py"),
            "--conf", "spark.ui.enabled=false", "--conf", "spark.driver.host=127.0.0.1",
            "--conf", "spark.sql.shuffle.partitions=2", "--conf", f"spark.local.dir={scratch}",
            str(script), *args]


def processing_command(jar, instance_dir, endpoint: str) -> list[str]:
    """One instance's spark-submit, with the arguments a Processing job passes the script (plus the local store)."""
    return submit_command(
        jar, PROCESSING / "processing_job.py", instance_dir / "tmp",
        "--feature-group-name", GROUP, "--region", "us-east-1",
        "--input", str(instance_dir / "input" / "transactions"), "--output", str(instance_dir / "output"),
        "--window-end", WINDOW_END.isoformat(), "--window-days", str(WINDOW_DAYS),
        "--option", f"runtimeEndpoint={endpoint}", "--option", f"controlEndpoint={endpoint}")


def check_stored(store, group: str, expected: dict[str, dict]) -> None:
    """The group holds exactly the expected records, with their values (Fractional ones to 1e-12)."""
    runtime = store.client("sagemaker-featurestore-runtime")
    assert sorted(list_record_ids(runtime, group)) == sorted(expected)
    stored = batch_get_records(runtime, group, sorted(expected))
    problems = []
    for customer, want in expected.items():
        got = stored.get(customer)
        exact = {k: v for k, v in want.items() if k not in FRACTIONAL}
        if got is None or {k: got.get(k) for k in exact} != exact or not all(
                math.isclose(float(got[k]), want[k], rel_tol=1e-12) for k in FRACTIONAL):
            problems.append(f"{customer}: expected {want}, stored {got}")
    assert not problems, f"{len(problems)} records differ, e.g. {problems[:3]}"


def run_job(command: list[str], store) -> str:
    env = {**os.environ, **spark_env(store.endpoint), "SPARK_HOME": str(spark_home())}
    done = subprocess.run(command, env=env, cwd=ROOT, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, f"{done.stdout[-3000:]}\n{done.stderr[-6000:]}"
    return done.stdout


def test_processing_script_on_two_sharded_instances_writes_every_feature(store, jar, tmp_path):
    generated = generate(tmp_path / "s3", FILES)
    shards = shard_by_s3_key(list(generated), 2)
    assert sorted(shards[0] + shards[1]) == sorted(generated) and not set(shards[0]) & set(shards[1])
    instances = [tmp_path / f"algo-{i + 1}" for i in range(2)]
    for instance, keys in zip(instances, shards):
        for key in keys:  # what Processing copies to the instance: its keys, under the input's local path
            target = instance / "input" / key
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(tmp_path / "s3" / key, target)
    store.create_feature_group(GROUP, "customer_id", "event_time", FEATURE_DEFINITIONS)

    env = {**os.environ, **spark_env(store.endpoint), "SPARK_HOME": str(spark_home())}
    started = time.monotonic()
    running = [subprocess.Popen(processing_command(jar, instance, store.endpoint), env=env, cwd=ROOT,
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for instance in instances]
    outputs = [p.communicate(timeout=600) for p in running]
    seconds = time.monotonic() - started
    for p, (out, err) in zip(running, outputs):
        assert p.returncode == 0, f"{out[-3000:]}\n{err[-6000:]}"

    # Each instance wrote exactly its shard's customers, nothing failed, and said so in its output directory.
    per_instance = [expected_features([r for key in keys for r in generated[key]]) for keys in shards]
    for instance, keys, want, (out, _) in zip(instances, shards, per_instance, outputs):
        [summary_file] = (instance / "output").glob("summary-*.json")
        summary = json.loads(summary_file.read_text())
        assert (summary["records"], summary["written"], summary["failed"], summary["error"]) == \
            (len(want), len(want), 0, None), summary
        assert f"processing_job: {len(want)} records from" in out, out
        assert not list((instance / "output" / "failed-records").rglob("*.jsonl"))
        print(f"{instance.name}: {len(keys)} files, {sum(len(generated[k]) for k in keys)} rows, "
              f"{summary['written']} records written in {summary['seconds']} s")
    print(f"two instances: {seconds:.1f} s wall")

    expected = {**per_instance[0], **per_instance[1]}
    all_rows = [r for rows in generated.values() for r in rows]
    assert expected == expected_features(all_rows)  # the shards split no customer
    assert 0 < len(expected) < len({r.customer_id for r in all_rows})  # the window left some customers out
    check_stored(store, GROUP, expected)


def test_glue_job_reads_its_parameters_and_writes_the_features(store, jar, tmp_path):
    generated = generate(tmp_path / "s3", 40, seed=5)
    # The group as the examples create it (examples/feature_groups.py): it must take what the pipeline writes.
    run_job([sys.executable, str(ROOT / "examples" / "feature_groups.py"), "--endpoint", store.endpoint,
             "customer-txn-features"], store)
    options = json.dumps({"runtimeEndpoint": store.endpoint, "controlEndpoint": store.endpoint})
    # Glue's own parameters come along on the command line too; the job must ignore them.
    out = run_job(submit_command(
        jar, ROOT / "examples" / "glue" / "glue_job.py", tmp_path / "tmp",
        "--JOB_NAME", "seed", "--job-bookmark-option", "job-bookmark-disable",
        "--feature_group_name", "customer-txn-features", "--input", str(tmp_path / "s3" / "transactions"),
        "--output", str(tmp_path / "out"), "--region", "us-east-1", "--window_end", WINDOW_END.isoformat(),
        "--connector_options", options), store)
    expected = expected_features([r for rows in generated.values() for r in rows])
    assert f"glue_job: {len(expected)} records from" in out, out
    check_stored(store, "customer-txn-features", expected)


def test_emr_step_writes_the_features_and_keeps_the_failed_record(store, jar, tmp_path):
    generated = generate(tmp_path / "s3", 40, seed=6)
    # A transaction without a customer: its aggregate has no record identifier, so the store cannot take it.
    (tmp_path / "s3" / "transactions" / "late.csv").write_text(
        "customer_id,txn_time,amount,fee\n,2026-03-07T10:00:00-08:00,12.50,0.25\n")
    store.create_feature_group("seed-emr", "customer_id", "event_time", FEATURE_DEFINITIONS)
    output = tmp_path / "out"
    out = run_job(submit_command(
        jar, ROOT / "examples" / "emr" / "emr_step.py", tmp_path / "tmp",
        "--feature-group-name", "seed-emr", "--input", str(tmp_path / "s3" / "transactions"),
        "--output", f"file://{output}", "--region", "us-east-1", "--window-end", WINDOW_END.isoformat(),
        "--max-failed-records", "1",
        "--option", f"runtimeEndpoint={store.endpoint}", "--option", f"controlEndpoint={store.endpoint}"), store)
    expected = expected_features([r for rows in generated.values() for r in rows])
    assert f"emr_step: {len(expected) + 1} records from" in out and f"{len(expected)} written, 1 failed" in out, out
    [summary] = output.glob("summary-*.json")
    assert (json.loads(summary.read_text())["written"], json.loads(summary.read_text())["failed"]) == \
        (len(expected), 1)
    [failed] = [json.loads(line) for f in (output / "failed-records").rglob("*.jsonl")
                for line in f.read_text().splitlines()]
    assert failed["values"]["customer_id"] is None and failed["values"]["event_time"] == "2026-03-07T18:00:00Z", failed
    check_stored(store, "seed-emr", expected)
