"""Which of the packaged jars a Spark takes, and putting it on a session's classpath."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Optional, TypeVar

JARS_DIR = Path(__file__).resolve().parent / "jars"

# The Spark lines the jars are built and tested for, and the Scala each is built with: 3.5 runs the _2.12 jar;
# 4.2 (the jar is compiled against it) and 4.3 (its ArrowUtils changed, which the connector's shim covers) the
# _2.13 one. Other lines are refused rather than tried: a mismatched Scala fails only once a job runs.
SCALA_BY_SPARK_LINE = {(3, 5): "2.12", (4, 2): "2.13", (4, 3): "2.13"}


class UnsupportedSparkError(RuntimeError):
    """The Spark in use is not one the packaged jars are built for."""


def supported_lines() -> str:
    return ", ".join(f"{major}.{minor}" for major, minor in SCALA_BY_SPARK_LINE)


def installed_spark_version() -> str:
    """The version of the pyspark this Python imports."""
    try:
        import pyspark
    except ImportError as error:
        raise UnsupportedSparkError(
            "pyspark is not installed in this Python: install it, or name the Spark version "
            f"(spark_version=..., or --spark-version on the command line); supported: {supported_lines()}"
        ) from error
    return pyspark.__version__


def scala_version(spark_version: str) -> str:
    """The Scala binary version of the jar that Spark `spark_version` takes ("3.5.9" -> "2.12")."""
    match = re.match(r"^(\d+)\.(\d+)(?:\.|$)", spark_version.strip())
    line = (int(match.group(1)), int(match.group(2))) if match else None
    if line not in SCALA_BY_SPARK_LINE:
        raise UnsupportedSparkError(
            f"Spark {spark_version} is not supported by featurestore-spark: the packaged jars are for Spark "
            f"{supported_lines()} (see the support matrix in the project's README)"
        )
    return SCALA_BY_SPARK_LINE[line]


def jar_path(spark_version: Optional[str] = None) -> str:
    """The path of the packaged connector jar for `spark_version` (default: the installed pyspark's version).

    Raises UnsupportedSparkError for a Spark the jars are not built for, naming the supported lines."""
    scala = scala_version(spark_version or installed_spark_version())
    found = sorted(JARS_DIR.glob(f"featurestore-spark_{scala}-*.jar"))
    if len(found) != 1:
        raise FileNotFoundError(
            f"expected one featurestore-spark_{scala} jar in {JARS_DIR}, found {len(found)}: "
            "install featurestore-spark from its wheel (scripts/build-wheel.sh builds it)"
        )
    return str(found[0])


Builder = TypeVar("Builder")


def with_connector(builder: Builder, spark_version: Optional[str] = None) -> Builder:
    """Adds the connector's jar to a `SparkSession.builder`'s `spark.jars` (keeping the jars already set there)
    and returns the builder, as `spark.jars` must be set before the session starts:

        spark = featurestore_spark.with_connector(SparkSession.builder.appName("ingest")).getOrCreate()

    A session already running in this process is not changed by a builder: start the connector's session
    first (or pass the jar to spark-submit with --jars)."""
    jar = jar_path(spark_version)
    # The builder keeps what .config() set in _options (pyspark 3.5 and 4 alike); it has no public getter.
    given = getattr(builder, "_options", {}).get("spark.jars", "")
    jars = [j for j in given.split(",") if j.strip()]
    if jar not in jars:
        jars.append(jar)
    return builder.config("spark.jars", ",".join(jars))  # type: ignore[attr-defined]
