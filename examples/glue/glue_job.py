# Glue 5.0 job (Spark 3.5, Scala 2.12, Python 3.11), job parameters:
#   --extra-jars       s3://my-bucket/jars/featurestore-spark_2.12-0.1.0.jar   (python -m featurestore_spark --jar)
#   --extra-py-files   s3://my-bucket/code/seed_features.py                  (examples/processing/seed_features.py)
#   --feature_group_name customer-txn-features  --input s3://my-bucket/transactions/  --output s3://my-bucket/seed/
#   optional: --region, --window_end, --window_days, --max_failed_records, --connector_options '{"maxInFlight": "16"}'
# Run locally: spark-submit --jars "$JAR" --py-files examples/processing/seed_features.py examples/glue/glue_job.py \
#   --feature_group_name customer-txn-features --input /data/transactions --output /tmp/seed-out
"""The seed pipeline as an AWS Glue job: its parameters through awsglue's getResolvedOptions where Glue runs it, a
plain argument parser with the same names anywhere else (spark-submit, the tests); then seed_features.run."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Dict, List, Optional, Sequence

import seed_features

REQUIRED = ["feature_group_name", "input", "output"]
OPTIONAL = ["region", "window_end", "window_days", "max_failed_records", "connector_options", "JOB_NAME"]

try:  # present in Glue's runtime only
    from awsglue.utils import getResolvedOptions
except ImportError:
    getResolvedOptions = None


def resolve(argv: Sequence[str]) -> Dict[str, Optional[str]]:
    """The job's parameters by name (None when not given). getResolvedOptions has no optional parameters, so
    only those present in argv are asked for; Glue adds its own (--job-bookmark-option, ...), which are ignored."""
    if getResolvedOptions is not None:
        present = [name for name in OPTIONAL if f"--{name}" in argv]
        found = getResolvedOptions(list(argv), REQUIRED + present)
    else:
        parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
        for name in REQUIRED:
            parser.add_argument(f"--{name}", required=True)
        for name in OPTIONAL:
            parser.add_argument(f"--{name}")
        found = vars(parser.parse_known_args(list(argv[1:]))[0])
    return {name: found.get(name) for name in REQUIRED + OPTIONAL}


def pipeline_args(params: Dict[str, Optional[str]]) -> seed_features.PipelineArgs:
    options = json.loads(params["connector_options"] or "{}")
    if not isinstance(options, dict):
        raise SystemExit("--connector_options: expected a JSON object of option names to values")
    return seed_features.PipelineArgs(
        feature_group_name=params["feature_group_name"], input=params["input"], output=params["output"],
        region=params["region"], window_end=params["window_end"],
        window_days=int(params["window_days"] or seed_features.DEFAULT_WINDOW_DAYS),
        max_failed_records=int(params["max_failed_records"] or 0),
        options={str(k): str(v) for k, v in options.items()})


def main(argv: List[str]) -> int:
    args = pipeline_args(resolve(argv))
    from pyspark.sql import SparkSession

    # Glue's own GlueContext is not needed: the job is plain Spark DataFrames and one DataSource V2 write.
    spark = SparkSession.builder.appName(f"glue-seed-features-{args.feature_group_name}").getOrCreate()
    seed_features.run(spark, args, "glue_job")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
