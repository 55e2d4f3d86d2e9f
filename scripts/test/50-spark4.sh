#!/usr/bin/env bash
# Spark 4: the _2.13 jar on pyspark 4.3 (tests/spark/test_spark4.py) against the real featurestore-local.
# pyspark 4 needs Python >= 3.11: it gets its own venv, .venv-spark4 (tests/spark4-requirements.txt, pinned);
# pytest and boto3 run from .venv. Builds what is missing (store binary, the _2.13 jar, the venvs).
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
cd "$ROOT"
ensure_venv

python311=""
for candidate in python3.11 python3.12 python3.13 python3; do
  if command -v "$candidate" >/dev/null &&
     "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)'; then
    python311="$candidate"
    break
  fi
done
[ -n "$python311" ] || { echo "pyspark 4 needs Python >= 3.11, and none was found" >&2; exit 1; }

venv4="$ROOT/.venv-spark4"
ensure_venv_at "$venv4" "$ROOT/tests/spark4-requirements.txt" "$python311"

ensure_store_binary
ensure_connector_jar 2.13

SPARK4_VENV="$venv4" run_pytest tests/spark -m spark4 --basetemp="$WORK/pytest-spark4" -v --durations=0
