"""The package as pip installed it from the wheel: where it lives, its version and CLI, the jar each Spark takes,
and the jars it carries (the ones Maven built, one native library each)."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import zipfile
from importlib import metadata
from pathlib import Path

import pytest

import featurestore_spark
from featurestore_spark import UnsupportedSparkError, jar_path, scala_version

from localstore import ROOT

POM_VERSION = re.search(r"<artifactId>featurestore-spark_\$\{scala.binary.version\}</artifactId>\s*<version>([^<]+)<",
                        (ROOT / "jvm" / "pom.xml").read_text()).group(1)


def run_module(*args: str, python: str = sys.executable, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([python, "-m", "featurestore_spark", *args], capture_output=True, text=True, timeout=120,
                          env=env)


def test_the_package_is_the_installed_wheel_not_the_source_tree():
    installed = Path(featurestore_spark.__file__).resolve()
    assert Path(sys.prefix).resolve() in installed.parents, installed
    assert (ROOT / "python") not in installed.parents
    wheel = metadata.distribution("featurestore-spark").read_text("WHEEL")
    assert "Root-Is-Purelib: false" in wheel and "Tag: py3-none-manylinux2014_x86_64" in wheel, wheel


def test_version_is_the_connectors_on_the_command_line_too():
    assert featurestore_spark.__version__ == metadata.version("featurestore-spark") == POM_VERSION
    run = run_module("--version")
    assert (run.returncode, run.stdout) == (0, f"{POM_VERSION}\n"), run.stderr


@pytest.mark.parametrize("scala", ["2.12", "2.13"])
def test_each_packaged_jar_is_the_one_maven_built_with_one_native_library(scala):
    packaged = Path(jar_path("3.5.9" if scala == "2.12" else "4.3.0"))
    assert packaged.name == f"featurestore-spark_{scala}-{POM_VERSION}.jar"
    built = ROOT / "jvm" / "target" / f"scala-{scala}" / packaged.name
    digest = lambda p: hashlib.sha256(p.read_bytes()).hexdigest()  # noqa: E731
    assert digest(packaged) == digest(built)
    with zipfile.ZipFile(packaged) as jar:
        native = [n for n in jar.namelist() if n.startswith("native/") and not n.endswith("/")]
        assert native == ["native/linux-x86_64/libfeaturestore_jni.so"]
        assert "featurestore/spark/FeatureStoreProvider.class" in jar.namelist()


def test_jar_path_follows_the_installed_pyspark_and_the_spark_line():
    import pyspark

    assert pyspark.__version__.startswith("3.5.")
    assert Path(jar_path()).name == f"featurestore-spark_2.12-{POM_VERSION}.jar"
    assert Path(jar_path()).is_file()
    assert [scala_version(v) for v in ("3.5.0", "3.5.9", "4.2.0", "4.3.0", "4.3")] == \
        ["2.12", "2.12", "2.13", "2.13", "2.13"]


@pytest.mark.parametrize("version", ["3.4.4", "4.1.1", "4.0.0", "5.0.0", "3", "nightly"])
def test_an_unsupported_spark_is_refused_naming_the_supported_lines(version):
    with pytest.raises(UnsupportedSparkError, match=rf"Spark {re.escape(version)} is not supported .*3\.5, 4\.2, 4\.3"):
        jar_path(version)


def test_the_command_line_prints_the_jar_for_spark_submit_or_says_why_not(tmp_path):
    run = run_module("--jar")
    assert run.returncode == 0 and run.stdout == f"{jar_path()}\n", run.stderr
    run = run_module("--jar", "--spark-version", "4.2.0")
    assert run.returncode == 0 and run.stdout.strip().endswith(f"featurestore-spark_2.13-{POM_VERSION}.jar")
    # A pyspark of an unsupported line, first on the path: the default (no --spark-version) follows it.
    fake = tmp_path / "pyspark"
    fake.mkdir()
    (fake / "__init__.py").write_text('__version__ = "3.4.1"\n')
    run = run_module("--jar", env={**os.environ, "PYTHONPATH": str(tmp_path)})
    assert run.returncode == 1 and run.stdout == ""
    assert "Spark 3.4.1 is not supported by featurestore-spark" in run.stderr and "3.5, 4.2, 4.3" in run.stderr


def test_the_options_listed_are_the_connectors_in_snake_case():
    run = run_module("--options")
    assert run.returncode == 0, run.stderr
    for line in ("    max_in_flight (integer 1..2147483647; default: 64): ",
                 "    failed_records_path (string; default: none): ",
                 "    target_stores (OnlineStore,OfflineStore; default: every store of the group): "):
        assert line in run.stdout
    # The docs name other options by their Python names too; the feature group is ingest's own argument.
    assert "retryMaxElapsedMs" not in run.stdout and "retry_max_elapsed_ms" in run.stdout
    assert "feature_group_name" not in run.stdout
    assert "region (string; default: the AWS default chain): AWS region (default: the one in `feature_group` " \
        "when it is an ARN" in run.stdout




def test_with_connector_adds_the_jar_to_the_builders_jars_once():
    from pyspark.sql import SparkSession

    jar = jar_path()
    builder = featurestore_spark.with_connector(SparkSession.Builder().config("spark.jars", "/opt/jobs/udfs.jar"))
    assert builder._options["spark.jars"] == f"/opt/jobs/udfs.jar,{jar}"
    assert featurestore_spark.with_connector(builder)._options["spark.jars"] == f"/opt/jobs/udfs.jar,{jar}"
    assert featurestore_spark.with_connector(SparkSession.Builder())._options["spark.jars"] == jar
