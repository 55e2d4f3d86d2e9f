//! At the service's limit and through its faults, nothing is lost: a capped group, an endpoint that goes away for
//! five seconds, and a storm of throttling, server errors, resets and unprocessed entries all end with every row
//! acknowledged and in the store with the values a fault-free write gives. Correctness only: no timing is checked.
use std::thread;
use std::time::Duration;

use crate::support::{TestStore, assert_accounted, batch};
use featurestore_core::config::{RetryConfig, TransportKind, WriterConfig};
use featurestore_core::metrics::{METRIC_COUNT, index};
use featurestore_core::model::FeatureGroup;
use featurestore_core::sink::Writer;
use featurestore_local::Faults;

const BATCH_ROWS: usize = 1_000;

/// Writes rows `first..first + rows` with one writer and returns its metrics after `flush()`.
fn write_rows(config: WriterConfig, model: FeatureGroup, first: usize, rows: usize) -> [i64; METRIC_COUNT] {
    let mut writer = Writer::open(config, model).unwrap();
    for start in (first..first + rows).step_by(BATCH_ROWS) {
        writer
            .write_batch(&batch(start, BATCH_ROWS.min(first + rows - start)))
            .unwrap();
    }
    writer.flush().unwrap();
    let failed = writer.take_failed();
    assert!(
        failed.is_empty(),
        "{} failed, the first: {:?}",
        failed.len(),
        failed.first()
    );
    writer.metrics()
}

/// Writes `rows` rows as `tasks` writers at once (Spark tasks of one executor), each its share of the ids.
fn write_as_tasks(
    store: &TestStore,
    group: &str,
    model: &FeatureGroup,
    rows: usize,
    tasks: usize,
) -> Vec<[i64; METRIC_COUNT]> {
    let share = rows / tasks;
    let handles: Vec<_> = (0..tasks)
        .map(|task| {
            let config = WriterConfig {
                // The engine's own retry policy: bounded by time only.
                retry: RetryConfig::default(),
                ..store.writer_config(group, TransportKind::Lean)
            };
            let model = model.clone();
            thread::spawn(move || write_rows(config, model, task * share, share))
        })
        .collect();
    handles.into_iter().map(|h| h.join().unwrap()).collect()
}

fn ids(rows: usize) -> Vec<String> {
    (0..rows).map(|i| format!("id-{i}")).collect()
}

/// Every row's record in `group` equals the one a fault-free write put in `reference`.
fn assert_same_records(store: &TestStore, group: &str, reference: &str, rows: usize) {
    let ids = ids(rows);
    let written = store.get_records(group, &ids);
    let expected = store.get_records(reference, &ids);
    for (i, (got, want)) in written.iter().zip(&expected).enumerate() {
        assert!(want.is_some(), "the reference lacks id-{i}");
        assert_eq!(got, want, "id-{i}");
    }
}

fn assert_all_acknowledged(metrics: &[[i64; METRIC_COUNT]], rows: usize) {
    let mut total = [0i64; METRIC_COUNT];
    for m in metrics {
        for (sum, value) in total.iter_mut().zip(m) {
            *sum += value;
        }
    }
    assert_accounted(&total, rows as i64);
    assert_eq!(total[index::ROWS_FAILED], 0, "{total:?}");
}

#[test]
fn under_a_cap_every_row_lands_once_with_its_values() {
    let store = TestStore::start();
    let (capped, reference) = ("capped", "capped-reference");
    let model = store.create_group(capped);
    let reference_model = store.create_group(reference);
    let rows = 12_000;
    assert_all_acknowledged(
        &write_as_tasks(&store, reference, &reference_model, rows, 1),
        rows,
    );
    store.set_faults(Faults {
        max_records_per_second_by_group: [(capped.to_owned(), 2_500.0)].into(),
        latency_ms: 1,
        ..Faults::default()
    });
    let metrics = write_as_tasks(&store, capped, &model, rows, 4);
    assert_all_acknowledged(&metrics, rows);
    assert!(
        metrics.iter().any(|m| m[index::REQUESTS_THROTTLED] > 0),
        "the cap never bound: {metrics:?}"
    );
    let stats = store.stats();
    assert_eq!(
        stats.by_group[capped].records_written, rows as u64,
        "each row written once"
    );
    assert_same_records(&store, capped, reference, rows);
}

#[test]
fn a_store_stopped_for_five_seconds_and_restarted_loses_nothing() {
    let mut store = TestStore::start();
    let (group, reference) = ("outage", "outage-reference");
    let model = store.create_group(group);
    let reference_model = store.create_group(reference);
    let rows = 20_000;
    assert_all_acknowledged(
        &write_as_tasks(&store, reference, &reference_model, rows, 1),
        rows,
    );
    // Slow enough that the outage falls in the middle of the write.
    store.set_faults(Faults {
        max_records_per_second_by_group: [(group.to_owned(), 2_000.0)].into(),
        ..Faults::default()
    });
    let config = WriterConfig {
        retry: RetryConfig::default(),
        ..store.writer_config(group, TransportKind::Lean)
    };
    let writer = {
        let model = model.clone();
        thread::spawn(move || write_rows(config, model, 0, rows))
    };
    thread::sleep(Duration::from_secs(2));
    assert!(!writer.is_finished(), "the write ended before the outage");
    store.restart_after(Duration::from_secs(5));
    // The restarted store has no faults: the rest goes at full speed.
    let metrics = writer.join().unwrap();
    assert_all_acknowledged(&[metrics], rows);
    assert!(metrics[index::ROWS_RETRIED] > 0, "{metrics:?}");
    assert_same_records(&store, group, reference, rows);
}

#[test]
fn thirty_percent_throttling_with_errors_resets_and_unprocessed_entries_loses_nothing() {
    let store = TestStore::start();
    let (group, reference) = ("storm", "storm-reference");
    let model = store.create_group(group);
    let reference_model = store.create_group(reference);
    let rows = 300_000;
    assert_all_acknowledged(
        &write_as_tasks(&store, reference, &reference_model, rows, 2),
        rows,
    );
    store.set_faults(Faults {
        throttle_probability: 0.30,
        server_error_probability: 0.05,
        connection_reset_probability: 0.01,
        unprocessed_entry_probability: 0.05,
        operations: vec!["BatchWriteRecord".into()],
        ..Faults::default()
    });
    let metrics = write_as_tasks(&store, group, &model, rows, 2);
    store.clear_faults();
    assert_all_acknowledged(&metrics, rows);
    let stats = store.stats();
    assert!(
        stats.throttled > 0 && stats.connection_resets > 0 && stats.records_unprocessed > 0,
        "{stats:?}"
    );
    assert_eq!(
        stats.by_group[group].records_written, rows as u64,
        "each row written once"
    );
    assert_same_records(&store, group, reference, rows);
}
