"""Rows for the fault tests: every record identifier twice, an older and a newer version, spread over the
partitions so that both are written at once by different tasks. Whatever the faults did (retries, re-run or
speculative tasks, writes replayed in any order), the online store must end with the newer version of each.

Row k of 2 * ids: record `v-<k mod ids>`, the older version for k < ids, the newer one for k >= ids. With
`note_bytes`, each row also has a `note` of that many bytes (a job that must push rows through a Python UDF
quickly makes them large: the Python worker's output goes back to the JVM in 64 KB chunks).
"""

from __future__ import annotations

RECORD_IDENTIFIER = "id"
EVENT_TIME = "event_time"
FEATURE_DEFINITIONS = [
    {"FeatureName": "id", "FeatureType": "String"},
    {"FeatureName": "event_time", "FeatureType": "String"},
    {"FeatureName": "value", "FeatureType": "Integral"},
    {"FeatureName": "label", "FeatureType": "String"},
    {"FeatureName": "note", "FeatureType": "String"},
]
OLDER = "2024-01-01T00:00:00Z"
NEWER = "2024-06-01T00:00:00Z"


def record_id(i: int) -> str:
    return f"v-{i}"


def note(note_bytes: int) -> str:
    return "n" * note_bytes


def dataframe(spark, ids: int, partitions: int, note_bytes: int = 0):
    """The 2 * `ids` rows, shuffled round-robin over `partitions` partitions (both versions of a record usually
    land in different tasks)."""
    columns = [
        f"concat('v-', CAST(id % {ids} AS STRING)) AS id",
        f"CASE WHEN id < {ids} THEN '{OLDER}' ELSE '{NEWER}' END AS event_time",
        "id AS value",
        f"concat(CASE WHEN id < {ids} THEN 'old-' ELSE 'new-' END, CAST(id % {ids} AS STRING)) AS label",
    ]
    if note_bytes:
        columns.append(f"'{note(note_bytes)}' AS note")
    return spark.range(0, 2 * ids, 1, 2).selectExpr(*columns).repartition(partitions)


def expected_record(i: int, ids: int, note_bytes: int = 0) -> dict[str, str]:
    """What GetRecord must return for record i: its newer version."""
    record = {"id": record_id(i), "event_time": NEWER, "value": str(ids + i), "label": f"new-{i}"}
    if note_bytes:
        record["note"] = note(note_bytes)
    return record


def create_group(store, name: str) -> None:
    store.create_feature_group(name, RECORD_IDENTIFIER, EVENT_TIME, FEATURE_DEFINITIONS)


def check_store(runtime, group: str, ids: int, note_bytes: int = 0) -> list[str]:
    """Problems with the online store after a write of `ids` records: missing or extra ids, and values other
    than the newer version's (every record is read back, with BatchGetRecord)."""
    from readback import batch_get_records, list_record_ids, mismatches

    problems = []
    listed = list_record_ids(runtime, group)
    if len(listed) != ids:
        problems.append(f"{len(listed)} records online, {ids} expected")
    expected = {record_id(i): expected_record(i, ids, note_bytes) for i in range(ids)}
    stored = batch_get_records(runtime, group, list(expected))
    problems.extend(mismatches(expected, stored))
    return problems
