//! Flow control: the concurrency limit adapts to throttling, the records-per-second ceiling holds, the
//! bounded queue holds the caller back, and abort stops promptly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod sink_support;

use std::time::{Duration, Instant};

use featurestore_core::Error;
use featurestore_core::config::TransportKind;
use featurestore_core::metrics::index;
use featurestore_core::record::FailureOrigin;
use featurestore_core::sink::Writer;
use featurestore_local::Faults;
use sink_support::{TestStore, assert_accounted, batch};

#[test]
fn throttling_cuts_the_concurrency_limit_and_every_row_still_lands() {
    let store = TestStore::start();
    let group = "throttled";
    let model = store.create_group(group);
    // The store takes 2,000 records/s; 64 calls of 25 in flight ask for far more.
    store.set_faults(Faults {
        max_records_per_second: Some(2_000.0),
        latency_ms: 5,
        ..Faults::default()
    });
    let mut config = store.writer_config(group, TransportKind::Lean);
    config.max_in_flight = 64;
    let mut writer = Writer::open(config, model).unwrap();
    for first in (0..4_000).step_by(500) {
        writer.write_batch(&batch(first, 500)).unwrap();
    }
    writer.flush().unwrap();
    let m = writer.metrics();
    assert_accounted(&m, 4_000);
    assert_eq!(m[index::ROWS_ACKNOWLEDGED], 4_000, "{m:?}");
    assert!(m[index::REQUESTS_THROTTLED] > 0, "{m:?}");
    assert!(m[index::CONCURRENCY_LIMIT] < 64, "the limit was never cut: {m:?}");
    let stats = store.stats();
    assert!(stats.throttled > 0);
}

#[test]
fn success_grows_the_limit_back() {
    let store = TestStore::start();
    let group = "recovering";
    let model = store.create_group(group);
    store.set_faults(Faults {
        throttle_probability: 1.0,
        ..Faults::default()
    });
    let mut config = store.writer_config(group, TransportKind::Lean);
    config.max_in_flight = 16;
    config.retry.max_attempts = 4;
    let mut writer = Writer::open(config, model).unwrap();
    writer.write_batch(&batch(0, 100)).unwrap();
    writer.flush().unwrap();
    let cut = writer.metrics()[index::CONCURRENCY_LIMIT];
    assert!(cut < 16, "{cut}");
    store.clear_faults();
    for first in (100..5_100).step_by(500) {
        writer.write_batch(&batch(first, 500)).unwrap();
    }
    writer.flush().unwrap();
    let grown = writer.metrics()[index::CONCURRENCY_LIMIT];
    assert!(grown > cut, "{cut} -> {grown}");
}

#[test]
fn the_records_per_second_ceiling_holds_the_writer_under_it() {
    let store = TestStore::start();
    let group = "ceiling";
    let model = store.create_group(group);
    let mut config = store.writer_config(group, TransportKind::Lean);
    config.max_records_per_second = Some(1_000.0);
    let mut writer = Writer::open(config, model).unwrap();
    let started = Instant::now();
    writer.write_batch(&batch(0, 1_500)).unwrap();
    writer.flush().unwrap();
    let elapsed = started.elapsed();
    // 1,500 records at 1,000/s, 50 of them allowed as a burst: at least 1.45 s, whatever the machine.
    assert!(elapsed >= Duration::from_millis(1_400), "{elapsed:?}");
    assert_eq!(writer.metrics()[index::ROWS_ACKNOWLEDGED], 1_500);
}

#[test]
fn a_full_queue_blocks_the_caller_and_memory_stays_bounded() {
    let store = TestStore::start();
    let group = "backpressure";
    let model = store.create_group(group);
    store.set_faults(Faults {
        latency_ms: 50,
        ..Faults::default()
    });
    let mut config = store.writer_config(group, TransportKind::Lean);
    config.max_queued_records = 100;
    config.max_in_flight = 2;
    let mut writer = Writer::open(config, model).unwrap();
    // 4 batches of 100: each must wait for the previous one to be written (2 calls of 25 per 50 ms).
    let started = Instant::now();
    for first in (0..400).step_by(100) {
        writer.write_batch(&batch(first, 100)).unwrap();
    }
    let write_time = started.elapsed();
    writer.flush().unwrap();
    assert!(
        write_time >= Duration::from_millis(250),
        "write() did not block: {write_time:?}"
    );
    assert_eq!(writer.metrics()[index::ROWS_ACKNOWLEDGED], 400);
}

#[test]
fn abort_cancels_calls_in_flight_and_fails_every_row_not_acknowledged() {
    let store = TestStore::start();
    let group = "aborted";
    let model = store.create_group(group);
    store.set_faults(Faults {
        latency_ms: 5_000,
        ..Faults::default()
    });
    let mut config = store.writer_config(group, TransportKind::Lean);
    config.max_in_flight = 4;
    let mut writer = Writer::open(config, model).unwrap();
    writer.write_batch(&batch(0, 1_000)).unwrap();
    std::thread::sleep(Duration::from_millis(100)); // calls are in flight, the rest queued
    let started = Instant::now();
    writer.abort();
    let took = started.elapsed();
    assert!(
        took < Duration::from_millis(2_000),
        "abort waited for the store: {took:?}"
    );
    let m = writer.metrics();
    assert_accounted(&m, 1_000);
    assert_eq!(m[index::ROWS_FAILED], 1_000, "{m:?}");
    let failed = writer.take_failed();
    assert_eq!(failed.len(), 1_000);
    assert!(failed.iter().all(|f| f.reason.origin == FailureOrigin::Aborted));
    assert!(matches!(
        writer.write_batch(&batch(1_000, 1)),
        Err(Error::Aborted)
    ));
    writer.flush().unwrap();
    assert_accounted(&writer.metrics(), 1_000);
}
