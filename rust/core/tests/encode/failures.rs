//! Rows that break a rule: rolled back without disturbing their neighbours, reported with their values
//! rendered as text and a reason naming row, column and rule (origin Client).
// Tests may panic on a broken expectation: that is how they fail.
use std::sync::Arc;

use crate::support::*;
use arrow_array::builder::{Float64Builder, ListBuilder, StringBuilder};
use arrow_array::*;
use featurestore_core::encode::RecordEncoder;
use featurestore_core::ipc::InvalidText;
use featurestore_core::record::{EncodedBatch, FailedRecord, FailureOrigin, FailureReason};
use serde_json::json;

fn mixed_group() -> featurestore_core::model::FeatureGroup {
    group(&[
        feature("id", "String"),
        feature("event_time", "String"),
        feature("price", "Fractional"),
        collection("tags", "String", "List"),
        vector("emb", 2),
    ])
}

/// price, tags, emb.
type MixedRow = (Option<f64>, Option<Vec<Option<&'static str>>>, Option<Vec<f64>>);

fn mixed_batch() -> RecordBatch {
    let mut tags = ListBuilder::new(StringBuilder::new());
    let mut emb = ListBuilder::new(Float64Builder::new());
    let rows: [MixedRow; 6] = [
        (Some(1.5), Some(vec![Some("a")]), Some(vec![0.0, 1.0])),
        (Some(f64::NAN), Some(vec![Some("b"), Some("c")]), None),
        (Some(2.0), Some(vec![Some("d"), None]), None),
        (None, None, Some(vec![1.0])),
        (Some(3.0), None, None),
        (Some(4.0), None, None),
    ];
    for (_, tag, vector) in &rows {
        match tag {
            Some(elements) => tags.append_value(elements.iter().copied()),
            None => tags.append_null(),
        }
        match vector {
            Some(values) => emb.append_value(values.iter().map(|v| Some(*v))),
            None => emb.append_null(),
        }
    }
    batch(vec![
        (
            "id",
            Arc::new(StringArray::from(vec![
                Some("k0"),
                Some("k1"),
                Some("k2"),
                Some("k3"),
                None,
                Some("k5"),
            ])) as ArrayRef,
        ),
        (
            "event_time",
            Arc::new(StringArray::from(vec![
                Some("2024-01-01T00:00:00Z"),
                Some("2024-01-01T00:00:01Z"),
                Some("2024-01-01T00:00:02Z"),
                Some("2024-01-01T00:00:03Z"),
                Some("2024-01-01T00:00:04Z"),
                None,
            ])),
        ),
        (
            "price",
            Arc::new(Float64Array::from(rows.iter().map(|r| r.0).collect::<Vec<_>>())),
        ),
        ("tags", Arc::new(tags.finish())),
        ("emb", Arc::new(emb.finish())),
    ])
}

fn encode_from(first_row: u64) -> EncodedBatch {
    let group = mixed_group();
    let b = mixed_batch();
    let encoder = RecordEncoder::new(&group, b.schema_ref(), false).unwrap();
    let mut out = EncodedBatch::default();
    encoder.encode(&b, first_row, &mut out);
    out
}

fn reason(column: Option<&str>, code: &str, message: &str) -> FailureReason {
    FailureReason {
        origin: FailureOrigin::Client,
        column: column.map(str::to_string),
        code: code.into(),
        message: message.into(),
    }
}

fn values(value: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
    value.as_object().unwrap().clone()
}

#[test]
fn failed_rows_keep_their_values_and_say_why() {
    let out = encode_from(1_000);
    assert_eq!(
        out.failed(),
        &[
            FailedRecord {
                row: 1_001,
                record_identifier: Some("k1".into()),
                values: values(json!({
                    "id": "k1", "event_time": "2024-01-01T00:00:01Z", "price": "NaN",
                    "tags": ["b", "c"], "emb": null
                })),
                reason: reason(
                    Some("price"),
                    "non_finite_fractional",
                    "row 1001: 'NaN' is not a finite number; the Fractional feature 'price' takes finite doubles only"
                ),
            },
            FailedRecord {
                row: 1_002,
                record_identifier: Some("k2".into()),
                values: values(json!({
                    "id": "k2", "event_time": "2024-01-01T00:00:02Z", "price": "2.0",
                    "tags": ["d", null], "emb": null
                })),
                reason: reason(
                    Some("tags"),
                    "null_collection_element",
                    "row 1002: element 1 of the List of String feature 'tags' is null; the service rejects collections with null elements"
                ),
            },
            FailedRecord {
                row: 1_003,
                record_identifier: Some("k3".into()),
                values: values(json!({
                    "id": "k3", "event_time": "2024-01-01T00:00:03Z", "price": null,
                    "tags": null, "emb": ["1.0"]
                })),
                reason: reason(
                    Some("emb"),
                    "vector_dimension_mismatch",
                    "row 1003: the value has 1 elements; the Vector(2) of Fractional feature 'emb' takes exactly 2"
                ),
            },
            FailedRecord {
                row: 1_004,
                record_identifier: None,
                values: values(json!({
                    "id": null, "event_time": "2024-01-01T00:00:04Z", "price": "3.0", "tags": null, "emb": null
                })),
                reason: reason(
                    Some("id"),
                    "null_record_identifier",
                    "row 1004: the record identifier is null; every record needs one"
                ),
            },
            FailedRecord {
                row: 1_005,
                record_identifier: Some("k5".into()),
                values: values(json!({
                    "id": "k5", "event_time": null, "price": "4.0", "tags": null, "emb": null
                })),
                reason: reason(
                    Some("event_time"),
                    "null_event_time",
                    "row 1005: the event time is null; every record needs one"
                ),
            },
        ]
    );
    // As the failed-records sink shows them.
    assert_eq!(
        out.failed()[0].reason.to_string(),
        "column 'price': row 1001: 'NaN' is not a finite number; the Fractional feature 'price' takes finite doubles only (non_finite_fractional)"
    );
    assert_eq!(
        serde_json::to_value(&out.failed()[3]).unwrap(),
        json!({
            "row": 1004, "recordIdentifier": null,
            "values": {"id": null, "event_time": "2024-01-01T00:00:04Z", "price": "3.0", "tags": null, "emb": null},
            "reason": {"origin": "Client", "column": "id", "code": "null_record_identifier",
                       "message": "row 1004: the record identifier is null; every record needs one"}
        })
    );
}

#[test]
fn a_failed_row_leaves_the_rows_around_it_intact() {
    let out = encode_from(7);
    assert_eq!(out.row_count(), 6);
    assert_eq!(out.records().len(), 1);
    assert_eq!(out.records()[0].row, 7);
    assert_eq!(
        records(&out),
        vec![concat!(
            r#"[{"FeatureName":"id","ValueAsString":"k0"},{"FeatureName":"event_time","ValueAsString":"2024-01-01T00:00:00Z"},"#,
            r#"{"FeatureName":"price","ValueAsString":"1.5"},{"FeatureName":"tags","ValueAsStringList":["a"]},"#,
            r#"{"FeatureName":"emb","ValueAsStringList":["0.0","1.0"]}]"#
        )]
    );
    // Nothing of the failed rows is left in the buffer.
    assert_eq!(out.encoded_bytes(), out.record_json(&out.records()[0]).len());
}

#[test]
fn rows_marked_with_invalid_text_fail_at_their_column_and_unwritten_columns_are_not_judged() {
    let group = mixed_group();
    let b = mixed_batch();
    let encoder = RecordEncoder::new(&group, b.schema_ref(), false).unwrap();
    let mut out = EncodedBatch::default();
    let invalid = [
        InvalidText {
            row: 0,
            column: "tags".into(),
        },
        InvalidText {
            row: 0,
            column: "id".into(),
        },
        InvalidText {
            row: 5,
            column: "not_written".into(),
        },
    ];
    encoder.encode_marked(&b, 10, &invalid, &mut out);
    // Row 0 was the only good row; row 5 fails for its own reason (null event time), not the unwritten column.
    assert!(out.records().is_empty());
    let failed = out.failed();
    assert_eq!(failed[0].row, 10);
    assert_eq!(failed[0].reason.code, "invalid_utf8");
    assert_eq!(failed[0].reason.column.as_deref(), Some("tags"));
    assert!(
        failed[0]
            .reason
            .message
            .starts_with("row 10: the value of the List of String feature 'tags' is not UTF-8 text"),
        "{}",
        failed[0].reason.message
    );
    assert_eq!(failed[0].record_identifier.as_deref(), Some("k0"));
    assert_eq!(failed.last().unwrap().reason.code, "null_event_time");
}

#[test]
fn records_of_successive_batches_share_one_buffer_back_to_back() {
    let group = mixed_group();
    let b = mixed_batch();
    let encoder = RecordEncoder::new(&group, b.schema_ref(), false).unwrap();
    let mut out = EncodedBatch::default();
    encoder.encode(&b.slice(0, 1), 0, &mut out);
    encoder.encode(&b.slice(0, 1), 1, &mut out);
    let rows: Vec<u64> = out.records().iter().map(|s| s.row).collect();
    assert_eq!(rows, vec![0, 1]);
    assert_eq!(
        out.record_json(&out.records()[0]),
        out.record_json(&out.records()[1])
    );
    assert_eq!(out.records()[0].end, out.records()[1].start);
}

#[test]
fn a_batch_of_another_schema_fails_every_row_instead_of_being_misread() {
    let group = mixed_group();
    let encoder = RecordEncoder::new(&group, mixed_batch().schema_ref(), false).unwrap();
    let other = batch(vec![
        ("id", Arc::new(StringArray::from(vec!["a", "b"])) as ArrayRef),
        ("event_time", Arc::new(Int64Array::from(vec![1, 2]))),
        ("price", Arc::new(Float64Array::from(vec![1.0, 2.0]))),
        ("tags", Arc::new(StringArray::from(vec!["x", "y"]))),
        ("emb", Arc::new(StringArray::from(vec!["x", "y"]))),
    ]);
    let mut out = EncodedBatch::default();
    encoder.encode(&other, 10, &mut out);
    assert_eq!(out.records().len(), 0);
    assert_eq!(
        failures(&out),
        vec![
            (10, "batch_schema_mismatch".into(), "row 10: the batch has column 'event_time' of type Int64 (Spark bigint) where the encoder was built for column 'event_time' of type Utf8 (Spark string); build an encoder for the new schema".into()),
            (11, "batch_schema_mismatch".into(), "row 11: the batch has column 'event_time' of type Int64 (Spark bigint) where the encoder was built for column 'event_time' of type Utf8 (Spark string); build an encoder for the new schema".into()),
        ]
    );
    let fewer = batch(vec![("id", Arc::new(StringArray::from(vec!["a"])) as ArrayRef)]);
    let mut out = EncodedBatch::default();
    encoder.encode(&fewer, 0, &mut out);
    assert_eq!(
        failures(&out),
        vec![(0, "batch_schema_mismatch".into(), "row 0: the batch has 1 columns but the encoder was built for a schema of 5; build an encoder for the new schema".into())]
    );
}

#[test]
fn messages_of_value_rules_name_the_value_and_the_feature() {
    let group = group(&[
        feature("id", "String"),
        feature("event_time", "String"),
        feature("n", "Integral"),
        feature("when", "String"),
    ]);
    let b = batch(vec![
        ("id", Arc::new(StringArray::from(vec!["a", "b", "c"])) as ArrayRef),
        (
            "event_time",
            Arc::new(StringArray::from(vec![
                "2024-01-01T00:00:00Z",
                "2024-01-01 00:00",
                "2024-01-01T00:00:00Z",
            ])),
        ),
        (
            "n",
            Arc::new(
                Decimal128Array::from(vec![Some(1250), None, Some(100)])
                    .with_precision_and_scale(10, 2)
                    .unwrap(),
            ),
        ),
        (
            "when",
            Arc::new(TimestampMillisecondArray::from(vec![
                None,
                None,
                Some(253_402_300_800_000),
            ])),
        ),
    ]);
    let out = encode(&group, &b);
    assert_eq!(
        failures(&out),
        vec![
            (0, "integral_not_whole".into(), "row 0: '12.50' has a fraction; the Integral feature 'n' takes whole numbers only".into()),
            (1, "event_time_format".into(), "row 1: '2024-01-01 00:00' is not in an event time format the service accepts (yyyy-MM-ddTHH:mm:ssZ or yyyy-MM-ddTHH:mm:ss.SSSZ, in UTC)".into()),
            (2, "timestamp_out_of_range".into(), "row 2: '+10000-01-01T00:00:00.000Z' lies outside years 0000 to 9999, which the text of the String feature 'when' can hold".into()),
        ]
    );
}

#[test]
fn the_encoder_can_be_shared_with_the_sinks_threads() {
    fn shareable<T: Send + Sync + 'static>() {}
    shareable::<RecordEncoder>();
    shareable::<featurestore_core::model::FeatureGroup>();
}
