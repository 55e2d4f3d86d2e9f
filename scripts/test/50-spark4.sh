#!/usr/bin/env bash
# Spark 4: the _2.13 jar on pyspark 4.3 (tests/spark/test_spark4.py) against the real featurestore-local.
# pyspark 4 needs Python >= 3.11: it gets its own venv, .venv-spark4 (tests/spark4-requirements.txt, pinned);
# pytest and boto3 run from .venv. Builds what is missing (store binary, the _2.13 jar, the venvs).
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
cd "$ROOT"
ensure_venv

ensure_spark4_venv

ensure_store_binary
ensure_connector_jar 2.13

run_pytest tests/spark -m spark4 --basetemp="$WORK/pytest-spark4" -v --durations=0
