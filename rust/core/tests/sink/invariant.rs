//! The accounting invariant under every fault at once, with several writers sharing the I/O runtimes:
//! accepted = acknowledged + failed, the store holds every acknowledged row, and failed rows say why.
use crate::support::{TestStore, assert_accounted, batch};
use featurestore_core::config::{RetryConfig, TransportKind};
use featurestore_core::metrics::index;
use featurestore_core::sink::Writer;
use featurestore_local::Faults;

#[test]
fn accepted_equals_acknowledged_plus_failed_under_throttling_faults_and_resets() {
    let store = TestStore::start();
    let groups: Vec<String> = (0..4).map(|i| format!("chaos-{i}")).collect();
    let models: Vec<_> = groups.iter().map(|g| store.create_group(g)).collect();
    store.set_faults(Faults {
        throttle_probability: 0.15,
        server_error_probability: 0.1,
        unavailable_probability: 0.05,
        connection_reset_probability: 0.05,
        unprocessed_entry_probability: 0.1,
        latency_ms: 1,
        latency_jitter_ms: 3,
        ..Faults::default()
    });
    let threads: Vec<_> = groups
        .iter()
        .zip(models)
        .enumerate()
        .map(|(i, (group, model))| {
            let mut config = store.writer_config(
                group,
                if i % 2 == 0 {
                    TransportKind::Lean
                } else {
                    TransportKind::Sdk
                },
            );
            // Few attempts, so that some rows do run out of retries and the failed side is exercised too.
            config.retry = RetryConfig {
                max_attempts: Some(3),
                max_elapsed_ms: 30_000,
                base_delay_ms: 1,
                max_delay_ms: 10,
            };
            config.max_in_flight = 16;
            std::thread::spawn(move || {
                let mut writer = Writer::open(config, model).unwrap();
                for first in (0..2_000).step_by(250) {
                    writer.write_batch(&batch(first, 250)).unwrap();
                }
                writer.flush().unwrap();
                let failed = writer.take_failed();
                (writer.metrics(), failed)
            })
        })
        .collect();
    let mut total_failed = 0;
    for (thread, group) in threads.into_iter().zip(&groups) {
        let (m, failed) = thread.join().unwrap();
        assert_accounted(&m, 2_000);
        assert_eq!(failed.len() as i64, m[index::ROWS_FAILED], "{group}");
        assert!(m[index::ROWS_RETRIED] > 0, "{group}: {m:?}");
        for f in &failed {
            assert!(!f.reason.code.is_empty() && !f.values.is_empty(), "{f:?}");
        }
        total_failed += failed.len();
        store.clear_faults();
        // Every acknowledged row is in the store (failed rows may or may not be: at-least-once).
        let failed_rows: std::collections::HashSet<u64> = failed.iter().map(|f| f.row).collect();
        for row in (0..2_000u64).step_by(97) {
            if !failed_rows.contains(&row) {
                assert!(
                    store.get_record(group, &format!("id-{row}")).is_some(),
                    "{group}: id-{row} lost"
                );
            }
        }
    }
    assert!(
        total_failed > 0,
        "with 3 attempts some rows should have run out of retries"
    );
}
