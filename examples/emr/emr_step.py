# EMR step (EMR 7.x: Spark 3.5, Scala 2.12), added with `aws emr add-steps` (see examples/README.md):
#   spark-submit --deploy-mode cluster --jars s3://my-bucket/jars/featurestore-spark_2.12-0.1.0.jar \
#     --py-files s3://my-bucket/code/seed_features.py s3://my-bucket/code/emr_step.py \
#     --feature-group-name customer-txn-features --input s3://my-bucket/transactions/ --output s3://my-bucket/seed/
# or, with bootstrap.sh as a bootstrap action (pip install featurestore-spark on every node):
#   spark-submit --jars /usr/local/lib/featurestore-spark.jar ...
"""The seed pipeline as an EMR step: the same command line as the Processing script (seed_features'
arguments), the input and output usually s3:// URIs; then seed_features.run."""

from __future__ import annotations

import sys

import seed_features

if __name__ == "__main__":
    sys.exit(seed_features.main(sys.argv[1:], "emr_step", __doc__.splitlines()[0]))
