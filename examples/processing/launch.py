# Run: python examples/processing/launch.py --role arn:aws:iam::111122223333:role/SageMakerProcessing \
#        --input s3://my-bucket/transactions/ --output s3://my-bucket/seed-features/ \
#        --feature-group-name customer-txn-features --instance-count 2
#      (needs: pip install sagemaker featurestore-spark)
"""Starts the seed pipeline (processing_job.py) as a SageMaker Processing job with the SageMaker SDK's
PySparkProcessor: the connector's jar from the featurestore-spark package as submit_jars, seed_features.py as
submit_py_files, the input sharded by S3 key over the instances, the output directory uploaded to S3.

Local paths (the jar, the scripts) are uploaded by the SDK to the session's default bucket; s3:// URIs are used
as they are. --option NAME=VALUE is passed through to the connector; --wait follows the job's logs.

With --instance-count N > 1, PySparkProcessor makes the instances one Spark cluster (YARN) whose driver runs on the
first: its files under /opt/ml/processing/input are the only ones listed, and executors on the other instances do
not have them. Sharded local input fits a script run once per instance; for one Spark job over many instances
pass --read-s3-directly, which gives the script the s3:// prefix to read instead of copying files.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, List, Optional, Sequence

HERE = Path(__file__).resolve().parent
INPUT_DIR = "/opt/ml/processing/input/transactions"
OUTPUT_DIR = "/opt/ml/processing/output"


def default_jar() -> Optional[str]:
    """The connector's jar for the processing container's Spark (3.5, Scala 2.12) from the installed package."""
    try:
        from featurestore_spark import jar_path
    except ImportError:
        return None
    return jar_path("3.5")


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--role", required=True, help="the execution role's ARN")
    parser.add_argument("--input", required=True, help="s3:// prefix of the transaction files")
    parser.add_argument("--output", required=True, help="s3:// prefix for the summaries and failed records")
    parser.add_argument("--feature-group-name", required=True)
    parser.add_argument("--region", help="the feature group's region (default: the session's)")
    parser.add_argument("--instance-type", default="ml.m5.xlarge")
    parser.add_argument("--instance-count", type=int, default=2)
    parser.add_argument("--framework-version", default="3.5", help="the Spark version of the processing image")
    parser.add_argument("--jar", default=default_jar(), help="connector jar, local or s3:// (default: the package's)")
    parser.add_argument("--code", default=str(HERE / "processing_job.py"), help="the script, local or s3://")
    parser.add_argument("--py-file", default=str(HERE / "seed_features.py"), help="the transforms, local or s3://")
    parser.add_argument("--window-end", help="ISO-8601 (default: when the job runs)")
    parser.add_argument("--window-days", type=int, default=7)
    parser.add_argument("--option", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--read-s3-directly", action="store_true",
                        help="no ProcessingInput: the script reads --input from S3 itself (see above)")
    parser.add_argument("--job-name")
    parser.add_argument("--wait", action="store_true", help="wait for the job and print its logs")
    args = parser.parse_args(argv)
    if not args.jar:
        parser.error("--jar is needed: featurestore-spark is not installed here (pip install featurestore-spark)")
    return args


def script_arguments(args: argparse.Namespace, region: str) -> List[str]:
    """processing_job.py's arguments: the instance's local input and output paths, the rest as given."""
    out = ["--feature-group-name", args.feature_group_name, "--region", args.region or region,
           "--input", args.input if args.read_s3_directly else INPUT_DIR, "--output", OUTPUT_DIR,
           "--window-days", str(args.window_days)]
    if args.window_end:
        out += ["--window-end", args.window_end]
    for option in args.option:
        out += ["--option", option]
    return out


def launch(args: argparse.Namespace, session: Any = None) -> Any:
    """Builds the PySparkProcessor and starts the job; returns the processor (its latest_job is the job).
    `session` is a sagemaker.Session (default: one from the AWS default chain)."""
    from sagemaker.processing import ProcessingInput, ProcessingOutput
    from sagemaker.session import Session
    from sagemaker.spark.processing import PySparkProcessor

    session = session or Session()
    processor = PySparkProcessor(
        role=args.role, framework_version=args.framework_version, instance_type=args.instance_type,
        instance_count=args.instance_count, sagemaker_session=session, base_job_name="seed-features")
    processor.run(
        submit_app=args.code, submit_jars=[args.jar], submit_py_files=[args.py_file],
        inputs=[] if args.read_s3_directly else [
            ProcessingInput(source=args.input, destination=INPUT_DIR, input_name="transactions",
                            # Each instance gets its own part of the keys (see seed_features.py on when per-shard
                            # aggregates are right).
                            s3_data_distribution_type="ShardedByS3Key")],
        outputs=[ProcessingOutput(source=OUTPUT_DIR, destination=args.output, output_name="summary")],
        arguments=script_arguments(args, session.boto_region_name), job_name=args.job_name, wait=args.wait,
        logs=args.wait)
    return processor


def main(argv: Sequence[str]) -> int:
    processor = launch(parse_args(argv))
    print(f"started processing job {processor.latest_job.job_name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
