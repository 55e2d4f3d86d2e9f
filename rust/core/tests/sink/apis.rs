//! Both write APIs and the `auto` fallback, through both transports, against a real local store; the records
//! read back through the SDK's GetRecord.
use crate::support::{TRANSPORTS, TestStore, assert_accounted, batch};
use featurestore_core::Error;
use featurestore_core::config::{Api, TransportKind};
use featurestore_core::metrics::index;
use featurestore_core::record::FailureOrigin;
use featurestore_core::sink::Writer;
use featurestore_local::Faults;

fn write_rows(store: &TestStore, group: &str, api: Api, transport: TransportKind, rows: usize) -> Writer {
    let model = store.create_group(group);
    let mut config = store.writer_config(group, transport);
    config.api = api;
    let mut writer = Writer::open(config, model).unwrap();
    for first in (0..rows).step_by(100) {
        writer.write_batch(&batch(first, 100.min(rows - first))).unwrap();
    }
    writer
}

#[test]
fn batch_write_record_writes_every_row_in_calls_of_25() {
    let store = TestStore::start();
    for transport in TRANSPORTS {
        let group = format!("batch-{transport:?}").to_lowercase();
        let mut writer = write_rows(&store, &group, Api::BatchWriteRecord, transport, 500);
        writer.flush().unwrap();
        let m = writer.metrics();
        assert_accounted(&m, 500);
        assert_eq!(m[index::ROWS_ACKNOWLEDGED], 500, "{transport:?}: {m:?}");
        assert_eq!(m[index::REQUESTS], 20, "{transport:?}: 500 rows in calls of 25");
        assert!(m[index::BYTES_SENT] > 500 * 400, "{m:?}");
        assert!(m[index::LATENCY_MAX_MS] >= m[index::LATENCY_P50_MS]);
        assert!(writer.take_failed().is_empty());
        for id in ["id-0", "id-250", "id-499"] {
            let record = store
                .get_record(&group, id)
                .unwrap_or_else(|| panic!("{id} not stored"));
            assert_eq!(record["id"], id);
            assert_eq!(record.len(), 20, "{record:?}");
        }
    }
    let stats = store.stats();
    assert_eq!(stats.requests_by_operation.get("BatchWriteRecord"), Some(&40));
}

#[test]
fn put_record_sends_one_call_per_row() {
    let store = TestStore::start();
    for transport in TRANSPORTS {
        let group = format!("put-{transport:?}").to_lowercase();
        let mut writer = write_rows(&store, &group, Api::PutRecord, transport, 200);
        writer.flush().unwrap();
        let m = writer.metrics();
        assert_accounted(&m, 200);
        assert_eq!(m[index::ROWS_ACKNOWLEDGED], 200);
        assert_eq!(m[index::REQUESTS], 200);
        assert_eq!(
            store.get_record(&group, "id-123").unwrap()["i0"],
            (123i64 * 1_000_003).to_string()
        );
    }
    assert_eq!(store.stats().requests_by_operation.get("PutRecord"), Some(&400));
}

#[test]
fn auto_falls_back_to_put_record_when_batch_write_record_is_denied_and_resends_the_rows() {
    let store = TestStore::start();
    store.set_faults(Faults {
        denied_operations: vec!["BatchWriteRecord".into()],
        ..Faults::default()
    });
    for transport in TRANSPORTS {
        let group = format!("auto-{transport:?}").to_lowercase();
        let mut writer = write_rows(&store, &group, Api::Auto, transport, 300);
        writer.flush().unwrap();
        let m = writer.metrics();
        assert_accounted(&m, 300);
        assert_eq!(m[index::ROWS_ACKNOWLEDGED], 300, "{transport:?}: {m:?}");
        assert!(writer.take_failed().is_empty());
        assert!(store.get_record(&group, "id-0").is_some());
        assert!(store.get_record(&group, "id-299").is_some());
    }
    let stats = store.stats();
    assert_eq!(stats.requests_by_operation.get("PutRecord"), Some(&600));
}

