//! The schema check: every problem at once, with stable rule ids and messages naming the column, its
//! type, the feature type and what would work.
// Tests may panic on a broken expectation: that is how they fail.
use std::sync::Arc;

use crate::support::*;
use arrow_schema::{DataType, Field, Fields, IntervalUnit, Schema, TimeUnit};
use featurestore_core::schema::check_schema;
use featurestore_core::{Error, SchemaProblem};

fn list_of(element: DataType) -> DataType {
    DataType::List(Arc::new(Field::new("element", element, true)))
}

fn schema(columns: &[(&str, DataType)]) -> Schema {
    Schema::new(
        columns
            .iter()
            .map(|(name, data_type)| Field::new(*name, data_type.clone(), true))
            .collect::<Vec<_>>(),
    )
}

fn problems(
    group: &featurestore_core::model::FeatureGroup,
    schema: &Schema,
    ignore: bool,
) -> Vec<SchemaProblem> {
    match check_schema(group, schema, ignore) {
        Err(Error::Schema(problems)) => problems,
        other => panic!("expected Error::Schema, got {other:?}"),
    }
}

/// `column 'x': message [rule]` for each problem, as the driver prints them.
fn lines(problems: Vec<SchemaProblem>) -> Vec<String> {
    problems.iter().map(ToString::to_string).collect()
}

fn tz_timestamp() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("Europe/Paris".into()))
}

#[test]
fn every_problem_is_reported_at_once() {
    let group = group(&[
        feature("id", "String"),
        feature("event_time", "String"),
        feature("n", "Integral"),
        feature("f", "Fractional"),
        feature("s", "String"),
        collection("tags", "String", "List"),
        vector("emb", 3),
    ]);
    let s = schema(&[
        ("n", DataType::Float64),
        ("f", DataType::Utf8),
        ("s", DataType::Binary),
        ("tags", DataType::Utf8),
        (
            "emb",
            DataType::FixedSizeList(Arc::new(Field::new("item", DataType::Float32, true)), 4),
        ),
        ("N", DataType::Int64),
        ("extra", DataType::Int64),
        ("s", DataType::Utf8),
        ("event_time", DataType::Int64),
    ]);
    assert_eq!(
        lines(problems(&group, &s, false)),
        vec![
            "column 'n': the column has type Float64 (Spark double) but feature 'n' is Integral: Integral values are never written with a fraction; cast the column to bigint if its values are whole numbers [incompatible_type]",
            "column 'f': the column has type Utf8 (Spark string) but feature 'f' is Fractional: text is not parsed into numbers here; cast the column to double [incompatible_type]",
            "column 's': the column has type Binary (Spark binary), which cannot be written to a feature (bytes have no text form of their own: write base64(col) or cast(col as string) for UTF-8 bytes to a String feature) [unsupported_type]",
            "column 'tags': the column has type Utf8 (Spark string) but feature 'tags' is a List of String: the column must be an array (array(col) wraps a single value) [incompatible_type]",
            "column 'emb': the column has type FixedSizeList(4 x Float32) with 4 elements per row, but feature 'emb' is a Vector(3) of Fractional: every row would fail [incompatible_type]",
            "column 'N': the column is not a feature of feature group 'test-group' (feature names are case-sensitive: did you mean 'n'?); drop it, or set ignoreUnknownColumns to skip columns that are not features [unknown_column]",
            "column 'extra': the column is not a feature of feature group 'test-group'; drop it, or set ignoreUnknownColumns to skip columns that are not features [unknown_column]",
            "column 's': the column appears more than once in the input; each feature takes one column [duplicate_column]",
            "column 'event_time': the column has type Int64 (Spark bigint) but the event time feature 'event_time' is String: a String event time takes a timestamp, a date or ISO-8601 text (yyyy-MM-ddTHH:mm:ssZ or yyyy-MM-ddTHH:mm:ss.SSSZ); convert numbers with timestamp_seconds(col) or timestamp_millis(col) [incompatible_type]",
            "column 'id': the input has no column for the record identifier feature 'id' (String); every record needs one [missing_record_identifier]",
        ]
    );
    // The error's own text lists them all too, and the encoder refuses the schema the same way.
    let error = featurestore_core::encode::RecordEncoder::new(&group, &s, false).unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("the input does not match the feature group: column 'n': ")
    );
    assert_eq!(error.kind(), featurestore_core::ErrorKind::Validation);
    let Error::Schema(from_encoder) = error else {
        panic!("not a schema error")
    };
    assert_eq!(from_encoder, problems(&group, &s, false));
}

