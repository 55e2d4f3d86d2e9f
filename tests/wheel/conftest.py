"""Fixtures of the wheel's tests: the installed featurestore_spark (from the wheel, in the fresh venv the stage
made), the real local store, and one PySpark 3.5 session started through featurestore_spark.with_connector."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "spark"))

from localstore import CHECK_SIGNATURES, JAVA_HOME, ROOT, LocalStore, spark_env  # noqa: E402
# The feature group every write here goes to: the local store's standard features.
FEATURES = [
    {"FeatureName": "id", "FeatureType": "String"},
    {"FeatureName": "ts", "FeatureType": "String"},
    {"FeatureName": "count", "FeatureType": "Integral"},
    {"FeatureName": "score", "FeatureType": "Fractional"},
    {"FeatureName": "label", "FeatureType": "String"},
]


def pytest_configure(config: pytest.Config) -> None:
    if not JAVA_HOME:
        raise pytest.UsageError("JAVA_HOME is not set: run scripts/test/55-wheel.sh, or set it to a JDK 17")


def endpoint_options(endpoint: str) -> dict[str, str]:
    """The endpoints and region under their Python names, given to every write (no default chain lookup)."""
    return {"region": "us-east-1", "runtime_endpoint": endpoint, "control_endpoint": endpoint}


@pytest.fixture(scope="session")
def store(tmp_path_factory):
    local = LocalStore.start(tmp_path_factory.mktemp("store") / "data", *CHECK_SIGNATURES)
    try:
        yield local
    finally:
        local.stop()


@pytest.fixture(scope="session")
def runtime(store):
    return store.client("sagemaker-featurestore-runtime")


@pytest.fixture
def make_group(store):
    """Creates a feature group of FEATURES named `name`."""

    def create(name: str) -> str:
        store.create_feature_group(name, "id", "ts", FEATURES)
        return name

    return create


@pytest.fixture(scope="session")
def spark(store, tmp_path_factory):
    """PySpark 3.5 on local[2] with the connector's jar put on the classpath by with_connector."""
    os.environ.update(spark_env(store.endpoint))
    from pyspark.sql import SparkSession

    import featurestore_spark

    builder = (
        SparkSession.builder.master("local[2]")
        .appName("featurestore-wheel")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.ui.enabled", "false")
        .config("spark.local.dir", str(tmp_path_factory.mktemp("spark-local")))
        .config("spark.sql.warehouse.dir", str(tmp_path_factory.mktemp("warehouse")))
    )
    session = featurestore_spark.with_connector(builder).getOrCreate()
    session.sparkContext.setLogLevel("WARN")
    try:
        yield session
    finally:
        session.stop()
