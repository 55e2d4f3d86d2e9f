"""featurestore-local started with --credentials checks SigV4 as the service does: boto3, unmodified, passes on
both the control plane and the runtime with the accepted key, and gets the service's errors with a wrong secret,
an unknown key, a missing session token or temporary credentials past their expiry."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError

from fslocal import CHECK_SIGNATURES, CREDENTIALS, NO_RETRIES, REGION, LocalStore

TEMP = ("ASIALOCALTEMP", "temp-secret", "temp-token")
# Temporary credentials that expired in 1970.
EXPIRED = ("ASIALOCALEXPIRED", "expired-secret", "expired-token")


@pytest.fixture(scope="module")
def checking(tmp_path_factory):
    local = LocalStore.start(tmp_path_factory.mktemp("signed") / "data", *CHECK_SIGNATURES,
                             "--credentials", ":".join(TEMP),
                             "--credentials", ":".join(EXPIRED) + ":1")  # fmt: skip
    yield local
    assert local.stop() == 0, local.log()


def client(store: LocalStore, service: str, key: str, secret: str, token: str | None = None):
    return boto3.client(service, endpoint_url=store.endpoint, region_name=REGION, config=NO_RETRIES,
                        aws_access_key_id=key, aws_secret_access_key=secret, aws_session_token=token)  # fmt: skip


def good(store: LocalStore, service: str):
    return client(store, service, CREDENTIALS["aws_access_key_id"], CREDENTIALS["aws_secret_access_key"])


def test_boto3_signed_calls_pass_on_both_planes(checking):
    good(checking, "sagemaker").create_feature_group(
        FeatureGroupName="signed",
        RecordIdentifierFeatureName="id",
        EventTimeFeatureName="ts",
        FeatureDefinitions=[{"FeatureName": "id", "FeatureType": "String"},
                            {"FeatureName": "ts", "FeatureType": "String"}],  # fmt: skip
        OnlineStoreConfig={"EnableOnlineStore": True},
    )
    runtime = good(checking, "sagemaker-featurestore-runtime")
    record = [{"FeatureName": "id", "ValueAsString": "a b/ü"}, {"FeatureName": "ts", "ValueAsString": "2024-01-01T00:00:00Z"}]
    runtime.put_record(FeatureGroupName="signed", Record=record)
    # A record identifier that needs percent-encoding in the query string.
    got = runtime.get_record(FeatureGroupName="signed", RecordIdentifierValueAsString="a b/ü")
    assert {f["FeatureName"]: f["ValueAsString"] for f in got["Record"]}["id"] == "a b/ü"
    temporary = client(checking, "sagemaker-featurestore-runtime", *TEMP)
    temporary.get_record(FeatureGroupName="signed", RecordIdentifierValueAsString="a b/ü")


@pytest.mark.parametrize(
    "key, secret, token, code",
    [
        (CREDENTIALS["aws_access_key_id"], "not-the-secret", None, "InvalidSignatureException"),
        ("AKIDUNKNOWN", CREDENTIALS["aws_secret_access_key"], None, "UnrecognizedClientException"),
        (TEMP[0], TEMP[1], None, "UnrecognizedClientException"),
        (*EXPIRED, "ExpiredTokenException"),
    ],
)
def test_bad_signatures_get_the_services_errors_on_both_planes(checking, key, secret, token, code):
    with pytest.raises(ClientError) as runtime_error:
        client(checking, "sagemaker-featurestore-runtime", key, secret, token).get_record(
            FeatureGroupName="signed", RecordIdentifierValueAsString="x")
    assert runtime_error.value.response["Error"]["Code"] == code
    assert runtime_error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    with pytest.raises(ClientError) as control_error:
        client(checking, "sagemaker", key, secret, token).list_feature_groups()
    assert control_error.value.response["Error"]["Code"] == code
