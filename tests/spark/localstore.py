"""The real featurestore-local on a free port of 127.0.0.1, and boto3 clients pointed at it.

Used by the tests, the bench script and the main job: starts the release binary, waits for its one ready line,
and talks to it with the real SDK (control plane and runtime) or its admin API (`/_local/...`).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BINARY = ROOT / "target" / "release" / "featurestore-local"
READY = re.compile(r"featurestore-local listening on (http://127\.0\.0\.1:\d+)")

# Test credentials and region: every client here signs with these and talks to 127.0.0.1 only.
TEST_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "AKIDLOCALTEST",
    "AWS_SECRET_ACCESS_KEY": "local-test-secret",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def aws_env(endpoint: str) -> dict[str, str]:
    """Environment for any process that must talk to `endpoint` only (SDKs and the connector read these)."""
    env = dict(TEST_CREDENTIALS)
    env.update(
        {
            "AWS_ENDPOINT_URL_SAGEMAKER": endpoint,
            "AWS_ENDPOINT_URL_SAGEMAKER_FEATURESTORE_RUNTIME": endpoint,
            # No shared config or instance metadata lookups: nothing but the values above.
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
        }
    )
    return env


@dataclass
class LocalStore:
    process: subprocess.Popen
    endpoint: str
    data_dir: Path
    log_path: Path

    @classmethod
    def start(cls, data_dir: Path, *extra_args: str, binary: Path = BINARY) -> "LocalStore":
        if not os.access(binary, os.X_OK):
            raise RuntimeError(f"{binary} is missing: cargo build --release --locked -p featurestore-local")
        data_dir.mkdir(parents=True, exist_ok=True)
        log_path = data_dir.with_name(data_dir.name + ".log")
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                [str(binary), "--host", "127.0.0.1", "--port", "0", "--data-dir", str(data_dir), *extra_args],
                stdout=subprocess.PIPE,
                stderr=log,
                env={**os.environ, "RUST_LOG": os.environ.get("RUST_LOG", "warn")},
            )
        assert process.stdout is not None
        first = process.stdout.readline().decode("utf-8", "replace")
        match = READY.search(first)
        if not match:
            process.kill()
            process.wait()
            raise RuntimeError(f"featurestore-local did not start (first line {first!r}; log {log_path})")
        return cls(process, match.group(1), data_dir, log_path)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout:
            self.process.stdout.close()

    # --- the admin API ---------------------------------------------------------------------------------------

    def _admin(self, method: str, path: str, body: dict | None = None) -> dict:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.endpoint}/_local/{path}", data=data, method=method)
        request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    def stats(self) -> dict:
        return self._admin("GET", "stats")

    def reset_stats(self) -> dict:
        return self._admin("POST", "stats/reset")

    def set_faults(self, faults: dict) -> dict:
        return self._admin("PUT", "faults", faults)

    def records_written(self) -> int:
        """Records the store accepted since its start or the last reset, over both write APIs."""
        return sum(self.stats().get("records_written", {}).values())

    # --- the real SDK -----------------------------------------------------------------------------------------

    def client(self, service: str):
        """A boto3 client for `service` ("sagemaker" or "sagemaker-featurestore-runtime") on this store."""
        import boto3
        from botocore.config import Config

        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name=TEST_CREDENTIALS["AWS_REGION"],
            aws_access_key_id=TEST_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=TEST_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            config=Config(retries={"max_attempts": 2, "mode": "standard"}, max_pool_connections=16),
        )

    def create_feature_group(self, name: str, record_identifier: str, event_time: str,
                             definitions: list[dict], storage_type: str = "Standard") -> None:
        """CreateFeatureGroup with an online store, then waits until it is Created."""
        sagemaker = self.client("sagemaker")
        sagemaker.create_feature_group(
            FeatureGroupName=name,
            RecordIdentifierFeatureName=record_identifier,
            EventTimeFeatureName=event_time,
            FeatureDefinitions=definitions,
            OnlineStoreConfig={"EnableOnlineStore": True, "StorageType": storage_type},
        )
        deadline = time.monotonic() + 30
        while sagemaker.describe_feature_group(FeatureGroupName=name)["FeatureGroupStatus"] != "Created":
            if time.monotonic() > deadline:
                raise RuntimeError(f"feature group {name} was not Created within 30 s")
            time.sleep(0.1)
