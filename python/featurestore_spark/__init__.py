"""featurestore-spark: a native Spark sink for Amazon SageMaker Feature Store.

The package carries the connector's jars (Spark 3.5 / Scala 2.12 and Spark 4.2-4.3 / Scala 2.13, each with its
native library for linux x86_64) and a Pythonic way to write with them:

    from pyspark.sql import SparkSession
    import featurestore_spark

    spark = featurestore_spark.with_connector(SparkSession.builder.appName("ingest")).getOrCreate()
    summary = featurestore_spark.ingest(df, "customers", max_failed_records=10)
    print(summary.written, summary.failed)

For spark-submit: spark-submit --jars "$(python -m featurestore_spark --jar)" job.py
"""

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _version

from ._ingest import FailedRecordsError, WriteSummary, check_options, ingest
from ._jars import UnsupportedSparkError, jar_path, scala_version, with_connector
from ._options import OptionError
from .feature_groups import add_missing_features, create_feature_group, feature_definitions

try:
    __version__ = _version("featurestore-spark")
except PackageNotFoundError:  # imported from the source tree (python/ on the path), not from the wheel
    __version__ = "0+source"


__all__ = [
    "FailedRecordsError",
    "OptionError",
    "UnsupportedSparkError",
    "WriteSummary",
    "__version__",
    "add_missing_features",
    "check_options",
    "create_feature_group",
    "feature_definitions",
    "ingest",
    "jar_path",
    "scala_version",
    "with_connector",
]
