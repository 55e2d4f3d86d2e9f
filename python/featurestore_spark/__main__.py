"""python -m featurestore_spark --version | --jar [--spark-version V] | --options: for shell scripts, e.g.

    spark-submit --jars "$(python -m featurestore_spark --jar)" job.py
"""

from __future__ import annotations

import argparse
import sys
from typing import List, Optional

from . import __version__
from ._jars import UnsupportedSparkError, jar_path
from ._options import FEATURE_GROUP, OPTIONS, describe


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m featurestore_spark", description=__doc__.splitlines()[0])
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--version", action="store_true", help="print the package's (and the connector's) version")
    what.add_argument("--jar", action="store_true", help="print the path of the connector jar for the Spark in use")
    what.add_argument("--options", action="store_true", help="list ingest's options (Python names)")
    parser.add_argument("--spark-version", help="the Spark the jar is for (default: the installed pyspark's)")
    args = parser.parse_args(argv)
    if args.version:
        print(__version__)
    elif args.jar:
        try:
            print(jar_path(args.spark_version))
        except (UnsupportedSparkError, FileNotFoundError) as error:
            print(f"featurestore_spark: {error}", file=sys.stderr)
            return 1
    else:
        print("ingest(df, feature_group, **options) takes these options:")
        print(describe(spec for spec in OPTIONS.values() if spec is not FEATURE_GROUP))
    return 0


if __name__ == "__main__":
    sys.exit(main())
