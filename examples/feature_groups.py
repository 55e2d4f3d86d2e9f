# Run: python examples/feature_groups.py --endpoint http://127.0.0.1:8642 customers clicks   (needs boto3)
"""Creates the examples' feature groups (if they do not exist yet) with boto3's CreateFeatureGroup.

Against the local store pass --endpoint; without it boto3 uses its default chain and the region's endpoint.
"""

from __future__ import annotations

import argparse
import sys
import time

# The examples' feature groups. `customers` is written by the batch examples, `clicks` by the streaming ones (each
# event a record), `click_windows` by the Kafka example's windowed features (one record per user).
FEATURE_GROUPS = {
    "customers": {
        "RecordIdentifierFeatureName": "customer_id",
        "EventTimeFeatureName": "event_time",
        "FeatureDefinitions": [
            {"FeatureName": "customer_id", "FeatureType": "String"},
            {"FeatureName": "event_time", "FeatureType": "String"},
            {"FeatureName": "age", "FeatureType": "Integral"},
            {"FeatureName": "lifetime_value", "FeatureType": "Fractional"},
            {"FeatureName": "segment", "FeatureType": "String"},
            {"FeatureName": "signup_date", "FeatureType": "String"},
            {"FeatureName": "is_active", "FeatureType": "String"},
        ],
    },
    # Written by the seed pipeline (examples/processing/seed_features.py, the Processing, Glue and EMR jobs).
    "customer-txn-features": {
        "RecordIdentifierFeatureName": "customer_id",
        "EventTimeFeatureName": "event_time",
        "FeatureDefinitions": [
            {"FeatureName": "customer_id", "FeatureType": "String"},
            {"FeatureName": "event_time", "FeatureType": "String"},
            {"FeatureName": "first_txn_time", "FeatureType": "String"},
            {"FeatureName": "txn_count", "FeatureType": "Integral"},
            {"FeatureName": "amount_sum", "FeatureType": "Fractional"},
            {"FeatureName": "amount_avg", "FeatureType": "Fractional"},
            {"FeatureName": "fee_ratio", "FeatureType": "Fractional"},
            {"FeatureName": "max_amount_band", "FeatureType": "String"},
        ],
    },
    "clicks": {
        "RecordIdentifierFeatureName": "click_id",
        "EventTimeFeatureName": "event_time",
        "FeatureDefinitions": [
            {"FeatureName": "click_id", "FeatureType": "String"},
            {"FeatureName": "event_time", "FeatureType": "String"},
            {"FeatureName": "user_id", "FeatureType": "String"},
            {"FeatureName": "page", "FeatureType": "String"},
            {"FeatureName": "dwell_seconds", "FeatureType": "Fractional"},
        ],
    },
    "click_windows": {
        "RecordIdentifierFeatureName": "user_id",
        "EventTimeFeatureName": "window_end",
        "FeatureDefinitions": [
            {"FeatureName": "user_id", "FeatureType": "String"},
            {"FeatureName": "window_end", "FeatureType": "String"},
            {"FeatureName": "window_start", "FeatureType": "String"},
            {"FeatureName": "clicks", "FeatureType": "Integral"},
            {"FeatureName": "dwell_seconds_sum", "FeatureType": "Fractional"},
            {"FeatureName": "checkout_clicks", "FeatureType": "Integral"},
        ],
    },
}


def create(sagemaker, name: str, offline_store_uri: str | None = None, role_arn: str | None = None) -> str:
    try:
        sagemaker.describe_feature_group(FeatureGroupName=name)
        return "exists"
    except sagemaker.exceptions.ResourceNotFound:
        pass
    extra = {}
    if offline_store_uri:
        extra["OfflineStoreConfig"] = {"S3StorageConfig": {"S3Uri": f"{offline_store_uri.rstrip('/')}/{name}"}}
    if role_arn:
        extra["RoleArn"] = role_arn
    sagemaker.create_feature_group(FeatureGroupName=name, OnlineStoreConfig={"EnableOnlineStore": True},
                                   **FEATURE_GROUPS[name], **extra)
    deadline = time.monotonic() + 60
    while (status := sagemaker.describe_feature_group(FeatureGroupName=name)["FeatureGroupStatus"]) == "Creating":
        if time.monotonic() > deadline:
            raise RuntimeError(f"{name} still Creating after 60 s")
        time.sleep(0.2)
    if status != "Created":
        raise RuntimeError(f"{name} is {status}")
    return "created"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="+", choices=sorted(FEATURE_GROUPS))
    parser.add_argument("--endpoint", help="SageMaker endpoint URL, e.g. the local store's http://127.0.0.1:8642")
    parser.add_argument("--region", default=None)
    parser.add_argument("--offline-store-uri", help="also an offline store, under this s3:// prefix")
    parser.add_argument("--role-arn", help="the role the service uses for the offline store (SageMaker needs one)")
    args = parser.parse_args()

    import boto3

    sagemaker = boto3.client("sagemaker", endpoint_url=args.endpoint, region_name=args.region)
    for name in args.names:
        print(f"feature group {name}: {create(sagemaker, name, args.offline_store_uri, args.role_arn)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
