# Run: spark-submit --jars "$(python -m featurestore_spark --jar)" --py-files examples/processing/seed_features.py \
#        examples/processing/processing_job.py --feature-group-name customer-txn-features --region us-east-1 \
#        --input /opt/ml/processing/input/transactions --output /opt/ml/processing/output
"""The seed pipeline as a SageMaker Processing script: per-customer features from the transactions (CSV and
Parquet files) under /opt/ml/processing/input, written to a feature group; the summary and failed records to
/opt/ml/processing/output, which Processing uploads when the job ends.

launch.py starts it as a Processing job (PySparkProcessor). Each instance reads the files under its --input: with
ShardedByS3Key, its shard of the S3 keys. seed_features.py holds the transforms (shipped with submit_py_files).
Connector options are passed through with --option NAME=VALUE.
"""

from __future__ import annotations

import sys

import seed_features

if __name__ == "__main__":
    sys.exit(seed_features.main(sys.argv[1:], "processing_job", __doc__.splitlines()[0]))
