#!/usr/bin/env bash
# The Python package: scripts/build-wheel.sh builds the wheel from the jars stages 30 and 50 built, pip installs it
# into a fresh venv (.venv-wheel, made anew each run) with the pinned pyspark 3.5 of tests/requirements.txt, and
# pytest (tests/wheel) runs from that venv: the CLI (--version, --jar), jar_path for each Spark line, ingest on a
# session started by with_connector against the real featurestore-local (its summary object against GetRecord),
# option names and values refused before any Spark job, and spark-submit --jars "$(python -m featurestore_spark
# --jar)". The same wheel, installed for .venv-spark4's pyspark 4.3, must pick the _2.13 jar and ingest with it.
# The Processing launcher (examples/processing/launch.py) runs with the SageMaker SDK bench/requirements.txt pins,
# its request captured by botocore's Stubber.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
cd "$ROOT"

ensure_store_binary
wheel="$(scripts/build-wheel.sh | tail -1)"

venv="$ROOT/.venv-wheel"
log "installing ${wheel#"$ROOT"/} and tests/requirements.txt into a fresh ${venv#"$ROOT"/}"
rm -rf "$venv"
python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check "$wheel" -r tests/requirements.txt
# The launcher test's SDK: the bench's pin, its dependencies held to the bench's versions (but the bench's
# pyspark and py4j, which tests/requirements.txt already pins for this venv).
grep -v -e '^pyspark==' -e '^py4j==' bench/requirements.txt >"$WORK/sagemaker-constraints.txt"
"$venv/bin/pip" install -q --disable-pip-version-check -c "$WORK/sagemaker-constraints.txt" \
  "$(grep '^sagemaker==' bench/requirements.txt)"

ensure_spark4_venv
spark4_site="$WORK/wheel-spark4-site"
rm -rf "$spark4_site"
"$SPARK4_VENV/bin/pip" install -q --disable-pip-version-check --no-deps --target "$spark4_site" "$wheel"

export SPARK4_PYTHON="$SPARK4_VENV/bin/python" SPARK4_WHEEL_SITE="$spark4_site"
VENV="$venv" run_pytest tests/wheel --basetemp="$WORK/pytest-wheel" -v --durations=0
