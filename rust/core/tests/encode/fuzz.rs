//! Property-based fuzzing of the encoder: random feature groups, random Arrow input types for each feature (among
//! the ones the schema check accepts, and some it refuses), random values with nulls, extremes and hostile text.
//! Whatever the input, the encoder never panics, accounts for every row exactly once (a record or a failure with
//! a rule), and every record is a JSON array of features.
//!
//! The suite runs a short version; the long run (README, "Fuzzing") sets PROPTEST_CASES:
//! `PROPTEST_CASES=10000000 cargo test --release --locked -p featurestore-core --test encode fuzz`.

use std::sync::Arc;

use arrow_array::builder::{Float64Builder, ListBuilder, StringBuilder};
use arrow_array::{
    ArrayRef, BooleanArray, Date32Array, Decimal128Array, Float32Array, Float64Array, Int32Array, Int64Array,
    LargeStringArray, RecordBatch, StringArray, TimestampMicrosecondArray, UInt64Array,
};
use arrow_schema::{Field, Schema};
use featurestore_core::encode::RecordEncoder;
use featurestore_core::record::EncodedBatch;
use proptest::prelude::*;
use serde_json::Value;

use crate::support::{collection, feature, group, vector};

const ROWS: usize = 4;

/// One feature column: its definition, and the Arrow array that feeds it.
#[derive(Debug, Clone)]
enum Column {
    Integral(IntegralInput),
    Fractional(Vec<Option<f64>>, bool),
    Text(TextInput),
    List(Vec<Option<Vec<Option<String>>>>),
    Vector(u32, Vec<Option<Vec<Option<f64>>>>),
}

#[derive(Debug, Clone)]
enum IntegralInput {
    I64(Vec<Option<i64>>),
    I32(Vec<Option<i32>>),
    U64(Vec<Option<u64>>),
    Decimal(u8, i8, Vec<Option<i128>>),
}

#[derive(Debug, Clone)]
enum TextInput {
    Utf8(Vec<Option<String>>),
    Large(Vec<Option<String>>),
    Boolean(Vec<Option<bool>>),
    Date(Vec<Option<i32>>),
    Timestamp(Vec<Option<i64>>),
}

fn nullable<T: std::fmt::Debug + Clone>(
    value: impl Strategy<Value = T>,
) -> impl Strategy<Value = Vec<Option<T>>> {
    prop::collection::vec(prop::option::weighted(0.85, value), ROWS)
}

/// Text users send and text meant to break JSON escaping, UTF-8 handling and size limits.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => "[a-z0-9]{0,12}",
        4 => "\\PC{0,20}",
        4 => "[\"\\\\\u{0}-\u{1f}\u{7f}\u{2028}\u{fffd}😀]{0,10}",
        2 => Just("2024-02-29T23:59:59.999Z".to_owned()),
        1 => Just("9999-12-31T23:59:59Z".to_owned()),
        // Around the service's limits: 2 KB for a record identifier, 350 KB for a value.
        1 => (2_040usize..2_060).prop_map(|n| "k".repeat(n)),
        1 => (358_390usize..358_410).prop_map(|n| "x".repeat(n)),
    ]
}

fn float() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>(),
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(-0.0),
        Just(f64::MIN_POSITIVE),
        -1e6f64..1e6
    ]
}

fn column() -> impl Strategy<Value = Column> {
    prop_oneof![
        nullable(any::<i64>()).prop_map(|v| Column::Integral(IntegralInput::I64(v))),
        nullable(any::<i32>()).prop_map(|v| Column::Integral(IntegralInput::I32(v))),
        nullable(any::<u64>()).prop_map(|v| Column::Integral(IntegralInput::U64(v))),
        (1u8..=38, 0i8..=4, nullable(any::<i64>().prop_map(i128::from)))
            .prop_map(|(p, s, v)| Column::Integral(IntegralInput::Decimal(p, s.min(p as i8), v))),
        (nullable(float()), any::<bool>()).prop_map(|(v, single)| Column::Fractional(v, single)),
        nullable(text()).prop_map(|v| Column::Text(TextInput::Utf8(v))),
        nullable(text()).prop_map(|v| Column::Text(TextInput::Large(v))),
        nullable(any::<bool>()).prop_map(|v| Column::Text(TextInput::Boolean(v))),
        nullable(any::<i32>()).prop_map(|v| Column::Text(TextInput::Date(v))),
        nullable(any::<i64>()).prop_map(|v| Column::Text(TextInput::Timestamp(v))),
        nullable(prop::collection::vec(prop::option::weighted(0.9, text()), 0..4)).prop_map(Column::List),
        (
            1u32..4,
            nullable(prop::collection::vec(prop::option::weighted(0.9, float()), 0..5))
        )
            .prop_map(|(d, v)| Column::Vector(d, v)),
    ]
}

fn definition(name: &str, column: &Column) -> Value {
    match column {
        Column::Integral(_) => feature(name, "Integral"),
        Column::Fractional(..) => feature(name, "Fractional"),
        Column::Text(_) => feature(name, "String"),
        Column::List(_) => collection(name, "String", "List"),
        Column::Vector(dimension, _) => vector(name, *dimension),
    }
}

