//! Every retryable error is retried until the rows are written; retries that run out fail the rows with the
//! last error. Each fault is injected by the real local store.
use crate::support::{TRANSPORTS, TestStore, assert_accounted, batch};
use featurestore_core::config::{Api, RetryConfig, TransportKind};
use featurestore_core::metrics::index;
use featurestore_core::record::FailureOrigin;
use featurestore_core::sink::Writer;
use featurestore_local::Faults;

/// Writes `rows` rows with `faults` on, and checks they were all acknowledged after retries.
fn all_written_despite(
    faults: Faults,
    api: Api,
    rows: usize,
) -> Vec<[i64; featurestore_core::metrics::METRIC_COUNT]> {
    let store = TestStore::start();
    let mut all = Vec::new();
    for transport in TRANSPORTS {
        let group = format!("g-{transport:?}").to_lowercase();
        let model = store.create_group(&group);
        store.set_faults(faults.clone());
        let mut config = store.writer_config(&group, transport);
        config.api = api;
        config.client.request_timeout_ms = 2_000;
        let mut writer = Writer::open(config, model).unwrap();
        for first in (0..rows).step_by(50) {
            writer.write_batch(&batch(first, 50)).unwrap();
        }
        writer.flush().unwrap();
        let m = writer.metrics();
        assert_accounted(&m, rows as i64);
        assert_eq!(
            m[index::ROWS_ACKNOWLEDGED],
            rows as i64,
            "{transport:?}: {m:?} {:?}",
            writer.take_failed().first()
        );
        assert!(
            m[index::ROWS_RETRIED] > 0,
            "{transport:?}: nothing was retried: {m:?}"
        );
        store.clear_faults();
        for id in [0, rows / 2, rows - 1] {
            assert!(
                store.get_record(&group, &format!("id-{id}")).is_some(),
                "{transport:?}: id-{id}"
            );
        }
        all.push(m);
    }
    all
}

// 1,000 rows are 40 calls: with 20, a run in which no call met the fault at all (0.8^20 = 1.2% for resets)
// would fail the "something was retried" check for nothing.
#[test]
fn throttling_is_retried_and_counted() {
    let faults = Faults {
        throttle_probability: 0.3,
        ..Faults::default()
    };
    for m in all_written_despite(faults, Api::BatchWriteRecord, 1000) {
        assert!(m[index::REQUESTS_THROTTLED] > 0, "{m:?}");
    }
}

#[test]
fn internal_failures_are_retried() {
    let faults = Faults {
        server_error_probability: 0.3,
        ..Faults::default()
    };
    all_written_despite(faults, Api::BatchWriteRecord, 1000);
}

#[test]
fn service_unavailable_is_retried_with_put_record_too() {
    let faults = Faults {
        unavailable_probability: 0.3,
        ..Faults::default()
    };
    all_written_despite(faults, Api::PutRecord, 200);
}

#[test]
fn connection_resets_are_retried() {
    let faults = Faults {
        connection_reset_probability: 0.2,
        ..Faults::default()
    };
    all_written_despite(faults, Api::BatchWriteRecord, 1000);
}

#[test]
fn unprocessed_entries_are_sent_again() {
    let faults = Faults {
        unprocessed_entry_probability: 0.3,
        ..Faults::default()
    };
    let metrics = all_written_despite(faults, Api::BatchWriteRecord, 500);
    for m in metrics {
        // Only the unprocessed entries are re-sent, never the whole call.
        assert!(m[index::ROWS_RETRIED] < 500, "{m:?}");
    }
}

#[test]
fn timeouts_are_retried() {
    let store = TestStore::start();
    for transport in TRANSPORTS {
        let group = format!("timeout-{transport:?}").to_lowercase();
        let model = store.create_group(&group);
        // Half the calls take 0-400 ms more than the 200 ms timeout allows. 40 calls of 25 records: with the
        // 4 calls of 100 records, none timed out one run in 16 (2^-4), and the test failed for nothing.
        store.set_faults(Faults {
            latency_ms: 0,
            latency_jitter_ms: 400,
            ..Faults::default()
        });
        let mut config = store.writer_config(&group, transport);
        config.client.request_timeout_ms = 200;
        let mut writer = Writer::open(config, model).unwrap();
        writer.write_batch(&batch(0, 1000)).unwrap();
        writer.flush().unwrap();
        let m = writer.metrics();
        assert_accounted(&m, 1000);
        assert_eq!(m[index::ROWS_ACKNOWLEDGED], 1000, "{transport:?}: {m:?}");
        assert!(m[index::ROWS_RETRIED] > 0, "{transport:?}: {m:?}");
        store.clear_faults();
    }
}

#[test]
fn rows_fail_with_the_last_error_when_retries_run_out() {
    let store = TestStore::start();
    for transport in [TransportKind::Lean, TransportKind::Sdk] {
        let group = format!("exhausted-{transport:?}").to_lowercase();
        let model = store.create_group(&group);
        store.set_faults(Faults {
            throttle_probability: 1.0,
            ..Faults::default()
        });
        let mut config = store.writer_config(&group, transport);
        config.retry = RetryConfig {
            max_attempts: Some(3),
            max_elapsed_ms: 10_000,
            base_delay_ms: 1,
            max_delay_ms: 5,
        };
        let mut writer = Writer::open(config, model).unwrap();
        writer.write_batch(&batch(0, 60)).unwrap();
        writer.flush().unwrap(); // throttling is not fatal to the writer: rows fail, the job goes on
        let m = writer.metrics();
        assert_accounted(&m, 60);
        assert_eq!(m[index::ROWS_FAILED], 60);
        assert_eq!(m[index::ROWS_RETRIED], 120, "two retries of 60 rows: {m:?}");
        assert_eq!(
            m[index::REQUESTS],
            9,
            "3 calls of 25/25/10, 3 attempts each: {m:?}"
        );
        let failed = writer.take_failed();
        assert_eq!(failed.len(), 60);
        assert!(
            failed
                .iter()
                .all(|f| f.reason.origin == FailureOrigin::RetriesExhausted
                    && f.reason.code == "ThrottlingException"
                    && f.reason.message.starts_with("after 3 attempts"))
        );
        store.clear_faults();
    }
}

#[test]
fn retries_stop_at_the_time_bound() {
    let store = TestStore::start();
    let group = "elapsed";
    let model = store.create_group(group);
    store.set_faults(Faults {
        server_error_probability: 1.0,
        ..Faults::default()
    });
    let mut config = store.writer_config(group, TransportKind::Lean);
    config.retry = RetryConfig {
        max_attempts: Some(1_000),
        max_elapsed_ms: 300,
        base_delay_ms: 20,
        max_delay_ms: 40,
    };
    let mut writer = Writer::open(config, model).unwrap();
    writer.write_batch(&batch(0, 25)).unwrap();
    writer.flush().unwrap();
    let failed = writer.take_failed();
    assert_eq!(failed.len(), 25);
    assert!(failed.iter().all(|f| f.reason.origin == FailureOrigin::RetriesExhausted
        && f.reason.code == "InternalFailure"));
    assert!(
        writer.metrics()[index::REQUESTS] < 100,
        "bounded by time, not attempts"
    );
}
