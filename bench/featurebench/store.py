"""featurestore-local as the benchmark uses it: one process per run (a fresh store, so every client meets the
same empty store), optionally pinned to a CPU, started by the launcher every harness uses (tests/local/fslocal.py);
its admin API (faults, stats) and the control plane calls the harness makes itself (CreateFeatureGroup)."""

import json
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import boto3
from botocore.config import Config

from . import dataset
from .env import ACCESS_KEY_ID, REGION, SECRET_ACCESS_KEY

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "local"))
import fslocal  # noqa: E402

# The admin API is on 127.0.0.1: never through a proxy, whatever the environment says.
_ADMIN = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class LocalStore:
    """A running featurestore-local (`with LocalStore(...) as store:` stops it and removes its data)."""

    def __init__(self, binary: Path, data_dir: Path, log_path: Path, cpus: set[int] | None,
                 check_signatures: bool = False):  # fmt: skip
        """`check_signatures`: the store verifies every request's SigV4 signature against the benchmark's
        credentials (the smoke runs do: every client's signer checked; the timed runs do not, as it costs the
        store CPU)."""
        self.data_dir = data_dir
        shutil.rmtree(data_dir, ignore_errors=True)
        flags = ("--credentials", f"{ACCESS_KEY_ID}:{SECRET_ACCESS_KEY}") if check_signatures else ()
        self._store = fslocal.LocalStore.start(
            data_dir, *flags, binary=binary, log_path=log_path, log_level="warn", cpus=cpus
        )
        self.process = self._store.process
        self.endpoint = self._store.endpoint
        self._control = boto3.client(
            "sagemaker",
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY_ID,
            aws_secret_access_key=SECRET_ACCESS_KEY,
            config=Config(retries={"max_attempts": 1}, proxies={}),
        )

    def __enter__(self) -> "LocalStore":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        try:
            self._store.stop(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.data_dir, ignore_errors=True)

    def _admin(self, method: str, path: str, body: dict | None = None) -> dict:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{self.endpoint}/_local/{path}", data=data, method=method)
        with _ADMIN.open(request, timeout=30) as response:
            return json.load(response)

    def set_latency(self, latency_ms: int) -> None:
        """Adds `latency_ms` to every runtime request (PutRecord, BatchWriteRecord, ...), no other fault."""
        self._admin("PUT", "faults", {"latency_ms": latency_ms})

    def set_faults(self, latency_ms: int, max_records_per_second: float | None = None,
                   discard_writes: bool = False) -> None:  # fmt: skip
        """Adds `latency_ms` to every runtime request and, when given, caps the records written per second
        store-wide (one second of burst; beyond it whole requests get ThrottlingException); with
        `discard_writes`, writes are validated and acknowledged but not stored; no other fault. The admin API
        replaces every fault at once, so the latency is restated with each cap."""
        faults: dict = {"latency_ms": latency_ms, "discard_writes": discard_writes}
        if max_records_per_second is not None:
            faults["max_records_per_second"] = max_records_per_second
        self._admin("PUT", "faults", faults)

    def stats(self) -> dict:
        return self._admin("GET", "stats")

    def reset_stats(self) -> None:
        self._admin("POST", "stats/reset")

    def create_group(self, name: str) -> str:
        """Creates a feature group with the benchmark's features and an online store only; returns its ARN."""
        response = self._control.create_feature_group(
            FeatureGroupName=name,
            RecordIdentifierFeatureName=dataset.RECORD_ID,
            EventTimeFeatureName=dataset.EVENT_TIME,
            FeatureDefinitions=dataset.feature_definitions(),
            OnlineStoreConfig={"EnableOnlineStore": True},
        )
        return response["FeatureGroupArn"]


def records_received(stats: dict) -> int:
    """Records the store accepted, over every write operation."""
    return sum(stats.get("records_written", {}).values())


def write_counters(stats: dict, group: str | None = None) -> tuple[int, int, int]:
    """(records written, write requests, requests throttled) from a stats snapshot: the group's own counters
    when the store reports them (`by_group`), else the store-wide ones (PutRecord and BatchWriteRecord)."""
    mine = stats.get("by_group", {}).get(group) if group else None
    if mine is not None:
        return _total(mine.get("records_written", 0)), _total(mine.get("requests", 0)), mine.get("throttled", 0)
    by_operation = stats.get("requests_by_operation", {})
    writes = by_operation.get("PutRecord", 0) + by_operation.get("BatchWriteRecord", 0)
    return records_received(stats), writes, stats.get("throttled", 0)


def _total(counter: int | dict) -> int:
    """A counter, or the sum of one kept by operation."""
    return sum(counter.values()) if isinstance(counter, dict) else counter
