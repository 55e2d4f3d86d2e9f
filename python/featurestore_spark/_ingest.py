"""Writing a DataFrame to a feature group with Python options, and the write's summary as an object."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

from ._options import FEATURE_GROUP, OPTIONS, OptionError, connector_options, describe, python_problem


@dataclass(frozen=True)
class WriteSummary:
    """What the driver recorded for a write when it committed (the JVM's `featurestore.spark.Summary`, also
    printed as `line`)."""

    feature_group: str
    written: int
    deleted: int
    failed: int
    retried: int
    throttled: int
    requests: int
    seconds: float
    dry_run: bool
    # Rows validated by a dry run (nothing is sent then).
    validated: int
    failed_records_path: Optional[str]
    failed_records_files: List[str]
    line: str


class FailedRecordsError(RuntimeError):
    """More records failed than `max_failed_records` allows; every other row was attempted. `summary` has the
    counts."""

    def __init__(self, message: str, summary: WriteSummary):
        super().__init__(message)
        self.summary = summary


def _jvm(df: Any) -> Any:
    session = getattr(df, "sparkSession", None)
    jvm = getattr(session, "_jvm", None)
    if jvm is None:
        raise TypeError(
            "featurestore_spark.ingest needs a DataFrame of a classic SparkSession (py4j); Spark Connect "
            "sessions are not supported"
        )
    from py4j.java_gateway import JavaClass

    if not isinstance(jvm.featurestore.spark.Native, JavaClass):
        raise RuntimeError(
            "the featurestore connector is not on this session's classpath: start the session with "
            "featurestore_spark.with_connector(SparkSession.builder), or with "
            'spark-submit --jars "$(python -m featurestore_spark --jar)"'
        )
    return jvm


def _checked(jvm: Any, feature_group: str, options: Dict[str, Any]) -> Tuple[Dict[str, str], Dict[str, Any]]:
    given, problems = connector_options(options)
    checked = json.loads(jvm.featurestore.spark.Native.checkOptions(
        json.dumps({**given, FEATURE_GROUP.name: str(feature_group)})))
    problems += [python_problem(p["option"], p["message"]) for p in checked["problems"]]
    if problems:
        raise OptionError(problems)
    return given, checked["values"]


def check_options(df: Any, feature_group: str, **options: Any) -> Dict[str, Any]:
    """Checks the options as ingest would, without writing: every unknown name (with the nearest valid one),
    invalid value and contradiction at once, by the connector's own rules (the engine in the session's jar).
    Returns the connector's typed view of them, under the connector's names; raises OptionError."""
    return _checked(_jvm(df), feature_group, options)[1]


def _summary(jvm: Any, kept: Any) -> WriteSummary:
    metrics = jvm.featurestore.spark.Metrics
    counters = kept.counters()
    path = kept.failedRecordsPath()
    files = kept.failedRecordsFiles()
    return WriteSummary(
        feature_group=kept.featureGroup(),
        written=kept.written(),
        deleted=kept.deleted(),
        failed=kept.failed(),
        retried=counters[metrics.RowsRetried()],
        throttled=kept.throttled(),
        requests=kept.requests(),
        seconds=kept.durationNanos() / 1e9,
        dry_run=kept.dryRun(),
        validated=counters[metrics.RowsDryRun()],
        failed_records_path=path.get() if path.isDefined() else None,
        failed_records_files=[files.apply(i) for i in range(files.size())],
        line=kept.line(),
    )


def ingest(df: Any, feature_group: str, **options: Any) -> WriteSummary:
    """Writes `df` to the feature group `feature_group` (a name or an ARN) and returns the write's summary.

    Options are the connector's, in snake_case (`max_in_flight=16`, `target_stores=["OnlineStore"]`,
    `dry_run=True`); None leaves an option unset. They are checked before any Spark job runs (unknown names
    with the nearest valid one, values and combinations by the connector's own rules: OptionError); then the
    driver checks the DataFrame's columns against the feature group, as every write does. The session must
    have the connector's jar (with_connector). When more records fail than `max_failed_records` (default 0),
    FailedRecordsError carries the summary; other failures raise as Spark raises them.

    The summary is the one the driver recorded for this write (`WriteSummaries.last`); a write to the same
    group from another thread of this driver that ends at the same time can take its place.

    Options:
{options}
"""
    jvm = _jvm(df)
    given, values = _checked(jvm, feature_group, options)
    group = values[FEATURE_GROUP.name]  # the name as the driver keys its summaries: trimmed
    summaries = jvm.featurestore.spark.WriteSummaries
    before = summaries.last(group)
    writer = df.write.format("featurestore").options(**given).option(FEATURE_GROUP.name, group).mode("append")
    try:
        writer.save()
    except Exception as error:
        kept = summaries.last(group)
        # The commit records the summary before it enforces max_failed_records: a new one means that check failed.
        if kept.isDefined() and not kept.equals(before):
            summary = _summary(jvm, kept.get())
            java = getattr(error, "java_exception", None)
            message = java.getMessage() if java is not None else str(error)
            raise FailedRecordsError(message, summary) from error
        raise
    kept = summaries.last(group)
    if not kept.isDefined() or kept.equals(before):
        raise RuntimeError(f"the write to '{group}' committed but the driver recorded no summary for it")
    return _summary(jvm, kept.get())


ingest.__doc__ = (ingest.__doc__ or "").format(
    options=describe(spec for spec in OPTIONS.values() if spec is not FEATURE_GROUP))
