//! A panic in a writer's I/O tasks, through the fault points only tests arm: the records the task held fail
//! with an internal error, the rest are written, and the caller gets the error instead of waiting forever.
use std::time::Duration;

use crate::support::{TestStore, assert_accounted, batch};
use featurestore_core::Error;
use featurestore_core::config::TransportKind;
use featurestore_core::metrics::index;
use featurestore_core::record::FailureOrigin;
use featurestore_core::sink::Writer;
use featurestore_core::sink::fault::{FaultPoint, arm};

/// Writes 100 rows (calls of 25) with `point` armed once; returns the writer after its flush, and the flush's result.
fn write_with_a_panic(
    store: &TestStore,
    group: &str,
    point: FaultPoint,
) -> (Writer, featurestore_core::Result<bool>) {
    let model = store.create_group(group);
    let mut config = store.writer_config(group, TransportKind::Lean);
    config.batch_size = 25;
    arm(point, group, 1);
    let mut writer = Writer::open(config, model).unwrap();
    writer.write_batch(&batch(0, 100)).unwrap();
    let flushed = writer.flush_within(Some(Duration::from_secs(30)));
    (writer, flushed)
}

fn assert_internal_failures(writer: &mut Writer, count: usize) {
    let failed = writer.take_failed();
    assert_eq!(failed.len(), count);
    assert!(
        failed
            .iter()
            .all(|f| f.reason.origin == FailureOrigin::Internal && f.reason.code == "Internal")
    );
    assert!(
        failed.iter().all(|f| f.reason.message.contains("panic")),
        "{:?}",
        failed[0].reason
    );
}

#[test]
fn a_panic_in_a_call_task_fails_its_records_and_the_next_call_returns_it() {
    let store = TestStore::start();
    let (mut writer, flushed) = write_with_a_panic(&store, "panic-call-task", FaultPoint::CallTask);
    assert!(matches!(flushed, Err(Error::Internal(_))), "{flushed:?}");
    let m = writer.metrics();
    assert_accounted(&m, 100);
    assert_eq!((m[index::ROWS_ACKNOWLEDGED], m[index::ROWS_FAILED]), (75, 25));
    assert_internal_failures(&mut writer, 25);
    assert_eq!(store.stats().records_written.values().sum::<u64>(), 75);
    assert!(matches!(
        writer.write_batch(&batch(100, 10)),
        Err(Error::Internal(_))
    ));
}

#[test]
fn a_panic_in_the_dispatcher_fails_every_queued_record_and_later_writes() {
    let store = TestStore::start();
    let (mut writer, flushed) = write_with_a_panic(&store, "panic-dispatcher", FaultPoint::Dispatcher);
    assert!(matches!(flushed, Err(Error::Internal(_))), "{flushed:?}");
    let m = writer.metrics();
    assert_accounted(&m, 100);
    assert_eq!((m[index::ROWS_ACKNOWLEDGED], m[index::ROWS_FAILED]), (0, 100));
    assert_internal_failures(&mut writer, 100);
    assert!(matches!(
        writer.write_batch(&batch(100, 10)),
        Err(Error::Internal(_))
    ));
}
