"""Reading an ingestion back through the real SDK (boto3's sagemaker-featurestore-runtime client)."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

SUMMARY = re.compile(
    r"featurestore write to '(?P<group>[^']+)': (?P<written>\d+) records written, (?P<failed>\d+) failed, "
    r"(?P<retried>\d+) retried, (?P<throttled>\d+) throttled in (?P<seconds>[0-9.]+) s "
    r"\((?P<rate>\d+) records/s\)(?:; the service limited the rate: (?P<limited>[^;]*))?; "
    r"failed records: (?P<where>.*)"
)


def summary_lines(text: str) -> list[re.Match]:
    """Every connector summary line in `text` (a driver's stdout)."""
    return [m for m in (SUMMARY.search(line) for line in text.splitlines()) if m]


def as_features(record: list[dict]) -> dict[str, str | list[str]]:
    """GetRecord's `Record` as feature name -> ValueAsString or ValueAsStringList."""
    out: dict[str, str | list[str]] = {}
    for feature in record:
        if "ValueAsStringList" in feature:
            out[feature["FeatureName"]] = feature["ValueAsStringList"]
        else:
            out[feature["FeatureName"]] = feature["ValueAsString"]
    return out


def get_records(runtime, group: str, record_ids: list[str], threads: int = 8) -> dict[str, dict | None]:
    """GetRecord for each id (in parallel): id -> its features, or None when the store has no such record."""

    def get(record_id: str):
        response = runtime.get_record(FeatureGroupName=group, RecordIdentifierValueAsString=record_id)
        record = response.get("Record")
        return record_id, as_features(record) if record else None

    with ThreadPoolExecutor(threads) as pool:
        return dict(pool.map(get, record_ids))


def list_record_ids(runtime, group: str) -> list[str]:
    """Every record identifier of the group's online store, through ListRecords' pages."""
    ids: list[str] = []
    for page in runtime.get_paginator("list_records").paginate(FeatureGroupName=group,
                                                                PaginationConfig={"PageSize": 100}):
        ids.extend(page["RecordIdentifiers"])
    return ids


def mismatches(expected: dict[str, dict], actual: dict[str, dict | None], limit: int = 5) -> list[str]:
    """Human-readable differences between expected and stored records (at most `limit`)."""
    problems = []
    for record_id, want in expected.items():
        got = actual.get(record_id)
        if got != want:
            problems.append(f"{record_id}: expected {want}, stored {got}")
            if len(problems) >= limit:
                break
    return problems


def batch_get_records(runtime, group: str, record_ids: list[str], threads: int = 4,
                      per_call: int = 100) -> dict[str, dict]:
    """BatchGetRecord for every id, `per_call` ids per call: id -> features of the records the store has."""

    def get(chunk: list[str]):
        response = runtime.batch_get_record(
            Identifiers=[{"FeatureGroupName": group, "RecordIdentifiersValueAsString": chunk}])
        if response.get("Errors") or response.get("UnprocessedIdentifiers"):
            raise AssertionError(f"BatchGetRecord: {response.get('Errors')} {response.get('UnprocessedIdentifiers')}")
        return [(r["RecordIdentifierValueAsString"], as_features(r["Record"])) for r in response["Records"]]

    chunks = [record_ids[i:i + per_call] for i in range(0, len(record_ids), per_call)]
    found: dict[str, dict] = {}
    with ThreadPoolExecutor(threads) as pool:
        for pairs in pool.map(get, chunks):
            found.update(pairs)
    return found
