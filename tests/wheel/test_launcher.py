"""examples/processing/launch.py with the pinned SageMaker SDK (bench/requirements.txt's sagemaker, installed by
stage 55): the CreateProcessingJob request the SDK builds, captured by botocore's Stubber on a client with test
credentials that could not reach AWS anyway (its endpoint is a closed port on 127.0.0.1)."""

from __future__ import annotations

import sys
from typing import Any

import boto3
from botocore.stub import Stubber

import featurestore_spark

from localstore import ROOT

sys.path.insert(0, str(ROOT / "examples" / "processing"))

import launch  # noqa: E402

JAR = "s3://seed-bucket/jars/featurestore-spark_2.12-0.1.0.jar"
ARGS = ["--role", "arn:aws:iam::111122223333:role/SeedProcessing", "--input", "s3://seed-bucket/transactions/",
        "--output", "s3://seed-bucket/seed-out/", "--feature-group-name", "customer-txn-features",
        "--instance-type", "ml.m5.2xlarge", "--instance-count", "3", "--window-days", "14",
        "--jar", JAR, "--code", "s3://seed-bucket/code/processing_job.py",
        "--py-file", "s3://seed-bucket/code/seed_features.py", "--option", "maxInFlight=16", "--job-name", "seed-1"]


def captured_request(argv: list[str]) -> dict[str, Any]:
    """Runs the launcher with `argv` on a stubbed SageMaker client; returns CreateProcessingJob's parameters.
    The Stubber answers the one call it expects and fails on any other (an upload would need S3: none here)."""
    boto = boto3.Session(aws_access_key_id="test", aws_secret_access_key="test", region_name="eu-west-1")
    client = boto.client("sagemaker", endpoint_url="http://127.0.0.1:9")
    requests: list[dict] = []
    client.meta.events.register("provide-client-params.sagemaker.CreateProcessingJob",
                                lambda params, **_: requests.append(dict(params)))
    from sagemaker.session import Session

    with Stubber(client) as stub:
        stub.add_response("create_processing_job",
                          {"ProcessingJobArn": "arn:aws:sagemaker:eu-west-1:111122223333:processing-job/seed-1"})
        session = Session(boto_session=boto, sagemaker_client=client, default_bucket="seed-bucket")
        processor = launch.launch(launch.parse_args(argv), session)
        stub.assert_no_pending_responses()
    assert processor.latest_job.job_name == "seed-1"
    [request] = requests
    return request


def test_the_request_runs_the_script_with_the_jar_on_sharded_inputs():
    request = captured_request(ARGS)
    assert request["ProcessingResources"]["ClusterConfig"]["InstanceType"] == "ml.m5.2xlarge"
    assert request["ProcessingResources"]["ClusterConfig"]["InstanceCount"] == 3
    app = request["AppSpecification"]
    assert "sagemaker-spark-processing:3.5-cpu" in app["ImageUri"]
    entry = app["ContainerEntrypoint"]
    assert entry[0] == "smspark-submit" and entry[-1] == "/opt/ml/processing/input/code/processing_job.py"
    assert entry[entry.index("--jars") + 1] == JAR
    assert entry[entry.index("--py-files") + 1] == "s3://seed-bucket/code/seed_features.py"
    assert app["ContainerArguments"] == [
        "--feature-group-name", "customer-txn-features", "--region", "eu-west-1",
        "--input", "/opt/ml/processing/input/transactions", "--output", "/opt/ml/processing/output",
        "--window-days", "14", "--option", "maxInFlight=16"]
    inputs = {i["InputName"]: i["S3Input"] for i in request["ProcessingInputs"]}
    assert inputs["transactions"]["S3Uri"] == "s3://seed-bucket/transactions/"
    assert inputs["transactions"]["LocalPath"] == "/opt/ml/processing/input/transactions"
    assert inputs["transactions"]["S3DataDistributionType"] == "ShardedByS3Key"
    assert inputs["code"]["S3Uri"] == "s3://seed-bucket/code/processing_job.py"
    [output] = request["ProcessingOutputConfig"]["Outputs"]
    assert output["S3Output"]["S3Uri"] == "s3://seed-bucket/seed-out/"
    assert output["S3Output"]["LocalPath"] == "/opt/ml/processing/output"


def test_read_s3_directly_gives_the_script_the_prefix_and_copies_nothing():
    request = captured_request([*ARGS, "--read-s3-directly"])
    assert [i["InputName"] for i in request["ProcessingInputs"]] == ["code"]
    arguments = request["AppSpecification"]["ContainerArguments"]
    assert arguments[arguments.index("--input") + 1] == "s3://seed-bucket/transactions/"


def test_the_default_jar_is_the_installed_packages_for_spark_3_5():
    argv = [a for i, a in enumerate(ARGS) if a != "--jar" and ARGS[i - 1] != "--jar"]
    assert launch.parse_args(argv).jar == featurestore_spark.jar_path("3.5")
    assert launch.parse_args(argv).jar.endswith(".jar") and "_2.12-" in launch.parse_args(argv).jar

