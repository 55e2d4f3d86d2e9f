"""Feature groups from a DataFrame: the feature definitions its columns map to, CreateFeatureGroup with them, and
UpdateFeatureGroup with the columns a group lacks.

Both call the connector's Scala API (`featurestore.spark.FeatureGroups`) through the session's JVM, so the mapping
is the one every write checks against (the README's table), and the calls go through the connector's own control
client: its options (`region`, `controlEndpoint`, `profile`, credentials...) and the session's
`spark.datasource.featurestore.*` settings apply, as for a write. The connector's jar must be on the session's
classpath.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Mapping

# pyspark is imported when a function runs, not with the package: `python -m featurestore_spark --jar` must work
# where pyspark is not importable (the package does not depend on it).
if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession
    from pyspark.sql.types import StructType

__all__ = ["feature_definitions", "create_feature_group", "add_missing_features"]


def _session() -> SparkSession:
    from pyspark.sql import SparkSession

    session = SparkSession.getActiveSession()
    if session is None:
        raise RuntimeError("no active SparkSession: start one with the featurestore-spark jar on its classpath")
    return session


def _java_schema(session: SparkSession, schema: StructType) -> Any:
    """The Scala StructType of a Python one (through its JSON form, which both sides read)."""
    return session._jvm.org.apache.spark.sql.types.DataType.fromJson(schema.json())


def _schema_of(df: DataFrame | StructType) -> StructType:
    from pyspark.sql import DataFrame

    return df.schema if isinstance(df, DataFrame) else df


def _feature_groups(session: SparkSession) -> Any:
    return session._jvm.featurestore.spark.FeatureGroups


def _java_map(session: SparkSession, values: Mapping[str, str] | None) -> Any:
    java_map = session._jvm.java.util.HashMap()
    for key, value in (values or {}).items():
        java_map.put(str(key), str(value))
    return java_map


def feature_definitions(
    df: DataFrame | StructType,
    event_time: str | None = None,
    collection_types: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """The feature definitions of `df`'s columns, in the service's `FeatureDefinitions` shape.

    Integers and decimal(p<=18, 0) map to Integral; float, double and other decimals to Fractional; string, boolean,
    date and timestamp to String; arrays of those to List collections (`collection_types` asks for `"Set"`, or
    `"Vector(n)"` for a numeric array of n elements). `event_time` names the event time column (a number there is
    Fractional, epoch seconds). Raises a `Py4JJavaError` wrapping `FeatureStoreValidationException` that names
    every column without a feature type (structs, maps, binary, nested arrays).
    """
    session = _session()
    schema = _schema_of(df)
    definitions = _feature_groups(session).featureDefinitionsJson(
        _java_schema(session, schema), event_time, _java_map(session, collection_types))
    return json.loads(definitions)


def create_feature_group(
    name: str,
    df: DataFrame | StructType,
    *,
    record_identifier: str,
    event_time: str,
    online_store: bool = True,
    storage_type: str | None = None,
    ttl_duration: str | None = None,
    offline_store_s3_uri: str | None = None,
    table_format: str | None = None,
    role_arn: str | None = None,
    description: str | None = None,
    tags: Mapping[str, str] | None = None,
    collection_types: Mapping[str, str] | None = None,
    timeout_seconds: int = 600,
    options: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Creates feature group `name` with a feature for each of `df`'s columns and waits until it is `Created`.

    `storage_type` is `"Standard"` or `"InMemory"` (needed for array columns), `ttl_duration` like `"7 Days"`,
    `table_format` `"Glue"` or `"Iceberg"`; `offline_store_s3_uri` adds an offline store (with `online_store=False`,
    the only one). `options` are the connector's options for the call (`region`, `controlEndpoint`, `profile`,
    credentials). Returns the group's DescribeFeatureGroup answer. Raises (as a `Py4JJavaError`)
    `FeatureStoreValidationException` naming every problem of the request before any call,
    `FeatureStoreServiceException` with the service's code when it refuses, or with its `FailureReason` when
    creation fails, or when the group is not `Created` within `timeout_seconds`.
    """
    session = _session()
    schema = _schema_of(df)
    spec: dict[str, Any] = {
        "featureGroupName": name,
        "recordIdentifier": record_identifier,
        "eventTime": event_time,
        "onlineStore": online_store,
        "tags": dict(tags or {}),
        "collectionTypes": dict(collection_types or {}),
        "timeoutSeconds": int(timeout_seconds),
    }
    optional = {
        "storageType": storage_type,
        "ttlDuration": ttl_duration,
        "offlineStoreS3Uri": offline_store_s3_uri,
        "tableFormat": table_format,
        "roleArn": role_arn,
        "description": description,
    }
    spec.update({key: value for key, value in optional.items() if value is not None})
    described = _feature_groups(session).createJson(
        _java_schema(session, schema), json.dumps(spec), _java_map(session, options))
    return json.loads(described)


def add_missing_features(
    name: str,
    df: DataFrame,
    *,
    collection_types: Mapping[str, str] | None = None,
    timeout_seconds: int = 600,
    options: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Adds `df`'s columns that are not features of group `name` (name or ARN) with UpdateFeatureGroup.

    The new columns are mapped as by `feature_definitions` (`collection_types` as there; arrays are List features
    otherwise) and added at most 100 per call, each update waited for (at most `timeout_seconds` in all). Nothing
    is called but DescribeFeatureGroup when no column is new. `options` are the connector's options for the calls.
    Returns the group's DescribeFeatureGroup answer. The write option `addMissingFeatures=true` does the same
    before a write.
    """
    session = _session()
    described = _feature_groups(session).addMissingFeaturesJava(
        df._jdf, name, _java_map(session, options), _java_map(session, collection_types), int(timeout_seconds))
    return json.loads(described)
