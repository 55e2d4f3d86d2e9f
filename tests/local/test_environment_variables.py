"""Unmodified boto3 code reaches the store through the standard variables AWS_ENDPOINT_URL_SAGEMAKER and
AWS_ENDPOINT_URL_SAGEMAKER_FEATURESTORE_RUNTIME, in a process that has nothing else pointing at it."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

# Code as an application would write it: no endpoint_url, no credentials, no region in the code.
APPLICATION = textwrap.dedent(
    """
    import boto3

    sagemaker = boto3.client("sagemaker")
    runtime = boto3.client("sagemaker-featurestore-runtime")
    sagemaker.create_feature_group(
        FeatureGroupName="from-env",
        RecordIdentifierFeatureName="id",
        EventTimeFeatureName="ts",
        FeatureDefinitions=[{"FeatureName": "id", "FeatureType": "String"}, {"FeatureName": "ts", "FeatureType": "String"}],
        OnlineStoreConfig={"EnableOnlineStore": True},
    )
    runtime.put_record(
        FeatureGroupName="from-env",
        Record=[{"FeatureName": "id", "ValueAsString": "e1"}, {"FeatureName": "ts", "ValueAsString": "2024-01-01T00:00:00Z"}],
    )
    print(runtime.get_record(FeatureGroupName="from-env", RecordIdentifierValueAsString="e1")["Record"][0]["ValueAsString"])
    print(sagemaker.describe_feature_group(FeatureGroupName="from-env")["FeatureGroupArn"])
    """
)


def test_unmodified_boto3_code_uses_the_endpoint_variables(store, tmp_path):
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "AWS_ENDPOINT_URL_SAGEMAKER": store.endpoint,
        "AWS_ENDPOINT_URL_SAGEMAKER_FEATURESTORE_RUNTIME": store.endpoint,
        "AWS_ACCESS_KEY_ID": "AKIDFROMENV",
        "AWS_SECRET_ACCESS_KEY": "secret-from-env",
        # boto3 reads AWS_DEFAULT_REGION; the Rust and Java SDKs read AWS_REGION.
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    before = store.stats()["requests"]
    done = subprocess.run([sys.executable, "-c", APPLICATION], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["e1", "arn:aws:sagemaker:us-east-1:123456789012:feature-group/from-env"]
    # Four calls, all answered by this store.
    assert store.stats()["requests"] - before == 4
