"""featurestore-local for the Spark tests, the e2e bench script and the examples' tests: the store of
tests/local/fslocal.py (the release binary on a free port of 127.0.0.1, its admin API, boto3 clients), plus the
environment that points a Spark job at it and CreateFeatureGroup as these tests call it.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from botocore.config import Config

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "local"))

import fslocal  # noqa: E402

ROOT = fslocal.ROOT
CHECK_SIGNATURES = fslocal.CHECK_SIGNATURES

# Test credentials and region: every client here signs with these and talks to 127.0.0.1 only.
TEST_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": fslocal.CREDENTIALS["aws_access_key_id"],
    "AWS_SECRET_ACCESS_KEY": fslocal.CREDENTIALS["aws_secret_access_key"],
    "AWS_REGION": fslocal.REGION,
    "AWS_DEFAULT_REGION": fslocal.REGION,
}
# Read-back after a job: one retry for a dropped connection, a pool for the tests' threads.
READ_BACK = Config(retries={"max_attempts": 2, "mode": "standard"}, max_pool_connections=16)


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


# scripts/lib.sh chooses the JDK; run the tests through their stage script (or set JAVA_HOME).
JAVA_HOME = os.environ.get("JAVA_HOME", "")


def spark_env(endpoint: str) -> dict[str, str]:
    """What a Spark process (driver, master, worker, executor) needs in its environment for these tests."""
    return {
        **aws_env(endpoint),
        "JAVA_HOME": JAVA_HOME,
        "SPARK_LOCAL_IP": "127.0.0.1",
        "SPARK_LOCAL_HOSTNAME": "localhost",
        "PYSPARK_PYTHON": sys.executable,
        "PYSPARK_DRIVER_PYTHON": sys.executable,
    }


class LocalStore(fslocal.LocalStore):
    def client(self, service: str, config: Config = READ_BACK):
        """A boto3 client for `service` ("sagemaker" or "sagemaker-featurestore-runtime") on this store."""
        return super().client(service, config)

    def records_written(self) -> int:
        """Records the store accepted since its start or the last reset, over both write APIs."""
        return sum(self.stats().get("records_written", {}).values())

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
