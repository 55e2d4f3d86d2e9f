//! What the store holds is exactly the text the encoder was meant to write, for every type of the test group,
//! read back through the Rust SDK's GetRecord; plus IPC stream input, dry runs and DescribeFeatureGroup.
use std::sync::Arc;

use crate::support::{TRANSPORTS, TestStore, assert_accounted, batch, schema};
use arrow_array::{
    ArrayRef, Float32Array, Float64Array, Int8Array, Int16Array, Int32Array, Int64Array, RecordBatch,
    StringArray, TimestampMillisecondArray,
};
use featurestore_core::Error;
use featurestore_core::config::TransportKind;
use featurestore_core::control::describe_feature_group;
use featurestore_core::metrics::index;
use featurestore_core::sink::Writer;
use serde_json::{Value, json};

/// Two rows with edge values; the second has nulls, which the record must omit.
fn edge_batch() -> RecordBatch {
    let strings = |values: [Option<&str>; 2]| -> ArrayRef { Arc::new(StringArray::from(values.to_vec())) };
    let columns: Vec<ArrayRef> = vec![
        strings([Some("edge-1"), Some("edge-2")]),
        Arc::new(TimestampMillisecondArray::from(vec![1_700_000_000_123, 0]).with_timezone("UTC")),
        // i0 / x0 / s0
        Arc::new(Int64Array::from(vec![Some(-9_007_199_254_740_993), None])),
        Arc::new(Float64Array::from(vec![Some(0.1), None])),
        strings([Some("quote \" backslash \\ newline \n tab \t"), None]),
        // i1 / x1 / s1
        Arc::new(Int32Array::from(vec![i32::MIN, 0])),
        Arc::new(Float32Array::from(vec![0.1f32, 16777216.0])),
        strings([Some("naïve café 東京 🎉"), Some("x")]),
        // i2 / x2 / s2
        Arc::new(Int16Array::from(vec![i16::MAX, -1])),
        Arc::new(Float64Array::from(vec![1.0, -0.5])),
        strings([Some("{\"json\": [1, 2]}"), Some("  spaces  ")]),
        // i3 / x3 / s3
        Arc::new(Int8Array::from(vec![i8::MIN, 7])),
        Arc::new(Float64Array::from(vec![1e21, 1e-7])),
        strings([Some("\u{0001}control"), Some("/slashes/")]),
        // i4 / x4 / s4
        Arc::new(Int64Array::from(vec![i64::MAX, i64::MIN])),
        Arc::new(Float64Array::from(vec![123456789.125, f64::MAX])),
        strings([Some("<html>&amp;</html>"), Some("é")]),
        // i5 / x5 / s5
        Arc::new(Int64Array::from(vec![0, 42])),
        Arc::new(Float64Array::from(vec![-0.0, 2.5])),
        strings([Some("last"), Some("z")]),
    ];
    RecordBatch::try_new(schema(), columns).unwrap()
}

#[test]
fn stored_strings_are_exactly_the_expected_ones_for_every_type() {
    let store = TestStore::start();
    for transport in TRANSPORTS {
        let group = format!("readback-{transport:?}").to_lowercase();
        let model = store.create_group(&group);
        let mut writer = Writer::open(store.writer_config(&group, transport), model).unwrap();
        writer.write_batch(&edge_batch()).unwrap();
        writer.flush().unwrap();
        assert_eq!(writer.metrics()[index::ROWS_ACKNOWLEDGED], 2);

        let first = store.get_record(&group, "edge-1").unwrap();
        let expected_first = json!({
            "id": "edge-1", "event_time": "2023-11-14T22:13:20.123Z",
            "i0": "-9007199254740993", "x0": "0.1", "s0": "quote \" backslash \\ newline \n tab \t",
            "i1": "-2147483648", "x1": "0.1", "s1": "naïve café 東京 🎉",
            "i2": "32767", "x2": "1.0", "s2": "{\"json\": [1, 2]}",
            "i3": "-128", "x3": "1e+21", "s3": "\u{0001}control",
            "i4": "9223372036854775807", "x4": "123456789.125", "s4": "<html>&amp;</html>",
            "i5": "0", "x5": "-0.0", "s5": "last",
        });
        assert_eq!(Value::Object(first), expected_first, "{transport:?}");

        let second = store.get_record(&group, "edge-2").unwrap();
        let expected_second = json!({
            "id": "edge-2", "event_time": "1970-01-01T00:00:00.000Z",
            "i1": "0", "x1": "16777216.0", "s1": "x",
            "i2": "-1", "x2": "-0.5", "s2": "  spaces  ",
            "i3": "7", "x3": "1e-7", "s3": "/slashes/",
            "i4": "-9223372036854775808", "x4": "1.7976931348623157e+308", "s4": "é",
            "i5": "42", "x5": "2.5", "s5": "z",
        });
        assert_eq!(
            Value::Object(second),
            expected_second,
            "{transport:?}: nulls are omitted"
        );
    }
}

