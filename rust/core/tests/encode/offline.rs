//! `offlineWrite=direct`: the rows the offline encoder hands Spark, and what it refuses.
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type, TimestampMicrosecondType};
use arrow_array::{
    Array, ArrayRef, Float64Array, Int64Array, ListArray, StringArray, TimestampMicrosecondArray,
};
use featurestore_core::config::WriterConfig;
use featurestore_core::model::FeatureGroup;
use featurestore_core::offline::{OfflineEncoder, PARTITION_COLUMN, output_uri};
use featurestore_core::readiness::check_writable;
use serde_json::{Value, json};

use crate::support::{batch, collection, describe_json, feature};

const URI: &str = "s3://bucket/p/123456789012/sagemaker/us-east-1/offline-store/test-group-1700000000/data";

fn group_with(offline: Value) -> FeatureGroup {
    let features = [
        feature("id", "String"),
        feature("event_time", "String"),
        feature("count", "Integral"),
        feature("score", "Fractional"),
        collection("tags", "String", "List"),
    ];
    let mut describe: Value = serde_json::from_str(&describe_json(&features)).unwrap();
    describe["OfflineStoreConfig"] = offline;
    FeatureGroup::from_describe_json(&describe.to_string()).unwrap()
}

fn offline_group() -> FeatureGroup {
    group_with(
        json!({"S3StorageConfig": {"S3Uri": "s3://bucket/p", "ResolvedOutputS3Uri": URI}, "TableFormat": "Glue"}),
    )
}

fn direct_config() -> WriterConfig {
    let mut config = WriterConfig::new("test-group");
    config.offline_direct = true;
    config
}

#[test]
fn rows_that_pass_come_back_as_the_offline_store_holds_them_and_the_others_fail_with_the_api_paths_reason() {
    let group = offline_group();
    let mut encoder = OfflineEncoder::new(direct_config(), group).unwrap();
    // 2024-03-01T00:30:00.123Z, 1969-12-31T23:59:59Z, and a row whose score breaks the API path's rule.
    let times =
        TimestampMicrosecondArray::from(vec![1_709_253_000_123_000, -1_000_000, 0]).with_timezone("UTC");
    let tags =
        ListArray::from_iter_primitive::<Int64Type, _, _>(vec![Some(vec![Some(1), Some(2)]), None, None]);
    let input = batch(vec![
        ("id", Arc::new(StringArray::from(vec!["a", "b", "c"])) as ArrayRef),
        ("event_time", Arc::new(times)),
        ("count", Arc::new(Int64Array::from(vec![Some(7), None, Some(1)]))),
        ("score", Arc::new(Float64Array::from(vec![0.1, -2.5, f64::NAN]))),
        ("tags", Arc::new(tags)),
    ]);
    let rows = encoder.encode(&input, &[], 1_700_000_000_000).unwrap();

    assert_eq!(rows.num_rows(), 2);
    let schema = rows.schema();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(
        names,
        [
            "id",
            "event_time",
            "count",
            "score",
            "tags",
            "write_time",
            "api_invocation_time",
            "is_deleted",
            PARTITION_COLUMN
        ]
    );
    let column = |name: &str| rows.column_by_name(name).unwrap().clone();
    assert_eq!(
        column("event_time").as_string::<i32>().iter().collect::<Vec<_>>(),
        [Some("2024-03-01T00:30:00.123Z"), Some("1969-12-31T23:59:59.000Z")]
    );
    assert_eq!(
        column("count")
            .as_primitive::<Int64Type>()
            .iter()
            .collect::<Vec<_>>(),
        [Some(7), None]
    );
    assert_eq!(
        column("score").as_primitive::<Float64Type>().values().to_vec(),
        [0.1, -2.5]
    );
    let tags = column("tags");
    let tags = tags.as_list::<i32>();
    assert_eq!(
        tags.value(0).as_string::<i32>().iter().collect::<Vec<_>>(),
        [Some("1"), Some("2")]
    );
    assert!(tags.is_null(1));
    let written = column("write_time");
    assert_eq!(
        written
            .as_primitive::<TimestampMicrosecondType>()
            .values()
            .to_vec(),
        [1_700_000_000_000_000, 1_700_000_000_000_000]
    );
    assert_eq!(column("is_deleted").as_boolean().true_count(), 0);
    assert_eq!(
        column(PARTITION_COLUMN)
            .as_string::<i32>()
            .iter()
            .collect::<Vec<_>>(),
        [
            Some("year=2024/month=03/day=01/hour=00"),
            Some("year=1969/month=12/day=31/hour=23")
        ]
    );

    let metrics = encoder.metrics();
    assert_eq!((metrics[0], metrics[1], metrics[2]), (3, 2, 1));
    let lines = String::from_utf8(encoder.take_failed_lines(true)).unwrap();
    let failed: Value = serde_json::from_str(lines.trim()).unwrap();
    assert_eq!(failed["recordIdentifier"], "c");
    assert_eq!(failed["reason"]["code"], "non_finite_fractional");
    assert!(encoder.take_failed_lines(true).is_empty());
}

#[test]
fn a_direct_write_is_refused_for_a_group_without_an_offline_store_or_with_an_iceberg_table() {
    let config = direct_config();
    let none = crate::support::group(&[feature("id", "String"), feature("event_time", "String")]);
    assert!(output_uri(&none).is_err());
    assert!(OfflineEncoder::new(config.clone(), none).is_err());

    let iceberg = group_with(
        json!({"S3StorageConfig": {"S3Uri": "s3://b", "ResolvedOutputS3Uri": URI}, "TableFormat": "Iceberg"}),
    );
    let refused = check_writable(&config, &iceberg).unwrap_err().to_string();
    assert!(
        refused.contains("Iceberg") && refused.contains("not support yet"),
        "{refused}"
    );

    assert_eq!(output_uri(&offline_group()).unwrap(), URI);
    check_writable(&config, &offline_group()).unwrap();
}

#[test]
fn options_that_make_no_sense_with_a_direct_write_are_refused_together() {
    let problems = |given: &[(&str, &str)]| -> Vec<String> {
        WriterConfig::check(given.iter().copied())
            .problems
            .iter()
            .map(ToString::to_string)
            .collect()
    };
    assert!(
        problems(&[
            ("featureGroupName", "g"),
            ("offlineWrite", "direct"),
            ("targetStores", "OfflineStore")
        ])
        .is_empty()
    );
    assert_eq!(
        problems(&[
            ("featureGroupName", "g"),
            ("offlineWrite", "direct"),
            ("targetStores", "OnlineStore,OfflineStore"),
            ("ttlDuration", "1 Days"),
            ("maxRecordsPerSecond", "10"),
            ("operation", "delete"),
        ]),
        [
            "ttlDuration: cannot be combined with operation=delete: a delete has no time to live",
            "offlineWrite: is direct, which cannot delete: operation=delete goes through DeleteRecord (leave offlineWrite unset)",
            "targetStores: must be OfflineStore with offlineWrite=direct, which writes only the offline store",
            "ttlDuration: applies to online records, but offlineWrite=direct makes no API calls: leave it unset",
            "maxRecordsPerSecond: paces API calls, but offlineWrite=direct makes no API calls: leave it unset",
        ]
    );
    assert_eq!(
        problems(&[
            ("featureGroupName", "g"),
            ("offlineFileSystem", "file:///no-slash")
        ]),
        [
            "offlineFileSystem: must be a file system scheme (s3a, s3) or a base URI ending in / (given 'file:///no-slash')"
        ]
    );
}