#[test]
fn rule_ids_and_columns_are_structured_for_callers() {
    let group = group(&[feature("id", "String"), feature("event_time", "String")]);
    assert_eq!(
        problems(&group, &schema(&[("x", DataType::Int32)]), false),
        vec![
            SchemaProblem {
                column: Some("x".into()),
                rule: "unknown_column".into(),
                message: "the column is not a feature of feature group 'test-group'; drop it, or set ignoreUnknownColumns to skip columns that are not features".into(),
            },
            SchemaProblem {
                column: Some("id".into()),
                rule: "missing_record_identifier".into(),
                message: "the input has no column for the record identifier feature 'id' (String); every record needs one".into(),
            },
            SchemaProblem {
                column: Some("event_time".into()),
                rule: "missing_event_time".into(),
                message: "the input has no column for the event time feature 'event_time' (String); every record needs one".into(),
            },
        ]
    );
}

#[test]
fn unknown_columns_can_be_ignored_but_other_problems_remain() {
    let group = group(&[
        feature("id", "String"),
        feature("event_time", "String"),
        feature("n", "Integral"),
    ]);
    let s = schema(&[
        ("id", DataType::Utf8),
        ("event_time", tz_timestamp()),
        ("extra", DataType::Binary),
        ("n", DataType::Boolean),
    ]);
    assert_eq!(
        lines(problems(&group, &s, true)),
        vec![
            "column 'n': the column has type Boolean (Spark boolean) but feature 'n' is Integral: booleans are written only to String features (as true/false); cast the column to int for an Integral feature [incompatible_type]"
        ]
    );
    let fine = schema(&[
        ("id", DataType::Utf8),
        ("event_time", tz_timestamp()),
        ("extra", DataType::Binary),
    ]);
    check_schema(&group, &fine, true).unwrap();
    assert_eq!(problems(&group, &fine, false)[0].rule, "unknown_column");
}

#[test]
fn every_type_spark_produces_is_accepted_where_it_fits() {
    let group = group(&[
        feature("id", "Integral"),
        feature("event_time", "String"),
        feature("b", "String"),
        feature("i8", "Integral"),
        feature("i16", "Integral"),
        feature("i32", "Fractional"),
        feature("i64", "String"),
        feature("f32", "Fractional"),
        feature("f64", "String"),
        feature("dec", "Integral"),
        feature("dec2", "Fractional"),
        feature("str", "String"),
        feature("date", "String"),
        feature("date2", "Fractional"),
        feature("ts", "String"),
        feature("ntz", "Fractional"),
        feature("void", "Integral"),
        collection("ints", "Integral", "List"),
        collection("words", "String", "Set"),
        vector("emb", 2),
        collection("large", "String", "List"),
        feature("view", "String"),
        feature("dict", "String"),
        feature("u64", "Integral"),
        feature("f16", "Fractional"),
        feature("d64", "String"),
    ]);
    let s = schema(&[
        ("id", DataType::Int64),
        ("event_time", tz_timestamp()),
        ("b", DataType::Boolean),
        ("i8", DataType::Int8),
        ("i16", DataType::Int16),
        ("i32", DataType::Int32),
        ("i64", DataType::Int64),
        ("f32", DataType::Float32),
        ("f64", DataType::Float64),
        ("dec", DataType::Decimal128(38, 0)),
        ("dec2", DataType::Decimal128(10, 2)),
        ("str", DataType::Utf8),
        ("date", DataType::Date32),
        ("date2", DataType::Date32),
        ("ts", tz_timestamp()),
        ("ntz", DataType::Timestamp(TimeUnit::Microsecond, None)),
        ("void", DataType::Null),
        ("ints", list_of(DataType::Int32)),
        ("words", list_of(DataType::Utf8)),
        ("emb", list_of(DataType::Float64)),
        (
            "large",
            DataType::LargeList(Arc::new(Field::new("element", DataType::LargeUtf8, true))),
        ),
        ("view", DataType::Utf8View),
        (
            "dict",
            DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)),
        ),
        ("u64", DataType::UInt64),
        ("f16", DataType::Float16),
        ("d64", DataType::Date64),
    ]);
    check_schema(&group, &s, false).unwrap();
    // The event time also takes a date or text (String), or numbers and instants (Fractional).
    for event_time in [
        DataType::Date32,
        DataType::Utf8,
        DataType::LargeUtf8,
        DataType::Timestamp(TimeUnit::Nanosecond, None),
    ] {
        let s = schema(&[("id", DataType::Utf8), ("event_time", event_time.clone())]);
        check_schema(&group_with_event_time("String"), &s, false)
            .unwrap_or_else(|e| panic!("{event_time}: {e}"));
    }
    for event_time in [
        DataType::Float64,
        DataType::Int64,
        DataType::Decimal128(20, 6),
        tz_timestamp(),
        DataType::Date32,
    ] {
        let s = schema(&[("id", DataType::Utf8), ("event_time", event_time.clone())]);
        check_schema(&group_with_event_time("Fractional"), &s, false)
            .unwrap_or_else(|e| panic!("{event_time}: {e}"));
    }
}