#[test]
fn ipc_streams_are_read_whole_and_rows_numbered_across_calls() {
    let store = TestStore::start();
    let group = "ipc";
    let model = store.create_group(group);
    let mut writer = Writer::open(store.writer_config(group, TransportKind::Lean), model).unwrap();
    for first in [0, 300] {
        let mut bytes = Vec::new();
        let mut ipc = arrow_ipc::writer::StreamWriter::try_new(&mut bytes, &schema()).unwrap();
        ipc.write(&batch(first, 200)).unwrap();
        ipc.write(&batch(first + 200, 100)).unwrap();
        ipc.finish().unwrap();
        drop(ipc);
        assert!(writer.write_ipc_stream(&bytes, None).unwrap());
    }
    writer.flush().unwrap();
    assert_accounted(&writer.metrics(), 600);
    assert_eq!(writer.metrics()[index::ROWS_ACKNOWLEDGED], 600);
    assert!(store.get_record(group, "id-599").is_some());
    assert!(matches!(
        writer.write_ipc_stream(b"not arrow", None),
        Err(Error::Input(_))
    ));
}

#[test]
fn a_dry_run_encodes_every_row_and_sends_nothing() {
    let store = TestStore::start();
    let group = "dry";
    let model = store.create_group(group);
    let requests_before = store.stats().requests;
    let mut config = store.writer_config(group, TransportKind::Lean);
    config.dry_run = true;
    let mut writer = Writer::open(config, model).unwrap();
    writer.write_batch(&batch(0, 500)).unwrap();
    writer.flush().unwrap();
    let m = writer.metrics();
    assert_accounted(&m, 500);
    assert_eq!(
        (
            m[index::ROWS_ACKNOWLEDGED],
            m[index::ROWS_DRY_RUN],
            m[index::REQUESTS]
        ),
        (500, 500, 0)
    );
    assert_eq!(
        store.stats().requests,
        requests_before,
        "a dry run sent something"
    );
    assert!(store.get_record(group, "id-0").is_none());
}

#[test]
fn schema_problems_are_reported_before_anything_is_sent() {
    let store = TestStore::start();
    let group = "schema";
    let model = store.create_group(group);
    let mut writer = Writer::open(store.writer_config(group, TransportKind::Lean), model).unwrap();
    let good = batch(0, 3);
    let mut fields: Vec<arrow_schema::Field> = good
        .schema()
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    fields.push(arrow_schema::Field::new(
        "unknown",
        arrow_schema::DataType::Int64,
        true,
    ));
    let mut columns = good.columns().to_vec();
    columns.push(Arc::new(Int64Array::from(vec![1, 2, 3])));
    let extra = RecordBatch::try_new(Arc::new(arrow_schema::Schema::new(fields)), columns).unwrap();
    assert!(matches!(writer.write_batch(&extra), Err(Error::Schema(_))));
    assert_eq!(writer.metrics()[index::ROWS_ACCEPTED], 0);
}

#[test]
fn describe_feature_group_follows_next_token_through_every_page_of_definitions() {
    let store = TestStore::start_with(|config| config.describe_page_size = 7);
    let group = store.create_group("paged");
    let client = store.client_config(TransportKind::Lean);
    let (status, first_page) = store.control_call(
        "SageMaker.DescribeFeatureGroup",
        json!({"FeatureGroupName": "paged"}),
    );
    assert_eq!(status, 200);
    let first_page: Value = serde_json::from_str(&first_page).unwrap();
    assert_eq!(first_page["FeatureDefinitions"].as_array().unwrap().len(), 7);
    assert_eq!(first_page["NextToken"], "7");

    let json: Value = serde_json::from_str(&describe_feature_group(&client, "paged").unwrap()).unwrap();
    let names: Vec<&str> = json["FeatureDefinitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["FeatureName"].as_str().unwrap())
        .collect();
    // In the order created (support::TestStore::create_group).
    let mut expected = vec!["id".to_owned(), "event_time".to_owned()];
    expected.extend((0..6).flat_map(|i| [format!("i{i}"), format!("x{i}"), format!("s{i}")]));
    assert_eq!(names, expected);
    assert_eq!(group.features.len(), 20);
    assert!(json.get("NextToken").is_none(), "{json}");
}

#[test]
fn describe_feature_group_returns_the_services_json_verbatim() {
    let store = TestStore::start();
    store.create_group("described");
    let client = store.client_config(TransportKind::Lean);
    let json: Value = serde_json::from_str(&describe_feature_group(&client, "described").unwrap()).unwrap();
    assert_eq!(json["FeatureGroupName"], "described");
    assert_eq!(json["RecordIdentifierFeatureName"], "id");
    assert_eq!(json["FeatureDefinitions"].as_array().unwrap().len(), 20);
    let arn = json["FeatureGroupArn"].as_str().unwrap().to_owned();
    let by_arn: Value = serde_json::from_str(&describe_feature_group(&client, &arn).unwrap()).unwrap();
    assert_eq!(by_arn["FeatureGroupName"], "described");
    let missing = describe_feature_group(&client, "missing").unwrap_err();
    assert!(
        matches!(&missing, Error::Service { code, .. } if code == "ResourceNotFound"),
        "{missing}"
    );
    let mut bad = client.clone();
    bad.runtime_endpoint = Some("ftp://nowhere".into());
    assert!(matches!(
        describe_feature_group(&bad, "described"),
        Err(Error::InvalidConfig(_))
    ));
}
