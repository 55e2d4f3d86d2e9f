"""The command line a shell script uses: spark-submit --jars "$(python -m featurestore_spark --jar)"."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import spark_env
from readback import get_records

JOB = Path(__file__).with_name("ingest_job.py")
ROWS = 200


def test_spark_submit_with_the_jar_the_module_prints(store, runtime, make_group):
    group = make_group("wheel-spark-submit")
    venv_bin = Path(sys.executable).parent
    env = {**os.environ, **spark_env(store.endpoint), "PATH": f"{venv_bin}:{os.environ['PATH']}"}
    env.pop("SPARK_HOME", None)  # the venv's own pyspark
    script = ('spark-submit --master local[2] --jars "$(python -m featurestore_spark --jar)" '
              "--conf spark.driver.host=127.0.0.1 --conf spark.driver.bindAddress=127.0.0.1 "
              '--conf spark.ui.enabled=false "$@"')
    run = subprocess.run(["bash", "-c", script, "spark-submit", str(JOB), "--group", group, "--rows", str(ROWS),
                          "--endpoint", store.endpoint], env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, f"{run.stdout[-3000:]}\n{run.stderr[-6000:]}"
    [line] = [line for line in run.stdout.splitlines() if line.startswith("SUMMARY ")]
    summary = json.loads(line.removeprefix("SUMMARY "))
    stored = get_records(runtime, group, [f"s{i}" for i in range(ROWS)])
    assert all(record is not None for record in stored.values())
    assert (summary["written"], summary["failed"], summary["feature_group"]) == (ROWS, 0, group)
    assert stored["s9"] == {"id": "s9", "ts": "2026-01-01T00:00:00Z", "count": "9", "score": "4.5",
                            "label": "submitted"}
