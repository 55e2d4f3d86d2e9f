"""The _2.13 jar on Spark 4.3 (pyspark 4.3.0 from PyPI, in its own venv): the mixed ingestion on local[2].

The jar is compiled against Spark 4.2, whose ArrowUtils.toArrowSchema has four parameters; 4.3's has five (and
three). The
connector reaches it through a reflection shim, and this test proves the shim on the line where the arity
changed."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

import mixed_rows
from conftest import JAR_2_13, spark_env
from localstore import ROOT
from readback import get_records, list_record_ids, mismatches, summary_lines

pytestmark = pytest.mark.spark4

ROWS = 100_000
GROUP = "mixed-spark4"
SPARK_VERSION = "4.3.0"
JOB = Path(__file__).with_name("ingest_mixed_job.py")


@pytest.fixture(scope="module")
def spark4_venv() -> Path:
    venv = Path(os.environ.get("SPARK4_VENV", ROOT / ".venv-spark4"))
    if not (venv / "bin" / "spark-submit").exists():
        pytest.fail(f"{venv} has no pyspark 4: run scripts/test/50-spark4.sh")
    return venv


def test_the_2_13_jar_ingests_on_spark_4_3(spark4_venv, store, runtime):
    assert JAR_2_13.is_file(), f"{JAR_2_13} is missing: mvn -q -f jvm/pom.xml -Pspark-4 package -DskipTests"
    store.create_feature_group(GROUP, mixed_rows.RECORD_IDENTIFIER, mixed_rows.EVENT_TIME,
                               mixed_rows.FEATURE_DEFINITIONS, mixed_rows.STORAGE_TYPE)
    python = str(spark4_venv / "bin" / "python")
    env = {**os.environ, **spark_env(store.endpoint), "PYSPARK_PYTHON": python, "PYSPARK_DRIVER_PYTHON": python}
    env.pop("SPARK_HOME", None)  # the venv's own Spark
    run = subprocess.run(
        [str(spark4_venv / "bin" / "spark-submit"), "--master", "local[2]", "--jars", str(JAR_2_13),
         "--conf", "spark.driver.host=127.0.0.1", "--conf", "spark.driver.bindAddress=127.0.0.1",
         "--conf", "spark.ui.enabled=false",
         str(JOB), "--group", GROUP, "--rows", str(ROWS), "--endpoint", store.endpoint],
        env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, f"spark-submit failed:\n{run.stdout[-3000:]}\n{run.stderr[-6000:]}"
    assert f"spark {SPARK_VERSION} at local[2]: done" in run.stdout, run.stdout
    # Spark 4.3 has no toArrowSchema with 4.2's four parameters, the one a direct call compiled against 4.2
    # would need (NoSuchMethodError): it has a fifth flag, which only the shim's reflection finds.
    [arities] = re.findall(r"ArrowUtils.toArrowSchema parameter counts: \[([0-9, ]*)\]", run.stdout)
    arities = [int(n) for n in arities.split(",")]
    assert 4 not in arities and 5 in arities, arities
    [line] = [m for m in summary_lines(run.stdout) if m["group"] == GROUP]
    assert (int(line["written"]), int(line["failed"])) == (ROWS, 0), line.group(0)

    listed = list_record_ids(runtime, GROUP)
    assert len(listed) == ROWS and set(listed) == {mixed_rows.record_id(i) for i in range(ROWS)}
    expected = {mixed_rows.record_id(i): mixed_rows.expected_record(i) for i in range(0, ROWS, 197)}
    expected.update({mixed_rows.record_id(i): mixed_rows.expected_record(i) for i in (3, 7, ROWS - 1)})
    assert not mismatches(expected, get_records(runtime, GROUP, list(expected)))
