"""The same wheel with pyspark 4.3 (installed for .venv-spark4's Python by scripts/test/55-wheel.sh): jar_path
picks the _2.13 jar, and ingest reads the summary from the Scala 2.13 connector."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from conftest import spark_env
from readback import get_records
from test_package import POM_VERSION, run_module

JOB = Path(__file__).with_name("ingest_job.py")
ROWS = 100


@pytest.fixture(scope="module")
def spark4():
    """(python, env) of .venv-spark4 with the wheel's package on its path."""
    python, site = os.environ.get("SPARK4_PYTHON"), os.environ.get("SPARK4_WHEEL_SITE")
    assert python and site, "SPARK4_PYTHON and SPARK4_WHEEL_SITE are set by scripts/test/55-wheel.sh"
    return python, {**os.environ, "PYTHONPATH": site}


def test_spark_4_takes_the_2_13_jar_from_the_wheel(spark4):
    python, env = spark4
    run = run_module("--jar", python=python, env=env)
    assert run.returncode == 0, run.stderr
    jar = Path(run.stdout.strip())
    assert jar.name == f"featurestore-spark_2.13-{POM_VERSION}.jar" and jar.is_file()
    assert Path(env["PYTHONPATH"]).resolve() in jar.resolve().parents


def test_ingest_on_spark_4_through_with_connector(spark4, store, runtime, make_group):
    python, env = spark4
    group = make_group("wheel-spark4")
    env = {**env, **spark_env(store.endpoint), "PYSPARK_PYTHON": python, "PYSPARK_DRIVER_PYTHON": python}
    env.pop("SPARK_HOME", None)  # the venv's own Spark
    run = subprocess.run([python, str(JOB), "--with-connector", "--group", group, "--rows", str(ROWS),
                          "--endpoint", store.endpoint], env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, f"{run.stdout[-3000:]}\n{run.stderr[-6000:]}"
    [line] = [line for line in run.stdout.splitlines() if line.startswith("SUMMARY ")]
    summary = json.loads(line.removeprefix("SUMMARY "))
    assert summary["spark"].startswith("4.3.")
    stored = get_records(runtime, group, [f"s{i}" for i in range(ROWS)])
    assert all(record is not None for record in stored.values())
    assert (summary["written"], summary["failed"]) == (ROWS, 0) and summary["requests"] >= ROWS // 25
    assert summary["line"].startswith(f"featurestore write to '{group}': {ROWS} records written")
