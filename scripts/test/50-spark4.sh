#!/usr/bin/env bash
# Spark 4: the _2.13 jar on pyspark 4.3 (tests/spark/test_spark4.py) against the real featurestore-local.
# pyspark 4 needs Python >= 3.11: it gets its own venv, .venv-spark4 (tests/spark4-requirements.txt, pinned);
# pytest and boto3 run from .venv. Builds what is missing (store binary, the _2.13 jar, the venvs).
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
cd "$ROOT"
export JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/java-17-openjdk-amd64}"

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

venv4="$ROOT/.venv-spark4" req4="$ROOT/tests/spark4-requirements.txt"
want="$(sha256sum "$req4" | cut -d' ' -f1)"
if [ "$(cat "$venv4/.requirements.sha" 2>/dev/null)" != "$want" ]; then
  log "installing $req4 into $venv4 ($($python311 --version))"
  rm -rf "$venv4"
  "$python311" -m venv "$venv4"
  "$venv4/bin/pip" install -q --disable-pip-version-check -r "$req4"
  echo "$want" >"$venv4/.requirements.sha"
fi

ensure_store_binary
ensure_connector_jar 2.13

SPARK4_VENV="$venv4" run_pytest tests/spark -m spark4 --basetemp="$WORK/pytest-spark4" -v --durations=0