fn array(column: &Column) -> ArrayRef {
    match column {
        Column::Integral(IntegralInput::I64(v)) => Arc::new(Int64Array::from(v.clone())),
        Column::Integral(IntegralInput::I32(v)) => Arc::new(Int32Array::from(v.clone())),
        Column::Integral(IntegralInput::U64(v)) => Arc::new(UInt64Array::from(v.clone())),
        Column::Integral(IntegralInput::Decimal(p, s, v)) => Arc::new(
            Decimal128Array::from(v.clone())
                .with_precision_and_scale(*p, *s)
                .expect("precision and scale in range"),
        ),
        Column::Fractional(v, false) => Arc::new(Float64Array::from(v.clone())),
        Column::Fractional(v, true) => Arc::new(Float32Array::from(
            v.iter().map(|x| x.map(|x| x as f32)).collect::<Vec<_>>(),
        )),
        Column::Text(TextInput::Utf8(v)) => Arc::new(StringArray::from(v.clone())),
        Column::Text(TextInput::Large(v)) => Arc::new(LargeStringArray::from(v.clone())),
        Column::Text(TextInput::Boolean(v)) => Arc::new(BooleanArray::from(v.clone())),
        Column::Text(TextInput::Date(v)) => Arc::new(Date32Array::from(v.clone())),
        Column::Text(TextInput::Timestamp(v)) => {
            Arc::new(TimestampMicrosecondArray::from(v.clone()).with_timezone("UTC"))
        }
        Column::List(rows) => {
            let mut builder = ListBuilder::new(StringBuilder::new());
            for row in rows {
                match row {
                    Some(items) => builder.append_value(items.clone()),
                    None => builder.append_null(),
                }
            }
            Arc::new(builder.finish())
        }
        Column::Vector(_, rows) => {
            let mut builder = ListBuilder::new(Float64Builder::new());
            for row in rows {
                match row {
                    Some(items) => builder.append_value(items.clone()),
                    None => builder.append_null(),
                }
            }
            Arc::new(builder.finish())
        }
    }
}

/// The record identifier and event time, as text (the event time sometimes a timestamp column instead).
fn keys() -> impl Strategy<Value = (Vec<Option<String>>, Column)> {
    (
        nullable(text()),
        prop_oneof![
            nullable(text()).prop_map(|v| Column::Text(TextInput::Utf8(v))),
            nullable(any::<i64>()).prop_map(|v| Column::Text(TextInput::Timestamp(v))),
            nullable(float()).prop_map(|v| Column::Fractional(v, false)),
        ],
    )
}

fn check(ids: &[Option<String>], event_time: &Column, columns: &[Column]) {
    let event_time_type = if matches!(event_time, Column::Fractional(..)) {
        "Fractional"
    } else {
        "String"
    };
    let mut definitions = vec![feature("id", "String"), feature("event_time", event_time_type)];
    let mut fields = vec![Field::new("id", arrow_schema::DataType::Utf8, true)];
    let mut arrays: Vec<ArrayRef> = vec![Arc::new(StringArray::from(ids.to_vec()))];
    let time = array(event_time);
    fields.push(Field::new("event_time", time.data_type().clone(), true));
    arrays.push(time);
    for (i, column) in columns.iter().enumerate() {
        let name = format!("f{i}");
        definitions.push(definition(&name, column));
        let values = array(column);
        fields.push(Field::new(&name, values.data_type().clone(), true));
        arrays.push(values);
    }
    let group = group(&definitions);
    let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).expect("valid batch");
    // Some inputs are refused by the schema check (an unsigned 64-bit Integral, say): that is an answer too.
    let Ok(encoder) = RecordEncoder::new(&group, batch.schema_ref(), false) else {
        return;
    };
    let mut out = EncodedBatch::default();
    encoder.encode(&batch, 100, &mut out);
    let mut rows: Vec<u64> = out.records().iter().map(|r| r.row).collect();
    rows.extend(out.failed().iter().map(|f| f.row));
    rows.sort_unstable();
    assert_eq!(
        rows,
        (100..100 + ROWS as u64).collect::<Vec<_>>(),
        "every row once"
    );
    for record in out.records() {
        let json: Value = serde_json::from_slice(out.record_json(record)).expect("each record is JSON");
        let features = json.as_array().expect("a record is an array of features");
        assert!(features.iter().all(|f| f["FeatureName"].is_string()), "{json}");
        assert_eq!(features[0]["FeatureName"], "id");
    }
    for failed in out.failed() {
        assert!(
            !failed.reason.code.is_empty() && failed.reason.message.contains(&format!("row {}", failed.row))
        );
    }
}

proptest! {
    // A short run in the suite; PROPTEST_CASES sets the long one.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(512),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn fuzz_the_encoder_never_panics_and_accounts_for_every_row(
        (ids, event_time) in keys(),
        columns in prop::collection::vec(column(), 0..6),
    ) {
        check(&ids, &event_time, &columns);
    }
}
