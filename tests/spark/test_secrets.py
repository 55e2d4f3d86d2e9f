"""No secret leaks: canary credentials, given both as options and as environment variables to a spark-submit
job with debug logging, rows that fail and a job that fails at commit, appear nowhere a user or an operator
can read: the driver's and executors' logs, the failed-records files, the exception, the query plan in Spark's
event log (its SQL plan descriptions included)."""

from __future__ import annotations

import os
import subprocess
import sys

from cluster import spark_home
from conftest import spark_env
from localstore import CHECK_SIGNATURES, ROOT, LocalStore

# Canaries: values found nowhere else, so that any occurrence is a leak.
ACCESS_KEY = "AKIDCANARY7Q3ZK8P1"
SECRET = "canary-secret-Xq81Lm0Pz"
TOKEN = "canary-session-token-Vd29Hs7Ka"
CANARIES = (ACCESS_KEY, SECRET, TOKEN)


def test_no_secret_reaches_logs_files_errors_or_the_event_log(jar, tmp_path):
    # The store accepts the canaries (and the tests' own keys, for its set-up): the job signs with them.
    store = LocalStore.start(tmp_path / "store", *CHECK_SIGNATURES, "--credentials", f"{ACCESS_KEY}:{SECRET}:{TOKEN}")
    try:
        store.create_feature_group("secrets", "id", "ts", [
            {"FeatureName": "id", "FeatureType": "String"},
            {"FeatureName": "ts", "FeatureType": "String"},
            {"FeatureName": "score", "FeatureType": "Fractional"},
        ])
        events, failed, error_out = tmp_path / "events", tmp_path / "failed", tmp_path / "error.txt"
        events.mkdir()
        env = {**os.environ, **spark_env(store.endpoint), "SPARK_HOME": str(spark_home()),
               "AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET, "AWS_SESSION_TOKEN": TOKEN}
        command = [str(spark_home() / "bin" / "spark-submit"), "--master", "local[2]", "--jars", str(jar),
                   "--conf", "spark.ui.enabled=false", "--conf", "spark.driver.host=127.0.0.1",
                   "--conf", "spark.eventLog.enabled=true", "--conf", f"spark.eventLog.dir={events}",
                   str(ROOT / "tests" / "spark" / "secrets_job.py"), "--endpoint", store.endpoint,
                   "--group", "secrets", "--failed", str(failed), "--error-out", str(error_out)]
        done = subprocess.run(command, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=600, cwd=tmp_path)
        assert done.returncode == 0, done.stderr[-5000:]
        logs = done.stdout + done.stderr
    finally:
        store.stop()

    # The write ran as intended: records written with the canaries, 20 rows failed, the job failed at commit,
    # and debug logging was on (the connector's own debug lines among them).
    error = error_out.read_text()
    assert "20 of 200 records failed" in error, error
    assert " DEBUG " in logs and "writer opened for secrets" in logs, logs[-3000:]
    failed_files = sorted(failed.glob("failed-*.jsonl"))
    assert failed_files and sum(len(p.read_text().splitlines()) for p in failed_files) == 20
    event_logs = [p for p in events.iterdir() if p.is_file()]
    assert event_logs and "SparkListenerSQLExecutionStart" in event_logs[0].read_text()

    places = {"driver and executor logs": logs, "exception": error}
    places.update({f"failed records {p.name}": p.read_text() for p in failed_files})
    places.update({f"event log {p.name}": p.read_text() for p in event_logs})
    leaks = [(where, canary) for where, text in places.items() for canary in CANARIES if canary in text]
    assert not leaks, leaks
