#!/usr/bin/env bash
# EMR bootstrap action: installs the featurestore-spark package on every node and links its jar (the one for the
# node's Spark 3.5 / Scala 2.12) to a fixed path, so that a step can pass --jars /usr/local/lib/featurestore-spark.jar.
# Pass a version as the first argument to pin it (recommended), e.g. 0.1.0.
set -euo pipefail
spec="featurestore-spark${1:+==$1}"
sudo python3 -m pip install --quiet "$spec"
sudo ln -sf "$(python3 -m featurestore_spark --jar --spark-version 3.5)" /usr/local/lib/featurestore-spark.jar