fn group_with_event_time(feature_type: &str) -> featurestore_core::model::FeatureGroup {
    group(&[feature("id", "String"), feature("event_time", feature_type)])
}

#[test]
fn nested_and_unsupported_types_are_rejected_with_a_way_out() {
    let group = group(&[
        feature("id", "String"),
        feature("event_time", "String"),
        feature("st", "String"),
        feature("m", "String"),
        collection("ll", "String", "List"),
        collection("ls", "String", "List"),
        feature("t", "String"),
        feature("d", "String"),
        feature("iv", "String"),
        feature("big", "Fractional"),
        feature("lb", "String"),
        collection("lv", "String", "List"),
        collection("nulls", "String", "List"),
        feature("arr", "String"),
        feature("ts", "Integral"),
        feature("date", "Integral"),
        collection("lbin", "String", "List"),
    ]);
    let struct_type = DataType::Struct(Fields::from(vec![Field::new("a", DataType::Int32, true)]));
    let map_type = DataType::Map(
        Arc::new(Field::new(
            "entries",
            DataType::Struct(Fields::from(vec![
                Field::new("key", DataType::Utf8, false),
                Field::new("value", DataType::Utf8, true),
            ])),
            false,
        )),
        false,
    );
    let s = schema(&[
        ("id", DataType::Utf8),
        ("event_time", DataType::Utf8),
        ("st", struct_type.clone()),
        ("m", map_type),
        ("ll", list_of(list_of(DataType::Utf8))),
        ("ls", list_of(struct_type)),
        ("t", DataType::Time64(TimeUnit::Microsecond)),
        ("d", DataType::Duration(TimeUnit::Second)),
        ("iv", DataType::Interval(IntervalUnit::MonthDayNano)),
        ("big", DataType::Decimal256(50, 2)),
        ("lb", DataType::LargeBinary),
        (
            "lv",
            DataType::ListView(Arc::new(Field::new("item", DataType::Utf8, true))),
        ),
        ("nulls", list_of(DataType::Null)),
        ("arr", list_of(DataType::Utf8)),
        ("ts", tz_timestamp()),
        ("date", DataType::Date32),
        ("lbin", list_of(DataType::Binary)),
    ]);
    assert_eq!(
        lines(problems(&group, &s, false)),
        vec![
            "column 'st': the column has type Struct(\"a\": Int32) (Spark struct); nested types cannot be written to feature 'st' (String): flatten it into one column per feature, or write it as JSON text with to_json(col) to a String feature [nested_type_not_supported]",
            "column 'm': the column has type Map(\"entries\": non-null Struct(\"key\": non-null Utf8, \"value\": Utf8), unsorted) (Spark map); nested types cannot be written to feature 'm' (String): flatten it into one column per feature, or write it as JSON text with to_json(col) to a String feature [nested_type_not_supported]",
            "column 'll': the column has type List(List(Utf8, field: 'element'), field: 'element') (Spark array); nested types cannot be written to feature 'll' (List of String): flatten it into one column per feature, or write it as JSON text with to_json(col) to a String feature [nested_type_not_supported]",
            "column 'ls': the column has type List(Struct(\"a\": Int32), field: 'element') (Spark array); nested types cannot be written to feature 'ls' (List of String): flatten it into one column per feature, or write it as JSON text with to_json(col) to a String feature [nested_type_not_supported]",
            "column 't': the column has type Time64(µs), which cannot be written to a feature (cast the column to string for a String feature) [unsupported_type]",
            "column 'd': the column has type Duration(s), which cannot be written to a feature (cast the column to string for a String feature) [unsupported_type]",
            "column 'iv': the column has type Interval(MonthDayNano), which cannot be written to a feature (cast the column to string for a String feature) [unsupported_type]",
            "column 'big': the column has type Decimal256(50, 2), which cannot be written to a feature (precision above 38 digits: cast the column to decimal(38, s) or double) [unsupported_type]",
            "column 'lb': the column has type LargeBinary (Spark binary), which cannot be written to a feature (bytes have no text form of their own: write base64(col) or cast(col as string) for UTF-8 bytes to a String feature) [unsupported_type]",
            "column 'lv': the column has type ListView(Utf8), which this writer does not read; cast it to a List [unsupported_type]",
            "column 'nulls': the column has type List(Null, field: 'element') (Spark array): its elements are always null, which the service rejects in a collection [incompatible_type]",
            "column 'arr': the column has type List(Utf8, field: 'element') (Spark array) but feature 'arr' is String, not a collection: only List, Set and Vector features take arrays (to_json(col) writes an array as JSON text to a String feature) [incompatible_type]",
            "column 'ts': the column has type Timestamp(µs, \"Europe/Paris\") (Spark timestamp) but feature 'ts' is Integral: the unit would be ambiguous; convert with unix_seconds(col), unix_millis(col) or unix_micros(col) [incompatible_type]",
            "column 'date': the column has type Date32 (Spark date) but feature 'date' is Integral: convert with unix_date(col) (days) or unix_seconds(cast(col as timestamp)) [incompatible_type]",
            "column 'lbin': the elements of the column (List(Binary, field: 'element') (Spark array)) do not fit feature 'lbin' (List of String): the column has type Binary (Spark binary), which cannot be written to a feature (bytes have no text form of their own: write base64(col) or cast(col as string) for UTF-8 bytes to a String feature) [unsupported_type]",
        ]
    );
}

