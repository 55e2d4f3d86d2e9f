#!/usr/bin/env bash
# Builds the Python package featurestore-spark into target/wheels/featurestore_spark-<version>-py3-none-manylinux2014_x86_64.whl:
# the connector's jars for Spark 3.5 / Scala 2.12 and Spark 4.x / Scala 2.13 (each with its native library for
# linux x86_64, glibc 2.17 or newer) and the Python module (python/). Builds the jars when missing (--rebuild-jars:
# always, after a change to the connector); the wheel's build backend (hatchling, pinned) comes from PyPI into
# .venv-wheel-build. Prints the wheel's path last, on stdout.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

rebuild=false
case "${1:-}" in
  "") ;;
  --rebuild-jars) rebuild=true ;;
  *) echo "usage: $0 [--rebuild-jars]" >&2; exit 2 ;;
esac

# Builds log to stderr: stdout carries only the wheel's path, which callers take with $(...).
if $rebuild; then
  log "mvn package (Spark 3.5 / Scala 2.12, then Spark 4 / Scala 2.13)"
  mvn -B -q -f jvm/pom.xml package -DskipTests >&2
  mvn -B -q -f jvm/pom.xml -Pspark-4 package -DskipTests >&2
else
  ensure_connector_jar 2.12 >&2
  ensure_connector_jar 2.13 >&2
fi

venv="$ROOT/.venv-wheel-build"
ensure_venv_at "$venv" "$ROOT/python/build-requirements.txt" >&2

out="$ROOT/target/wheels"
mkdir -p "$out"
rm -f "$out"/featurestore_spark-*.whl
# The backend reads the jars from jvm/target (python/hatch_build.py): no copy of them in the source tree.
"$venv/bin/pip" wheel -q --disable-pip-version-check --no-deps --no-build-isolation -w "$out" "$ROOT/python"
wheel="$(ls "$out"/featurestore_spark-*.whl)"
log "built ${wheel#"$ROOT"/}: $(du -h "$wheel" | cut -f1) ($(stat -c %s "$wheel") bytes)"
echo "$wheel"