#[test]
fn an_explicit_api_that_is_denied_fails_every_row_and_the_writer() {
    let store = TestStore::start();
    store.set_faults(Faults {
        denied_operations: vec!["BatchWriteRecord".into()],
        ..Faults::default()
    });
    for transport in TRANSPORTS {
        let group = format!("denied-{transport:?}").to_lowercase();
        let mut writer = write_rows(&store, &group, Api::BatchWriteRecord, transport, 100);
        let error = writer.flush().unwrap_err();
        assert!(
            matches!(&error, Error::Service { code, status: 403, .. } if code == "AccessForbidden"),
            "{error}"
        );
        let m = writer.metrics();
        assert_accounted(&m, 100);
        assert_eq!(m[index::ROWS_FAILED], 100);
        let failed = writer.take_failed();
        assert_eq!(failed.len(), 100);
        assert!(failed.iter().all(|f| f.reason.origin == FailureOrigin::Service
            && f.reason.code == "AccessForbidden"
            && !f.values.is_empty()
            && f.record_identifier.as_deref() == Some(&format!("id-{}", f.row))));
        // The error is latched: later writes are refused with it.
        assert!(matches!(
            writer.write_batch(&batch(100, 1)),
            Err(Error::Service { .. })
        ));
    }
}

#[test]
fn target_stores_and_ttl_are_sent_with_every_record() {
    let store = TestStore::start();
    for transport in TRANSPORTS {
        let group = format!("ttl-{transport:?}").to_lowercase();
        let model = store.create_group(&group);
        let mut config = store.writer_config(&group, transport);
        config.target_stores = Some(vec![featurestore_core::config::TargetStore::OnlineStore]);
        config.ttl_duration = Some(featurestore_core::config::TtlDuration {
            unit: featurestore_core::config::TtlUnit::Days,
            value: 3650,
        });
        let mut writer = Writer::open(config, model).unwrap();
        writer.write_batch(&batch(0, 30)).unwrap();
        writer.flush().unwrap();
        assert_eq!(writer.metrics()[index::ROWS_ACKNOWLEDGED], 30);
        assert!(store.get_record(&group, "id-29").is_some());
    }
}

#[test]
fn a_refused_signature_fails_every_row_and_the_writer_at_once_without_falling_back_and_says_what_to_check() {
    let store = TestStore::start();
    for transport in TRANSPORTS {
        let group = format!("badsig-{transport:?}").to_lowercase();
        let model = store.create_group(&group);
        let mut config = store.writer_config(&group, transport);
        config.api = Api::Auto;
        config.client.secret_access_key = Some("not-the-secret".into());
        let mut writer = Writer::open(config, model).unwrap();
        writer.write_batch(&batch(0, 100)).unwrap();
        let error = writer.flush().unwrap_err();
        assert!(
            matches!(&error, Error::Service { code, status: 403, message, .. }
                if code == "InvalidSignatureException" && message.contains("clock")),
            "{transport:?}: {error}"
        );
        let m = writer.metrics();
        assert_accounted(&m, 100);
        assert_eq!(m[index::ROWS_FAILED], 100, "{transport:?}: {m:?}");
        assert_eq!(
            m[index::ROWS_RETRIED],
            0,
            "{transport:?}: a refused signature is not retried"
        );
        let failed = writer.take_failed();
        assert!(
            failed
                .iter()
                .all(|f| f.reason.code == "InvalidSignatureException")
        );
    }
    // Neither transport fell back to PutRecord: a bad signature is not a missing permission.
    assert_eq!(store.stats().requests_by_operation.get("PutRecord"), None);
    assert!(store.get_record("badsig-lean", "id-0").is_none());
}

#[test]
fn the_drivers_describe_with_a_wrong_secret_fails_at_once_and_says_what_to_check() {
    let store = TestStore::start();
    store.create_group("described");
    let mut client = store.client_config(TransportKind::Lean);
    client.secret_access_key = Some("not-the-secret".into());
    let error = featurestore_core::control::describe_feature_group(&client, "described").unwrap_err();
    assert!(
        matches!(&error, Error::Service { code, message, .. }
            if code == "InvalidSignatureException" && message.contains("secret access key")),
        "{error}"
    );
}
