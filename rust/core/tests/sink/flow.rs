//! Flow control: the adaptive rate follows throttling and is shared by the writers of a group, the
//! records-per-second ceiling holds, the bounded queue holds the caller back, and abort stops promptly.
use std::time::{Duration, Instant};

use crate::support::{TestStore, assert_accounted, batch};
use featurestore_core::Error;
use featurestore_core::config::TransportKind;
use featurestore_core::metrics::index;
use featurestore_core::record::FailureOrigin;
use featurestore_core::sink::Writer;
use featurestore_local::Faults;

#[test]
fn throttling_sets_an_adaptive_rate_and_every_row_still_lands() {
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
    assert!(m[index::ADAPTIVE_RATE] > 0, "the rate was never limited: {m:?}");
    assert!(store.stats().throttled > 0);
}

#[test]
fn writers_of_one_endpoint_and_group_share_one_adaptive_rate() {
    let store = TestStore::start();
    let (limited, other) = ("shared-limit", "unlimited");
    let limited_model = store.create_group(limited);
    let other_model = store.create_group(other);
    store.set_faults(Faults {
        max_records_per_second_by_group: [(limited.to_owned(), 1_000.0)].into(),
        ..Faults::default()
    });
    let mut first = Writer::open(
        store.writer_config(limited, TransportKind::Lean),
        limited_model.clone(),
    )
    .unwrap();
    first.write_batch(&batch(0, 2_000)).unwrap();
    first.flush().unwrap();
    let rate = first.metrics()[index::ADAPTIVE_RATE];
    assert!(rate > 0, "{:?}", first.metrics());
    // A later writer of the same group starts at the rate the first one learned (nothing throttled it yet).
    let second = Writer::open(store.writer_config(limited, TransportKind::Lean), limited_model).unwrap();
    assert_eq!(second.metrics()[index::ADAPTIVE_RATE], rate);
    // Another group at the same endpoint has a controller of its own, never limited.
    let mut third = Writer::open(store.writer_config(other, TransportKind::Lean), other_model).unwrap();
    third.write_batch(&batch(0, 500)).unwrap();
    third.flush().unwrap();
    assert_eq!(third.metrics()[index::ADAPTIVE_RATE], 0);
}

#[test]
fn with_the_adaptive_rate_off_rows_still_land_through_backoff_alone() {
    let store = TestStore::start();
    let group = "not-adaptive";
    let model = store.create_group(group);
    store.set_faults(Faults {
        max_records_per_second: Some(2_000.0),
        ..Faults::default()
    });
    let mut config = store.writer_config(group, TransportKind::Lean);
    config.adaptive_rate = false;
    let mut writer = Writer::open(config, model).unwrap();
    writer.write_batch(&batch(0, 3_000)).unwrap();
    writer.flush().unwrap();
    let m = writer.metrics();
    assert_accounted(&m, 3_000);
    assert_eq!(m[index::ROWS_ACKNOWLEDGED], 3_000, "{m:?}");
    assert!(m[index::REQUESTS_THROTTLED] > 0, "{m:?}");
    assert_eq!(m[index::ADAPTIVE_RATE], 0, "{m:?}");
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

#[test]
fn bounded_waits_return_instead_of_blocking_and_abort_fails_what_still_waits() {
    let store = TestStore::start();
    let group = "bounded-waits";
    let model = store.create_group(group);
    // Every call takes a second, and the queue holds one batch: the second batch must wait for room.
    store.set_faults(Faults {
        latency_ms: 1_000,
        ..Faults::default()
    });
    let mut config = store.writer_config(group, TransportKind::Lean);
    config.max_queued_records = 50;
    let mut writer = Writer::open(config, model).unwrap();
    let ipc = |first: usize| {
        let mut bytes = Vec::new();
        let mut w = arrow_ipc::writer::StreamWriter::try_new(&mut bytes, &crate::support::schema()).unwrap();
        w.write(&batch(first, 50)).unwrap();
        w.finish().unwrap();
        drop(w);
        bytes
    };
    let wait = Some(Duration::from_millis(20));
    assert!(
        writer.write_ipc_stream(&ipc(0), wait).unwrap(),
        "the first batch fits"
    );
    let started = Instant::now();
    assert!(
        !writer.write_ipc_stream(&ipc(50), wait).unwrap(),
        "the second waits for room"
    );
    assert!(!writer.send_pending(wait).unwrap());
    assert!(!writer.flush_within(wait).unwrap());
    assert!(
        started.elapsed() < Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );
    assert!(matches!(
        writer.write_ipc_stream(&ipc(100), wait),
        Err(Error::Internal(_))
    ));

    writer.abort();
    let m = writer.metrics();
    assert_accounted(&m, 100);
    let failed = writer.take_failed();
    assert_eq!(failed.len() as i64, m[index::ROWS_FAILED]);
    assert!(failed.iter().all(|f| f.reason.origin == FailureOrigin::Aborted));
    assert!(
        failed.iter().any(|f| f.row >= 50),
        "the waiting batch is failed too"
    );
}

#[test]
fn closing_a_writer_with_calls_in_flight_returns_at_once_and_stops_its_io() {
    let store = TestStore::start();
    let group = "closed-in-flight";
    let model = store.create_group(group);
    store.set_faults(Faults {
        latency_ms: 5_000,
        ..Faults::default()
    });
    let config = store.writer_config(group, TransportKind::Lean);
    let mut writer = Writer::open(config.clone(), model.clone()).unwrap();
    writer.write_batch(&batch(0, 1_000)).unwrap();
    std::thread::sleep(Duration::from_millis(100)); // calls are in flight, the rest queued
    let started = Instant::now();
    drop(writer); // what the JVM's close() does, without flush or abort
    let took = started.elapsed();
    assert!(took < Duration::from_millis(100), "close waited: {took:?}");
    // The process's I/O runtimes serve the next writer at once.
    store.clear_faults();
    let mut next = Writer::open(config, model).unwrap();
    next.write_batch(&batch(1_000, 10)).unwrap();
    next.flush().unwrap();
    assert_eq!(next.metrics()[index::ROWS_ACKNOWLEDGED], 10);
}
