//! The feature group model, parsed from DescribeFeatureGroup responses as the service sends them.
// Tests may panic on a broken expectation: that is how they fail.
use featurestore_core::Error;
use featurestore_core::model::{
    CollectionType, FeatureDefinition, FeatureGroup, FeatureType, OnlineStore, StorageType, TtlDuration,
    TtlUnit,
};

/// A response as the service returns it, with members this library does not read.
const FULL_RESPONSE: &str = r#"{
  "FeatureGroupArn": "arn:aws:sagemaker:eu-west-1:123456789012:feature-group/customers",
  "FeatureGroupName": "customers",
  "RecordIdentifierFeatureName": "customer_id",
  "EventTimeFeatureName": "event_time",
  "FeatureDefinitions": [
    {"FeatureName": "customer_id", "FeatureType": "String"},
    {"FeatureName": "event_time", "FeatureType": "Fractional"},
    {"FeatureName": "age", "FeatureType": "Integral"},
    {"FeatureName": "tags", "FeatureType": "String", "CollectionType": "Set"},
    {"FeatureName": "scores", "FeatureType": "Integral", "CollectionType": "List"},
    {"FeatureName": "embedding", "FeatureType": "Fractional", "CollectionType": "Vector",
     "CollectionConfig": {"VectorConfig": {"Dimension": 4}}}
  ],
  "CreationTime": 1700000000.123,
  "LastModifiedTime": 1700000100.5,
  "OnlineStoreConfig": {
    "EnableOnlineStore": true,
    "SecurityConfig": {"KmsKeyId": "key"},
    "TtlDuration": {"Unit": "Days", "Value": 7},
    "StorageType": "InMemory"
  },
  "OfflineStoreConfig": {
    "S3StorageConfig": {"S3Uri": "s3://bucket/prefix", "ResolvedOutputS3Uri": "s3://bucket/prefix/x"},
    "DisableGlueTableCreation": false,
    "DataCatalogConfig": {"TableName": "t", "Catalog": "AwsDataCatalog", "Database": "sagemaker_featurestore"},
    "TableFormat": "Iceberg"
  },
  "ThroughputConfig": {"ThroughputMode": "OnDemand"},
  "RoleArn": "arn:aws:iam::123456789012:role/r",
  "FeatureGroupStatus": "Created",
  "OfflineStoreStatus": {"Status": "Active"},
  "Description": "customers",
  "NextToken": "",
  "OnlineStoreTotalSizeBytes": 1024,
  "AMemberAddedNextYear": {"Anything": [1, 2, 3]}
}"#;

#[test]
fn parses_every_member_it_uses_and_ignores_the_others() {
    let group = FeatureGroup::from_describe_json(FULL_RESPONSE).unwrap();
    assert_eq!(
        group,
        FeatureGroup {
            name: "customers".into(),
            arn: "arn:aws:sagemaker:eu-west-1:123456789012:feature-group/customers".into(),
            record_identifier_feature_name: "customer_id".into(),
            event_time_feature_name: "event_time".into(),
            features: vec![
                definition("customer_id", FeatureType::String, None),
                definition("event_time", FeatureType::Fractional, None),
                definition("age", FeatureType::Integral, None),
                definition("tags", FeatureType::String, Some(CollectionType::Set)),
                definition("scores", FeatureType::Integral, Some(CollectionType::List)),
                definition(
                    "embedding",
                    FeatureType::Fractional,
                    Some(CollectionType::Vector { dimension: 4 })
                ),
            ],
            online_store: OnlineStore {
                enabled: true,
                storage_type: StorageType::InMemory,
                ttl_duration: Some(TtlDuration {
                    unit: TtlUnit::Days,
                    value: 7
                }),
            },
            offline_store: Some(featurestore_core::model::OfflineStore {
                resolved_output_s3_uri: Some("s3://bucket/prefix/x".into()),
                table_format: Some("Iceberg".into()),
            }),
            status: Some("Created".into()),
            failure_reason: None,
        }
    );
    assert_eq!(group.feature("age").unwrap().to_string(), "Integral");
    assert_eq!(group.feature("tags").unwrap().to_string(), "Set of String");
    assert_eq!(
        group.feature("embedding").unwrap().to_string(),
        "Vector(4) of Fractional"
    );
    assert_eq!(group.feature("nope"), None);
}

fn definition(
    name: &str,
    feature_type: FeatureType,
    collection: Option<CollectionType>,
) -> FeatureDefinition {
    FeatureDefinition {
        name: name.into(),
        feature_type,
        collection,
    }
}

