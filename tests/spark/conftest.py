"""Fixtures of the Spark end-to-end tests: the real local store, a PySpark session on local[2] with the built jar
in a non-UTC session time zone, and boto3 clients. Every process talks to 127.0.0.1 only, with test credentials."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from localstore import CHECK_SIGNATURES, JAVA_HOME, ROOT, LocalStore, spark_env
JAR_2_12 = ROOT / "jvm" / "target" / "scala-2.12" / "featurestore-spark_2.12-0.1.0.jar"
JAR_2_13 = ROOT / "jvm" / "target" / "scala-2.13" / "featurestore-spark_2.13-0.1.0.jar"
SESSION_TIME_ZONE = "America/Los_Angeles"
# Temporary credentials the session's store accepted until 1970: an expired session token.
EXPIRED_CREDENTIALS = ("ASIAEXPIREDTEST", "expired-secret", "expired-token")


def pytest_configure(config: pytest.Config) -> None:
    if not JAVA_HOME:
        raise pytest.UsageError("JAVA_HOME is not set: run scripts/test/40-spark-e2e.sh, or set it to a JDK 17")


def connector_options(endpoint: str) -> dict[str, str]:
    """The connector's endpoint and region options, set explicitly on every write (no default chain lookup)."""
    return {"region": "us-east-1", "runtimeEndpoint": endpoint, "controlEndpoint": endpoint}


@pytest.fixture(scope="session")
def jar() -> Path:
    if not JAR_2_12.is_file():
        pytest.fail(f"{JAR_2_12} is missing: mvn -q -f jvm/pom.xml package -DskipTests (scripts/test/40-spark-e2e.sh)")
    return JAR_2_12


@pytest.fixture(scope="session")
def store(tmp_path_factory):
    # Every request the connector signs (driver and executors, lean and SDK transports) is checked by the store;
    # it also knows temporary credentials that expired (EXPIRED_CREDENTIALS), to be refused as ExpiredToken.
    local = LocalStore.start(tmp_path_factory.mktemp("store") / "data", *CHECK_SIGNATURES,
                             "--credentials", ":".join(EXPIRED_CREDENTIALS) + ":1")
    try:
        yield local
    finally:
        local.stop()


@pytest.fixture(scope="session")
def runtime(store):
    return store.client("sagemaker-featurestore-runtime")


@pytest.fixture(scope="session")
def moto(tmp_path_factory):
    """moto's server (moto[server] from PyPI) on a free port of 127.0.0.1: S3 and STS for the tests that need
    them (one server answers every service moto has); its URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = open(tmp_path_factory.mktemp("moto") / "moto.log", "w")
    server = subprocess.Popen([str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
                              stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                raise RuntimeError(f"moto_server did not start: {log.name}")
            time.sleep(0.1)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(30)
        log.close()


class DriverStdout:
    """The driver JVM's stdout, a file of its own: the JVM inherits file descriptor 1 when it starts, so pytest's
    capturing cannot see what it prints later (the connector's summary line). Read what came since a mark."""

    def __init__(self, path: Path):
        self.path = path
        self.offset = 0

    def mark(self) -> None:
        self.offset = self.path.stat().st_size

    def since_mark(self) -> str:
        with open(self.path, "rb") as f:
            f.seek(self.offset)
            return f.read().decode("utf-8", "replace")


@pytest.fixture(scope="session")
def driver_stdout(tmp_path_factory) -> DriverStdout:
    return DriverStdout(tmp_path_factory.mktemp("driver") / "stdout.log")


@pytest.fixture(scope="session")
def spark(store, jar, driver_stdout, tmp_path_factory):
    """One PySpark session for the in-process tests: local[2], the jar through spark.jars, a non-UTC time zone.

    The environment is set before the JVM starts, since the JVM reads it once; so is its stdout (see
    DriverStdout)."""
    os.environ.update(spark_env(store.endpoint))
    from pyspark.sql import SparkSession

    sys.stdout.flush()
    saved_stdout = os.dup(1)
    with open(driver_stdout.path, "wb") as log:
        os.dup2(log.fileno(), 1)
    try:
        session = (
            SparkSession.builder.master("local[2]")
            .appName("featurestore-e2e")
            .config("spark.jars", str(jar))
            .config("spark.driver.memory", "2g")
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.session.timeZone", SESSION_TIME_ZONE)
            .config("spark.sql.shuffle.partitions", "4")
            .config("spark.local.dir", str(tmp_path_factory.mktemp("spark-local")))
            .config("spark.sql.warehouse.dir", str(tmp_path_factory.mktemp("warehouse")))
            .getOrCreate()
        )
    finally:
        os.dup2(saved_stdout, 1)
        os.close(saved_stdout)
    session.sparkContext.setLogLevel("WARN")
    try:
        yield session
    finally:
        session.stop()


@pytest.fixture
def write_options(store) -> dict[str, str]:
    return connector_options(store.endpoint)
