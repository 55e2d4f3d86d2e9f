//! Feature groups created from an Arrow schema through the engine's control client, against featurestore-local:
//! the group the store describes has the mapped definitions and accepts the schema; the request's problems are
//! listed before any call; the service's own refusals come back with its code; a DataFrame's new columns are
//! added with UpdateFeatureGroup.
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use arrow_schema::{DataType, Field, Schema, TimeUnit};
use featurestore_core::Error;
use featurestore_core::config::TransportKind;
use featurestore_core::feature_groups::{
    CreateSpec, add_missing_features, create_feature_group, create_request,
};
use featurestore_core::model::{FeatureGroup, StorageType, TtlUnit};
use featurestore_core::schema::check_schema;
use serde_json::Value;

use crate::support::TestStore;

fn schema() -> Schema {
    let list = |t: DataType| DataType::List(Arc::new(Field::new("element", t, true)));
    Schema::new(vec![
        Field::new("customer_id", DataType::Utf8, true),
        Field::new(
            "event_time",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            true,
        ),
        Field::new("age", DataType::Int32, true),
        Field::new("balance", DataType::Decimal128(12, 2), true),
        Field::new("tags", list(DataType::Utf8), true),
        Field::new("embedding", list(DataType::Float32), true),
    ])
}

fn spec(name: &str) -> CreateSpec {
    CreateSpec {
        feature_group_name: name.into(),
        record_identifier: "customer_id".into(),
        event_time: "event_time".into(),
        storage_type: Some("inmemory".into()),
        ttl_duration: Some("7 days".into()),
        offline_store_s3_uri: Some("s3://bucket/prefix".into()),
        table_format: Some("Iceberg".into()),
        role_arn: Some("arn:aws:iam::123456789012:role/FeatureStore".into()),
        description: Some("customers, from a DataFrame".into()),
        tags: BTreeMap::from([("team".to_string(), "growth".to_string())]),
        collection_types: HashMap::from([
            ("tags".to_string(), "Set".to_string()),
            ("embedding".to_string(), "Vector(3)".to_string()),
        ]),
        ..CreateSpec::default()
    }
}

#[test]
fn a_group_created_from_a_schema_is_created_as_asked_and_accepts_the_schema() {
    let store = TestStore::start();
    let client = store.client_config(TransportKind::Lean);
    let described = create_feature_group(&client, &spec("from-schema"), &schema()).unwrap();
    let json: Value = serde_json::from_str(&described).unwrap();
    assert_eq!(json["FeatureGroupStatus"], "Created");
    assert_eq!(json["Description"], "customers, from a DataFrame");
    assert_eq!(json["RoleArn"], "arn:aws:iam::123456789012:role/FeatureStore");
    assert_eq!(json["OfflineStoreConfig"]["TableFormat"], "Iceberg");
    let group = FeatureGroup::from_describe_json(&described).unwrap();
    let shown: Vec<String> = group.features.iter().map(|f| format!("{} {f}", f.name)).collect();
    assert_eq!(
        shown,
        [
            "customer_id String",
            "event_time String",
            "age Integral",
            "balance Fractional",
            "tags Set of String",
            "embedding Vector(3) of Fractional"
        ]
    );
    assert_eq!(group.online_store.storage_type, StorageType::InMemory);
    assert_eq!(
        group.online_store.ttl_duration.map(|t| (t.unit, t.value)),
        Some((TtlUnit::Days, 7))
    );
    assert!(group.offline_store.is_some());
    check_schema(&group, &schema(), false).unwrap();

    // A second create is the service's ResourceInUse, not a wait.
    let again = create_feature_group(&client, &spec("from-schema"), &schema()).unwrap_err();
    assert!(
        matches!(&again, Error::Service { code, .. } if code == "ResourceInUse"),
        "{again}"
    );
}

#[test]
fn every_problem_of_the_request_is_listed_before_any_call() {
    let mut bad = spec("bad");
    bad.record_identifier = "id".into();
    bad.storage_type = Some("Standard".into());
    bad.ttl_duration = Some("a week".into());
    bad.table_format = Some("Delta".into());
    bad.offline_store_s3_uri = Some("/tmp/offline".into());
    let Err(Error::InvalidConfig(problems)) = create_request(&bad, &schema()) else {
        panic!("expected InvalidConfig");
    };
    let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        [
            "recordIdentifier: the input has no column 'id'",
            "tableFormat: must be one of Glue, Iceberg (given 'Delta')",
            "ttlDuration: must be a positive whole number and a unit, e.g. '7 Days' (given 'a week')",
            "offlineStoreS3Uri: must be an s3:// URI (given '/tmp/offline')",
            "storageType: must be InMemory: column 'tags' becomes a Set of String feature, and only an InMemory online store takes collections",
        ]
    );
}

fn updates(store: &TestStore) -> u64 {
    store
        .stats()
        .requests_by_operation
        .get("UpdateFeatureGroup")
        .copied()
        .unwrap_or(0)
}

#[test]
fn missing_columns_are_added_in_calls_of_at_most_100_and_nothing_when_none_is_missing() {
    let store = TestStore::start();
    let client = store.client_config(TransportKind::Lean);
    let base = Schema::new(vec![
        Field::new("id", DataType::Utf8, true),
        Field::new("event_time", DataType::Float64, true),
    ]);
    let spec = CreateSpec {
        feature_group_name: "grows".into(),
        record_identifier: "id".into(),
        event_time: "event_time".into(),
        ..CreateSpec::default()
    };
    create_feature_group(&client, &spec, &base).unwrap();

    // 150 new columns (one differing from a feature only in case is not new), two UpdateFeatureGroup calls.
    let mut fields = vec![Field::new("ID", DataType::Utf8, true)];
    fields.extend(base.fields().iter().map(|f| f.as_ref().clone()));
    fields.extend((0..150).map(|i| Field::new(format!("f{i}"), DataType::Int64, true)));
    let wide = Schema::new(fields);
    let described =
        add_missing_features(&client, "grows", &wide, &HashMap::new(), Duration::from_secs(30)).unwrap();
    assert_eq!(updates(&store), 2);
    let json: Value = serde_json::from_str(&described).unwrap();
    assert_eq!(json["LastUpdateStatus"]["Status"], "Successful");
    let group = FeatureGroup::from_describe_json(&described).unwrap();
    assert_eq!(group.features.len(), 152);
    assert_eq!(group.features[151].name, "f149");

    let again =
        add_missing_features(&client, "grows", &wide, &HashMap::new(), Duration::from_secs(30)).unwrap();
    assert_eq!(updates(&store), 2, "nothing missing: no call");
    assert_eq!(
        FeatureGroup::from_describe_json(&again).unwrap().features.len(),
        152
    );

    // A column with no feature type is named, and nothing is added.
    let mut refused = wide
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect::<Vec<_>>();
    refused.push(Field::new("photo", DataType::Binary, true));
    refused.push(Field::new("more", DataType::Utf8, true));
    let error = add_missing_features(
        &client,
        "grows",
        &Schema::new(refused),
        &HashMap::new(),
        Duration::from_secs(30),
    )
    .unwrap_err();
    assert!(error.to_string().contains("column 'photo'"), "{error}");
    assert_eq!(updates(&store), 2);
}