#[test]
fn a_group_without_stores_config_has_them_disabled() {
    let group = FeatureGroup::from_describe_json(
        r#"{"FeatureGroupArn": "arn", "FeatureGroupName": "g", "RecordIdentifierFeatureName": "id",
            "EventTimeFeatureName": "t", "FeatureDefinitions": [
              {"FeatureName": "id", "FeatureType": "Integral"}, {"FeatureName": "t", "FeatureType": "String"}],
            "OnlineStoreConfig": {"EnableOnlineStore": true, "StorageType": "Standard_V2"}}"#,
    )
    .unwrap();
    assert_eq!(
        group.online_store,
        OnlineStore {
            enabled: true,
            storage_type: StorageType::StandardV2,
            ttl_duration: None
        }
    );
    assert!(group.offline_store.is_none());
    let group = FeatureGroup::from_describe_json(
        r#"{"FeatureGroupArn": "arn", "FeatureGroupName": "g", "RecordIdentifierFeatureName": "id",
            "EventTimeFeatureName": "t", "FeatureDefinitions": [
              {"FeatureName": "id", "FeatureType": "Integral"}, {"FeatureName": "t", "FeatureType": "String"}],
            "OnlineStoreConfig": {"StorageType": "Quantum"}}"#,
    )
    .unwrap();
    assert_eq!(
        group.online_store.storage_type,
        StorageType::Other("Quantum".into())
    );
    assert!(!group.online_store.enabled);
}

fn error_of(json: &str) -> String {
    match FeatureGroup::from_describe_json(json) {
        Err(error @ Error::FeatureGroup(_)) => error.to_string(),
        other => panic!("expected Error::FeatureGroup, got {other:?}"),
    }
}

#[test]
fn every_missing_required_member_is_reported_at_once() {
    assert_eq!(
        error_of("{}"),
        "invalid feature group definition: the required member FeatureGroupName is missing; \
         the required member FeatureGroupArn is missing; the required member RecordIdentifierFeatureName is missing; \
         the required member EventTimeFeatureName is missing; the required member FeatureDefinitions is missing"
    );
}

#[test]
fn unusable_definitions_are_reported_with_the_feature_they_concern() {
    assert_eq!(
        error_of(
            r#"{"FeatureGroupArn": "arn", "FeatureGroupName": "g", "RecordIdentifierFeatureName": "id",
                "EventTimeFeatureName": "t", "FeatureDefinitions": [
                  {"FeatureName": "id", "FeatureType": "String", "CollectionType": "List"},
                  {"FeatureName": "t", "FeatureType": "Integral"},
                  {"FeatureName": "a", "FeatureType": "Complex"},
                  {"FeatureName": "b", "FeatureType": "Fractional", "CollectionType": "Vector"},
                  {"FeatureName": "c", "FeatureType": "Fractional", "CollectionType": "Vector",
                   "CollectionConfig": {"VectorConfig": {"Dimension": 9000}}},
                  {"FeatureName": "d", "FeatureType": "String", "CollectionType": "Bag"},
                  {"FeatureType": "String"},
                  {"FeatureName": "bad name", "FeatureType": "String"},
                  {"FeatureName": "e"},
                  {"FeatureName": "dup", "FeatureType": "String"},
                  {"FeatureName": "dup", "FeatureType": "Integral"}],
                "OnlineStoreConfig": {"TtlDuration": {"Unit": "Fortnights", "Value": 1}}}"#
        ),
        "invalid feature group definition: feature 'a': unknown FeatureType 'Complex' (expected Integral, Fractional or String); \
         feature 'b': a Vector feature needs CollectionConfig.VectorConfig.Dimension; \
         feature 'c': vector dimension 9000 is outside 1..=8192; \
         feature 'd': unknown CollectionType 'Bag' (expected List, Set or Vector); \
         FeatureDefinitions[6]: the required member FeatureName is missing; \
         feature 'bad name': the name does not match the service's pattern [a-zA-Z0-9]([-_]*[a-zA-Z0-9]){0,63}; \
         feature 'e': the required member FeatureType is missing; \
         feature 'dup' is defined twice; \
         the record identifier feature 'id' is a collection (List of String); it must be a scalar; \
         the event time feature 't' is Integral; the service accepts only String or Fractional; \
         OnlineStoreConfig.TtlDuration: unknown Unit Some(\"Fortnights\") (expected Seconds, Minutes, Hours, Days or Weeks)"
    );
    assert_eq!(
        error_of(
            r#"{"FeatureGroupArn": "arn", "FeatureGroupName": "g", "RecordIdentifierFeatureName": "id",
                "EventTimeFeatureName": "t", "FeatureDefinitions": [{"FeatureName": "x", "FeatureType": "String"}]}"#
        ),
        "invalid feature group definition: the record identifier feature 'id' is not among the feature definitions; \
         the event time feature 't' is not among the feature definitions"
    );
}

#[test]
fn malformed_json_is_a_feature_group_error() {
    assert_eq!(
        error_of("not json"),
        "invalid feature group definition: the DescribeFeatureGroup response is not valid: expected ident at line 1 column 2"
    );
    assert_eq!(
        error_of(r#"{"FeatureDefinitions": {"FeatureName": "x"}}"#),
        "invalid feature group definition: the DescribeFeatureGroup response is not valid: invalid type: map, expected a sequence at line 1 column 23"
    );
}

#[test]
fn feature_names_follow_the_service_pattern() {
    use featurestore_core::model::is_valid_feature_name;
    for good in ["a", "A1", "a-b_c", "a__-b", &"x".repeat(64)] {
        assert!(is_valid_feature_name(good), "{good}");
    }
    for bad in ["", "_a", "a_", "-a", "a b", "a.b", "é", &"x".repeat(65)] {
        assert!(!is_valid_feature_name(bad), "{bad}");
    }
}
