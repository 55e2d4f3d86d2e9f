"""featurestore-local as every harness starts it (the store's tests, the Spark tests, the benchmarks, and the JVM
suites through `serve`): the release binary on a free port of 127.0.0.1 with a data directory, waited for until
it prints its ready line; boto3 clients (from the pinned venv) pointed at it, its admin API, and feature groups
and records to write.

    python tests/local/fslocal.py serve --data-dir DIR    prints the endpoint once ready, stops on SIGTERM
"""

from __future__ import annotations

import json
import os
import re
import select
import signal
import subprocess
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import boto3
from botocore.config import Config

ROOT = Path(__file__).resolve().parents[2]
BINARY = Path(os.environ.get("FEATURESTORE_LOCAL_BIN", ROOT / "target" / "release" / "featurestore-local"))
READY = re.compile(r"^featurestore-local listening on (http://127\.0\.0\.1:(\d+))\n$")
REGION = "us-east-1"
ACCOUNT = "123456789012"
CREDENTIALS = {"aws_access_key_id": "AKIDLOCALTEST", "aws_secret_access_key": "local-test-secret"}
# The flags that make the store check every request's SigV4 signature against CREDENTIALS, as the service does.
CHECK_SIGNATURES = ("--credentials", f"{CREDENTIALS['aws_access_key_id']}:{CREDENTIALS['aws_secret_access_key']}")
# One attempt, so that each test sees exactly the error the store answered.
NO_RETRIES = Config(retries={"total_max_attempts": 1, "mode": "standard"})


@dataclass
class LocalStore:
    """A running featurestore-local process."""

    process: subprocess.Popen
    endpoint: str
    data_dir: Path
    log_path: Path
    _clients: dict = field(default_factory=dict)

    @classmethod
    def start(
        cls,
        data_dir: Path,
        *args: str,
        port: int = 0,
        timeout: float = 30.0,
        binary: Path = BINARY,
        log_path: Path | None = None,
        log_level: str | None = None,
        cpus: set[int] | None = None,
    ) -> "LocalStore":
        """Starts the store on `port` (0: a free one) with `data_dir` and more flags, its log in `log_path`
        (default: next to the data directory) at `log_level` (default: $RUST_LOG, else info), pinned to `cpus`
        if given; waits for its ready line."""
        if not os.access(binary, os.X_OK):
            raise RuntimeError(f"{binary} is missing: cargo build --release --locked -p featurestore-local")
        data_dir.mkdir(parents=True, exist_ok=True)
        log_path = log_path or data_dir.parent / f"{data_dir.name}.log"
        with open(log_path, "ab") as log:
            process = subprocess.Popen(
                [str(binary), "--port", str(port), "--data-dir", str(data_dir), *args],
                stdout=subprocess.PIPE,
                stderr=log,
                env={**os.environ, "RUST_LOG": log_level or os.environ.get("RUST_LOG", "info")},
                preexec_fn=(lambda: os.sched_setaffinity(0, cpus)) if cpus else None,
            )
        ready, _, _ = select.select([process.stdout], [], [], timeout)
        line = process.stdout.readline().decode() if ready else ""
        match = READY.match(line)
        if not match:
            process.kill()
            process.wait()
            raise RuntimeError(f"no ready line from featurestore-local (got {line!r}); see {log_path}")
        return cls(process, match.group(1), data_dir, log_path)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int:
        """Sends `sig` and waits; returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
        code = self.process.wait(timeout=timeout)
        # Nothing more may be printed on stdout after the ready line.
        assert self.process.stdout.read() == b""
        return code

    def client(self, service: str, config: Config = NO_RETRIES):
        key = (service, id(config))
        if key not in self._clients:
            self._clients[key] = boto3.client(
                service, endpoint_url=self.endpoint, region_name=REGION, config=config, **CREDENTIALS
            )
        return self._clients[key]

    @property
    def sagemaker(self):
        return self.client("sagemaker")

    @property
    def runtime(self):
        return self.client("sagemaker-featurestore-runtime")

    def admin(self, method: str, path: str, body=None) -> tuple[int, dict]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.endpoint}/_local/{path}", data=data, method=method)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    def set_faults(self, **faults) -> None:
        status, body = self.admin("PUT", "faults", faults)
        assert status == 200, body

    def stats(self) -> dict:
        status, body = self.admin("GET", "stats")
        assert status == 200, body
        return body

    def flush(self) -> dict:
        status, body = self.admin("POST", "flush")
        assert status == 200, body
        return body

    def log(self) -> str:
        return self.log_path.read_text()


def features(*pairs: tuple[str, str]) -> list[dict]:
    return [{"FeatureName": n, "FeatureType": t} for n, t in pairs]


STANDARD_FEATURES = features(
    ("id", "String"), ("ts", "String"), ("count", "Integral"), ("score", "Fractional"), ("label", "String")
)


def create_group(store: LocalStore, name: str, *, offline: bool = True, online: dict | None = None, **extra) -> dict:
    """Creates a group (defaults: the standard features, online and offline stores); returns Describe's answer."""
    request = {
        "FeatureGroupName": name,
        "RecordIdentifierFeatureName": "id",
        "EventTimeFeatureName": "ts",
        "FeatureDefinitions": STANDARD_FEATURES,
        "OnlineStoreConfig": online if online is not None else {"EnableOnlineStore": True},
        **extra,
    }
    if offline:
        request.setdefault("OfflineStoreConfig", {"S3StorageConfig": {"S3Uri": "s3://test-bucket/offline"}})
    store.sagemaker.create_feature_group(**request)
    return store.sagemaker.describe_feature_group(FeatureGroupName=name)


def record(id: str = "r1", ts: str = "2024-05-01T10:00:00Z", count: str = "1", **more: str) -> list[dict]:
    values = {"id": id, "ts": ts, "count": count, "score": "0.5", "label": "x", **more}
    return [{"FeatureName": k, "ValueAsString": v} for k, v in values.items()]


def as_dict(record: list[dict]) -> dict:
    return {v["FeatureName"]: v.get("ValueAsString", v.get("ValueAsStringList")) for v in record}


def serve(data_dir: Path) -> None:
    """Runs a store for a harness in another language: prints its endpoint, stops it on SIGTERM or SIGINT."""
    store = LocalStore.start(data_dir)
    stopping = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.append(True))
    print(store.endpoint, flush=True)
    while not stopping:
        try:
            store.process.wait(timeout=0.5)
            break
        except subprocess.TimeoutExpired:
            pass
    store.stop()


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["serve"])
    parser.add_argument("--data-dir", type=Path, required=True)
    serve(parser.parse_args().data_dir)
