"""The clients under test, each as a user would call it, unmodified, against the group the harness created.

Spark-based clients share one session setup (`spark_session`) and one cached DataFrame; the SageMaker SDK gets
the same rows as a pandas DataFrame. `prepare` runs before timing, `write` is what is timed.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from .env import REGION

SPARK_CORES = 2


@dataclass(frozen=True)
class Client:
    name: str  # the id used on the command line and in results
    label: str  # how tables and the chart name it
    peer: bool  # False for ours
    api: str  # PutRecord or BatchWriteRecord
    kind: str  # "spark" or "pandas"
    # False for the references that send nothing: they split our CPU into Spark's share (reading the cached
    # rows) and the connector's share before the network (Arrow, JNI, validation, encoding).
    sends: bool = True


CLIENTS = [
    Client("ours-batch", "ours, BatchWriteRecord", False, "BatchWriteRecord", "spark"),
    Client("ours-put", "ours, PutRecord", False, "PutRecord", "spark"),
    Client("aws-batch", "AWS connector, use_batch_write_record", True, "BatchWriteRecord", "spark"),
    Client("aws-put", "AWS connector, PutRecord (default)", True, "PutRecord", "spark"),
    Client("sdk", "SageMaker SDK, FeatureGroup.ingest", True, "PutRecord", "pandas"),
    Client("spark-noop", "reference: Spark's noop sink", False, "none", "spark", sends=False),
    Client("ours-dryrun", "reference: ours, dryRun (encode, no requests)", False, "none", "spark", sends=False),
]
BY_NAME = {client.name: client for client in CLIENTS}

# Clients only the limit benchmark runs (bench/limit.sh), on request: ours with its adaptive rate control off
# (the `adaptiveRate` option; a jar without it refuses the write as an unknown option).
LIMIT_ONLY = [Client("ours-fixed", "ours, adaptiveRate=false", False, "BatchWriteRecord", "spark")]
LIMIT_BY_NAME = {client.name: client for client in [*CLIENTS, *LIMIT_ONLY]}


@dataclass(frozen=True)
class Target:
    """Where a run writes, and how the SDK client is sized."""

    group: str
    arn: str
    sdk_processes: int
    sdk_workers: int


def executor_cores(client: Client, target: Target) -> int:
    """The cores a client is given, the denominator of records/s per core: Spark's task slots (local[2]), or
    the SDK's worker processes."""
    return SPARK_CORES if client.kind == "spark" else target.sdk_processes


def spark_session(jars: list[Path], cores: int = SPARK_CORES, memory: str = "4g", java_options: str | None = None):
    """The one session setup of every Spark-based client (both connectors' jars on the classpath for all);
    `cores` task slots (local[cores]) and as many partitions by default; `memory` the JVM's heap."""
    from pyspark.sql import SparkSession

    builder = (
        SparkSession.builder.master(f"local[{cores}]")
        .appName("featurestore-bench")
        .config("spark.jars", ",".join(str(jar) for jar in jars))
        .config("spark.driver.memory", memory)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", str(cores))
        .config("spark.default.parallelism", str(cores))
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
    )
    if java_options:
        builder = builder.config("spark.driver.extraJavaOptions", java_options)
    return builder.getOrCreate()


def aws_connector_jars() -> list[Path]:
    """The AWS connector's jar for the installed pyspark, found the way its documentation says."""
    import feature_store_pyspark

    return [Path(jar) for jar in feature_store_pyspark.classpath_jars()]


def prepare_spark(jars: list[Path], parquet: Path, rows: int, cores: int = SPARK_CORES):
    """A session and the rows cached in memory in `cores` partitions."""
    spark = spark_session(jars, cores)
    return spark, cache_rows(spark, parquet, rows, cores)


def cache_rows(spark, parquet: Path, rows: int, partitions: int = SPARK_CORES):
    """The rows of `parquet` cached in memory in `partitions` partitions (checked to be `rows`)."""
    df = spark.read.parquet(str(parquet)).repartition(partitions).cache()
    cached = df.count()
    if cached != rows:
        raise RuntimeError(f"{parquet} holds {cached} rows, expected {rows}")
    return df


def write_ours(df, target: Target, api: str, dry_run: bool = False, options: dict[str, str] | None = None) -> None:
    # Endpoints, region and credentials come from the environment, as for the peers.
    (
        df.write.format("featurestore")
        .option("featureGroupName", target.arn)
        .option("api", api)
        .option("targetStores", "OnlineStore")
        .option("dryRun", str(dry_run).lower())
        .options(**(options or {}))
        .mode("append")
        .save()
    )


def write_noop(df, target: Target) -> None:
    # Spark's own sink that drops every row: what reading the cached rows and running the tasks costs.
    df.write.format("noop").mode("overwrite").save()


def write_aws_connector(df, target: Target, batch: bool) -> None:
    from feature_store_pyspark.FeatureStoreManager import FeatureStoreManager

    FeatureStoreManager().ingest_data(
        input_data_frame=df,
        feature_group_arn=target.arn,
        target_stores=["OnlineStore"],
        use_batch_write_record=batch,
    )


def prepare_sdk(parquet: Path, rows: int):
    """The rows as a pandas DataFrame and a SageMaker session (its imports and session are not timed)."""
    import boto3
    import pandas as pd
    import sagemaker

    frame = pd.read_parquet(parquet)
    if len(frame) != rows:
        raise RuntimeError(f"{parquet} holds {len(frame)} rows, expected {rows}")
    return frame, sagemaker.Session(boto_session=boto3.Session(region_name=REGION))


def write_sdk(prepared, target: Target) -> None:
    from sagemaker.feature_store.feature_group import FeatureGroup

    frame, session = prepared
    FeatureGroup(name=target.group, sagemaker_session=session).ingest(
        data_frame=frame,
        max_processes=target.sdk_processes,
        max_workers=target.sdk_workers,
        wait=True,
    )


def first_rows(client: Client, prepared, rows: int):
    """What `prepare_*` returned, cut to its first `rows` rows (for the warm-up write)."""
    if client.kind == "spark":
        subset = prepared.limit(rows).repartition(SPARK_CORES).cache()
        subset.count()
        return subset
    frame, session = prepared
    return frame.iloc[:rows], session


def writer(client: Client) -> Callable[[Any, Target], None]:
    """The timed call of `client`, given what its `prepare_*` returned."""
    return {
        "ours-batch": lambda df, t: write_ours(df, t, "BatchWriteRecord"),
        "ours-put": lambda df, t: write_ours(df, t, "PutRecord"),
        "aws-batch": lambda df, t: write_aws_connector(df, t, batch=True),
        "aws-put": lambda df, t: write_aws_connector(df, t, batch=False),
        "sdk": write_sdk,
        "spark-noop": write_noop,
        "ours-dryrun": lambda df, t: write_ours(df, t, "BatchWriteRecord", dry_run=True),
        "ours-fixed": lambda df, t: write_ours(df, t, "BatchWriteRecord", options={"adaptiveRate": "false"}),
    }[client.name]
