//! Terminal errors fail the rows at once with the service's code and message: per-entry validation errors of
//! BatchWriteRecord, a PutRecord refused, a feature group that does not exist.
use crate::support::{TRANSPORTS, TestStore, assert_accounted, batch};
use featurestore_core::Error;
use featurestore_core::config::{Api, TransportKind};
use featurestore_core::metrics::index;
use featurestore_core::model::FeatureType;
use featurestore_core::record::FailureOrigin;
use featurestore_core::sink::Writer;

/// The group's model with `x0` declared String although the store has it Fractional: the writer then sends
/// text the store rejects with ValidationError, for the rows whose x0 is not a number.
fn model_with_x0_as_string(store: &TestStore, group: &str) -> featurestore_core::model::FeatureGroup {
    let mut model = store.create_group(group);
    for feature in &mut model.features {
        if feature.name == "x0" {
            feature.feature_type = FeatureType::String;
        }
    }
    model
}

fn text_batch(first: usize, rows: usize, bad_every: usize) -> arrow_array::RecordBatch {
    use arrow_array::{ArrayRef, StringArray};
    use std::sync::Arc;
    let good = batch(first, rows);
    let x0: ArrayRef = Arc::new(StringArray::from_iter_values((first..first + rows).map(|i| {
        if i % bad_every == 0 {
            "not a number".to_owned()
        } else {
            format!("{i}.5")
        }
    })));
    let mut fields: Vec<arrow_schema::Field> = good
        .schema()
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    let mut columns = good.columns().to_vec();
    let x0_index = good.schema().index_of("x0").unwrap();
    fields[x0_index] = arrow_schema::Field::new("x0", arrow_schema::DataType::Utf8, true);
    columns[x0_index] = x0;
    arrow_array::RecordBatch::try_new(Arc::new(arrow_schema::Schema::new(fields)), columns).unwrap()
}

#[test]
fn validation_errors_fail_only_the_rows_at_fault_with_the_services_message() {
    let store = TestStore::start();
    for api in [Api::BatchWriteRecord, Api::PutRecord] {
        for transport in TRANSPORTS {
            let group = format!("valid-{api:?}-{transport:?}").to_lowercase();
            let model = model_with_x0_as_string(&store, &group);
            let mut config = store.writer_config(&group, transport);
            config.api = api;
            let mut writer = Writer::open(config, model).unwrap();
            writer.write_batch(&text_batch(0, 100, 10)).unwrap();
            writer.flush().unwrap();
            let m = writer.metrics();
            assert_accounted(&m, 100);
            assert_eq!(m[index::ROWS_FAILED], 10, "{api:?} {transport:?}: {m:?}");
            assert_eq!(
                m[index::ROWS_RETRIED],
                0,
                "terminal errors are not retried: {m:?}"
            );
            let mut failed = writer.take_failed();
            failed.sort_by_key(|f| f.row);
            assert_eq!(
                failed.iter().map(|f| f.row).collect::<Vec<_>>(),
                (0..100).step_by(10).collect::<Vec<u64>>()
            );
            for f in &failed {
                assert_eq!(f.reason.origin, FailureOrigin::Service);
                assert_eq!(f.reason.code, "ValidationError", "{f:?}");
                assert!(!f.reason.message.is_empty());
                assert_eq!(f.values["x0"], "not a number");
                assert_eq!(
                    f.record_identifier.as_deref(),
                    Some(format!("id-{}", f.row).as_str())
                );
            }
            assert!(store.get_record(&group, "id-1").is_some());
            assert!(store.get_record(&group, "id-10").is_none());
        }
    }
}

#[test]
fn a_missing_feature_group_fails_the_rows_and_with_batch_write_record_the_writer() {
    let store = TestStore::start();
    for api in [Api::BatchWriteRecord, Api::PutRecord] {
        for transport in TRANSPORTS {
            let model = store.create_group(&format!("exists-{api:?}-{transport:?}").to_lowercase());
            let mut config = store.writer_config("does-not-exist", transport);
            config.api = api;
            let mut writer = Writer::open(config, model).unwrap();
            writer.write_batch(&batch(0, 30)).unwrap();
            let flushed = writer.flush();
            let expected_code = match api {
                // BatchWriteRecord names the group in each entry's error: the writer stops, as every
                // further record would fail the same way.
                Api::BatchWriteRecord => {
                    let error = flushed.unwrap_err();
                    assert!(
                        matches!(&error, Error::Service { code, status: 404, .. } if code == "ResourceNotFound"),
                        "{transport:?}: {error}"
                    );
                    "ResourceNotFound"
                }
                // PutRecord's model has no ResourceNotFound: the service answers each record with a
                // ValidationError, which fails the record (errors are never classified by message text).
                _ => {
                    flushed.unwrap();
                    "ValidationError"
                }
            };
            let m = writer.metrics();
            assert_accounted(&m, 30);
            assert_eq!(m[index::ROWS_FAILED], 30);
            let failed = writer.take_failed();
            assert!(
                failed
                    .iter()
                    .all(|f| f.reason.code == expected_code && f.reason.message.contains("does-not-exist")),
                "{api:?} {transport:?}: {:?}",
                failed.first()
            );
        }
    }
}

#[test]
fn a_session_token_no_request_can_carry_fails_every_row_at_once_instead_of_retrying_until_the_deadline() {
    let store = TestStore::start();
    // The lean transport, the one the connector ships with. (The SDK transport, which no option selects yet,
    // reports the SDK's signing failure as a dispatch failure and retries it.)
    let transport = TransportKind::Lean;
    let group = "token-lean";
    let model = store.create_group(group);
    let mut config = store.writer_config(group, transport);
    // A newline where the token was pasted: no HTTP header can carry it.
    config.client.session_token = Some("token-with\na-newline".into());
    let mut writer = Writer::open(config, model).unwrap();
    writer.write_batch(&batch(0, 30)).unwrap();
    let flushed = writer.flush();
    let m = writer.metrics();
    let failed = writer.take_failed();
    let error = flushed.expect_err(&format!("{m:?} {:?}", failed.first()));
    assert!(matches!(error, Error::Credentials(_)), "{error}");
    assert_accounted(&m, 30);
    assert_eq!(m[index::ROWS_FAILED], 30, "{error}");
    assert_eq!(m[index::ROWS_RETRIED], 0, "not retried: {m:?}");
    assert!(
        failed
            .iter()
            .all(|f| f.reason.origin == FailureOrigin::Client && f.reason.code == "Credentials"),
        "{:?}",
        failed.first()
    );
    assert_eq!(store.get_record(group, "id-0"), None);
}
