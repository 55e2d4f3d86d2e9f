//! Helpers shared by the encoder's integration tests: feature groups built through the real
//! DescribeFeatureGroup parser, and batches encoded through the public facade.
use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{Field, Schema};
use featurestore_core::encode::RecordEncoder;
use featurestore_core::model::FeatureGroup;
use featurestore_core::record::{EncodedBatch, FailedRecord};
use serde_json::{Value, json};

/// A feature definition in the service's JSON shape.
pub fn feature(name: &str, feature_type: &str) -> Value {
    json!({"FeatureName": name, "FeatureType": feature_type})
}

pub fn collection(name: &str, feature_type: &str, collection_type: &str) -> Value {
    json!({"FeatureName": name, "FeatureType": feature_type, "CollectionType": collection_type})
}

pub fn vector(name: &str, dimension: u32) -> Value {
    json!({
        "FeatureName": name, "FeatureType": "Fractional", "CollectionType": "Vector",
        "CollectionConfig": {"VectorConfig": {"Dimension": dimension}}
    })
}

/// A DescribeFeatureGroup response with record identifier `id` and event time `event_time` (both among
/// `features`), as the service returns it.
pub fn describe_json(features: &[Value]) -> String {
    json!({
        "FeatureGroupArn": "arn:aws:sagemaker:us-east-1:123456789012:feature-group/test-group",
        "FeatureGroupName": "test-group",
        "RecordIdentifierFeatureName": "id",
        "EventTimeFeatureName": "event_time",
        "FeatureDefinitions": features,
        "CreationTime": 1.7e9,
        "OnlineStoreConfig": {"EnableOnlineStore": true, "StorageType": "InMemory"},
        "FeatureGroupStatus": "Created",
        "NextToken": ""
    })
    .to_string()
}

pub fn group(features: &[Value]) -> FeatureGroup {
    FeatureGroup::from_describe_json(&describe_json(features)).expect("valid feature group")
}

/// A batch from named columns (nullable fields).
pub fn batch(columns: Vec<(&str, ArrayRef)>) -> RecordBatch {
    let fields: Vec<Field> = columns
        .iter()
        .map(|(name, array)| Field::new(*name, array.data_type().clone(), true))
        .collect();
    RecordBatch::try_new(
        Arc::new(Schema::new(fields)),
        columns.into_iter().map(|(_, array)| array).collect(),
    )
    .expect("valid batch")
}

/// Encodes `batch` from row 0 and checks that every row is accounted for exactly once.
pub fn encode(group: &FeatureGroup, batch: &RecordBatch) -> EncodedBatch {
    let encoder = RecordEncoder::new(group, batch.schema_ref(), false).expect("schema fits");
    let mut out = EncodedBatch::default();
    encoder.encode(batch, 0, &mut out);
    let mut rows: Vec<u64> = out
        .records()
        .iter()
        .map(|span| span.row)
        .chain(out.failed().iter().map(|failed| failed.row))
        .collect();
    rows.sort_unstable();
    assert_eq!(rows, (0..batch.num_rows() as u64).collect::<Vec<_>>());
    out
}

/// The encoded records' JSON text, in row order, each checked to be valid JSON.
pub fn records(out: &EncodedBatch) -> Vec<String> {
    out.records()
        .iter()
        .map(|span| {
            let text = String::from_utf8(out.record_json(span).to_vec()).expect("UTF-8");
            serde_json::from_str::<Value>(&text).expect("valid JSON");
            text
        })
        .collect()
}

/// `(row, code, message)` of each failed row.
pub fn failures(out: &EncodedBatch) -> Vec<(u64, String, String)> {
    out.failed()
        .iter()
        .map(|f: &FailedRecord| (f.row, f.reason.code.clone(), f.reason.message.clone()))
        .collect()
}

/// What one value of feature `name` became: `Ok(entry)` with the exact JSON text of its `FeatureValue`
/// (`""` when the feature was omitted), or `Err(rule id)` when the row failed.
pub type Entry = Result<String, String>;

/// Encodes `column` as feature `definition` (named `x`), one row per value, with a record identifier
/// `r<row>` and a fixed event time, and returns each row's entry for `x`.
pub fn entries(definition: Value, column: ArrayRef) -> Vec<Entry> {
    let group = group(&[
        feature("id", "String"),
        feature("event_time", "String"),
        definition,
    ]);
    let rows = column.len();
    let ids: Vec<String> = (0..rows).map(|row| format!("r{row}")).collect();
    let b = batch(vec![
        ("id", Arc::new(arrow_array::StringArray::from(ids)) as ArrayRef),
        (
            "event_time",
            Arc::new(arrow_array::StringArray::from(vec!["2024-01-01T00:00:00Z"; rows])),
        ),
        ("x", column),
    ]);
    let out = encode(&group, &b);
    let mut result: Vec<Option<Entry>> = vec![None; rows];
    for (span, text) in out.records().iter().zip(records(&out)) {
        let prefix = format!(
            r#"[{{"FeatureName":"id","ValueAsString":"r{}"}},{{"FeatureName":"event_time","ValueAsString":"2024-01-01T00:00:00Z"}}"#,
            span.row
        );
        let rest = text
            .strip_prefix(&prefix)
            .expect("record starts with id and event time");
        let entry = rest.strip_suffix(']').expect("record ends with ]");
        result[span.row as usize] = Some(Ok(entry.strip_prefix(',').unwrap_or(entry).to_string()));
    }
    for failed in out.failed() {
        result[failed.row as usize] = Some(Err(failed.reason.code.clone()));
    }
    result
        .into_iter()
        .map(|entry| entry.expect("every row accounted for"))
        .collect()
}

/// `{"FeatureName":"x","ValueAsString":"<text>"}`.
pub fn scalar(text: &str) -> Entry {
    Ok(format!(r#"{{"FeatureName":"x","ValueAsString":"{text}"}}"#))
}

/// `{"FeatureName":"x","ValueAsStringList":[<elements>]}` with `elements` already quoted.
pub fn list(elements: &str) -> Entry {
    Ok(format!(
        r#"{{"FeatureName":"x","ValueAsStringList":[{elements}]}}"#
    ))
}

pub fn omitted() -> Entry {
    Ok(String::new())
}

pub fn failed(rule: &str) -> Entry {
    Err(rule.to_string())
}
