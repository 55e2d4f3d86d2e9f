"""The environment every client process starts with: the local store's endpoints, test credentials and the
region, set before any SparkSession or SDK client exists, plus guards that keep every stray request on this
machine."""

import os
import sys
from pathlib import Path

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
# The only credentials any client here has.
ACCESS_KEY_ID = "featurestore-bench"
SECRET_ACCESS_KEY = "featurestore-bench-secret"

# The SageMaker SDK sends telemetry (an HTTPS GET to an S3 bucket, after an STS call) around FeatureGroup
# calls unless this SDK defaults file opts out.
_SAGEMAKER_CONFIG = """\
SchemaVersion: '1.0'
SageMaker:
  PythonSDK:
    Modules:
      TelemetryOptOut: true
"""


def client_env(endpoint: str, scratch: Path) -> dict[str, str]:
    """The environment for a client process talking to the store at `endpoint` (http://127.0.0.1:PORT)."""
    scratch.mkdir(parents=True, exist_ok=True)
    sagemaker_config = scratch / "sagemaker-config.yaml"
    sagemaker_config.write_text(_SAGEMAKER_CONFIG)
    env = dict(os.environ)
    env.update(
        {
            # Both SDK families (boto3, AWS SDK for Java v2, aws-sdk-rust) read these service-specific variables.
            "AWS_ENDPOINT_URL_SAGEMAKER": endpoint,
            "AWS_ENDPOINT_URL_SAGEMAKER_FEATURESTORE_RUNTIME": endpoint,
            # Any other AWS service a client might reach for (STS, S3) goes to the local store too, which answers
            # it with an error instead of the request leaving the machine.
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
            "AWS_EC2_METADATA_DISABLED": "true",
            # No shared config or credentials files of the user's: the test credentials above are the only ones.
            "AWS_CONFIG_FILE": str(scratch / "aws-config-none"),
            "AWS_SHARED_CREDENTIALS_FILE": str(scratch / "aws-credentials-none"),
            "SAGEMAKER_ADMIN_CONFIG_OVERRIDE": str(sagemaker_config),
            "SAGEMAKER_USER_CONFIG_OVERRIDE": str(sagemaker_config),
            # A request to any other host through a client that honours these (requests, urllib) fails on a
            # closed local port.
            "HTTPS_PROXY": "http://127.0.0.1:9",
            "HTTP_PROXY": "http://127.0.0.1:9",
            "NO_PROXY": "127.0.0.1,localhost",
            "SPARK_LOCAL_IP": "127.0.0.1",
            "SAGEMAKER_SUPPRESS_V2_WARNING": "1",
            "PYSPARK_PYTHON": os.environ.get("PYSPARK_PYTHON", sys.executable),
        }
    )
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE"):
        env.pop(name, None)
    return env

