# Run: PYTHONPATH=python spark-submit --jars featurestore-spark_2.12-0.1.0.jar examples/pyspark/create_feature_group.py --feature-group products --endpoint http://127.0.0.1:8642
"""Creates a feature group from a DataFrame's columns, then writes the DataFrame to it: a PySpark job.

The DataFrame (synthetic products, --rows of them) holds a string id, a timestamp event time, integers, a decimal
price, a double, a boolean, a date and two arrays: featurestore_spark.feature_definitions shows the definitions
its columns map to, create_feature_group creates the group with them (an InMemory online store, which collection
features need; an offline store with --offline-store-uri) and waits until it is Created; the write then takes the
same DataFrame. Exit code 0 only when every row was written.
"""

from __future__ import annotations

import argparse
import json
import sys


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feature-group", required=True, help="name of the feature group to create")
    parser.add_argument("--rows", type=int, default=100, help="synthetic products to write")
    parser.add_argument("--offline-store-uri", help="also an offline store at this s3:// URI")
    parser.add_argument("--role-arn", help="the role the service uses for the offline store (SageMaker needs one)")
    parser.add_argument("--endpoint", help="Feature Store endpoint URL (control plane and runtime), e.g. a local store")
    parser.add_argument("--region", help="AWS region (default: the AWS default chain)")
    return parser.parse_args(argv)


def products(spark, rows: int):
    """Product n: id p-n, priced at n + 0.99, in stock when n is even, with tags and a 4-number embedding."""
    return spark.range(0, rows).selectExpr(
        "format_string('p-%05d', id) AS product_id",
        "timestamp_seconds(1767225600 + id) AS event_time",  # 2026-01-01T00:00:00Z on
        "CAST(id % 500 AS INT) AS stock",
        "CAST(id + 0.99 AS DECIMAL(10, 2)) AS price",
        "id / 8.0D AS rating",
        "id % 2 = 0 AS in_stock",
        "date_add(DATE '2025-01-01', CAST(id % 365 AS INT)) AS listed_on",
        "array('tag-' || (id % 3), 'tag-' || (id % 5)) AS tags",
        "array(CAST(id AS FLOAT), 0.5F, -1.0F, 2.25F) AS embedding",
    )


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    from pyspark.sql import SparkSession

    from featurestore_spark.feature_groups import create_feature_group, feature_definitions

    spark = SparkSession.builder.appName(f"create-feature-group-{args.feature_group}").getOrCreate()
    try:
        options = {}
        if args.endpoint:
            options.update(runtimeEndpoint=args.endpoint, controlEndpoint=args.endpoint)
        if args.region:
            options["region"] = args.region
        frame = products(spark, args.rows)
        collections = {"embedding": "Vector(4)"}
        for definition in feature_definitions(frame, event_time="event_time", collection_types=collections):
            print(f"create_feature_group: {json.dumps(definition)}", flush=True)

        described = create_feature_group(
            args.feature_group, frame, record_identifier="product_id", event_time="event_time",
            storage_type="InMemory", offline_store_s3_uri=args.offline_store_uri, role_arn=args.role_arn,
            description="products, created from a DataFrame", collection_types=collections, options=options)
        print(f"create_feature_group: {described['FeatureGroupArn']} is {described['FeatureGroupStatus']}",
              flush=True)

        frame.write.format("featurestore").option("featureGroupName", args.feature_group) \
            .options(**options).mode("append").save()  # the connector prints its summary line
        summary = spark.sparkContext._jvm.featurestore.spark.WriteSummaries.last(args.feature_group).get()
        print(f"create_feature_group: {summary.written()} of {args.rows} products written to "
              f"{args.feature_group}", flush=True)
        return 0 if summary.written() == args.rows else 1
    finally:
        spark.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