#[test]
fn the_record_identifier_and_event_time_cannot_be_always_null_or_the_wrong_kind() {
    let group = group(&[feature("id", "String"), feature("event_time", "Fractional")]);
    let s = schema(&[("id", DataType::Null), ("event_time", DataType::Utf8)]);
    assert_eq!(
        lines(problems(&group, &s, false)),
        vec![
            "column 'id': the column has type Null (Spark void) and is always null, but it holds the record identifier and every record needs one [required_column_always_null]",
            "column 'event_time': the column has type Utf8 (Spark string) but the event time feature 'event_time' is Fractional: a Fractional event time takes epoch seconds; cast the column to timestamp or to double [incompatible_type]",
        ]
    );
    let string_event_time = group_with_event_time("String");
    let s = schema(&[("id", DataType::Utf8), ("event_time", DataType::Float32)]);
    assert_eq!(
        problems(&string_event_time, &s, false)[0].rule,
        "incompatible_type"
    );
    let s = schema(&[("id", DataType::Utf8), ("event_time", DataType::Boolean)]);
    assert_eq!(
        problems(&string_event_time, &s, false)[0].rule,
        "incompatible_type"
    );
}

#[test]
fn a_delete_reads_only_the_record_identifier_and_event_time_columns() {
    use featurestore_core::schema::{check_delete_schema, delete_columns};
    let group = group(&[
        feature("id", "String"),
        feature("event_time", "Fractional"),
        feature("n", "Integral"),
    ]);
    // Columns that would fail a write (a wrong type, a struct, an unknown column) are not read by a delete.
    let struct_type = DataType::Struct(Fields::from(vec![Field::new("a", DataType::Int32, true)]));
    let s = schema(&[
        ("n", DataType::Utf8),
        ("event_time", DataType::Float64),
        ("nested", struct_type),
        ("id", DataType::Utf8),
        ("other", DataType::Binary),
    ]);
    assert!(check_schema(&group, &s, false).is_err());
    check_delete_schema(&group, &s).unwrap();
    assert_eq!(delete_columns(&group, &s), vec![1, 3]);

    // The two columns it reads are held to a write's rules, every problem at once.
    let s = schema(&[("event_time", DataType::Utf8), ("n", DataType::Int64)]);
    let Err(Error::Schema(found)) = check_delete_schema(&group, &s) else {
        panic!("expected Error::Schema");
    };
    let rules: Vec<&str> = found.iter().map(|p| p.rule.as_str()).collect();
    assert_eq!(rules, ["incompatible_type", "missing_record_identifier"]);
    let s = schema(&[("id", DataType::Utf8), ("id", DataType::Utf8)]);
    let Err(Error::Schema(found)) = check_delete_schema(&group, &s) else {
        panic!("expected Error::Schema");
    };
    let rules: Vec<&str> = found.iter().map(|p| p.rule.as_str()).collect();
    assert_eq!(rules, ["duplicate_column", "missing_event_time"]);
}
