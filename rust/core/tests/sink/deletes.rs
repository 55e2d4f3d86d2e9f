//! Deletes (`operation=delete`): one DeleteRecord per row through the same engine as writes, against the real
//! local store, read back through the SDK (GetRecord, BatchGetRecord) and ListRecords.
use std::sync::Arc;

use arrow_array::{ArrayRef, BinaryArray, RecordBatch, StringArray, TimestampMillisecondArray};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use featurestore_core::config::{DeletionMode, Operation, TransportKind, WriterConfig};
use featurestore_core::metrics::index;
use featurestore_core::model::FeatureGroup;
use featurestore_core::record::{FailedRecord, FailureOrigin};
use featurestore_core::sink::Writer;
use featurestore_local::Faults;

use crate::support::{TRANSPORTS, TestStore, assert_accounted, batch};

/// The event time of the records `support::batch` writes for row `i` is this plus `i` ms.
const WRITTEN_AT_MS: i64 = 1_700_000_000_000;
/// Later than every record written: a delete at this time applies.
const LATER_MS: i64 = 1_800_000_000_000;
/// Earlier than every record written: a HardDelete at this time is refused.
const EARLIER_MS: i64 = 1_600_000_000_000;

fn delete_config(
    store: &TestStore,
    group: &str,
    transport: TransportKind,
    mode: DeletionMode,
) -> WriterConfig {
    let mut config = store.writer_config(group, transport);
    config.operation = Operation::Delete;
    config.deletion_mode = Some(mode);
    config
}

/// Rows naming the records to delete: the record identifier, the delete's event time, and a column a write
/// would refuse (binary), which a delete does not read. `None` leaves that value null.
fn delete_batch(rows: &[(Option<String>, Option<i64>)]) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("note", DataType::Binary, true),
        Field::new(
            "event_time",
            DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
            true,
        ),
        Field::new("id", DataType::Utf8, true),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(BinaryArray::from_iter_values(rows.iter().map(|_| b"ignored"))),
        Arc::new(TimestampMillisecondArray::from_iter(rows.iter().map(|(_, t)| *t)).with_timezone("UTC")),
        Arc::new(StringArray::from_iter(rows.iter().map(|(id, _)| id.clone()))),
    ];
    RecordBatch::try_new(schema, columns).unwrap()
}

fn ids(range: std::ops::Range<usize>, event_time_ms: i64) -> Vec<(Option<String>, Option<i64>)> {
    range
        .map(|i| (Some(format!("id-{i}")), Some(event_time_ms)))
        .collect()
}

fn write_rows(store: &TestStore, group: &str, model: &FeatureGroup, rows: usize) {
    let mut writer = Writer::open(store.writer_config(group, TransportKind::Lean), model.clone()).unwrap();
    writer.write_batch(&batch(0, rows)).unwrap();
    writer.flush().unwrap();
    assert_eq!(writer.metrics()[index::ROWS_ACKNOWLEDGED], rows as i64);
}

/// Runs one delete writer over `rows`; its metrics and failed records.
fn delete(
    store: &TestStore,
    group: &str,
    model: &FeatureGroup,
    transport: TransportKind,
    mode: DeletionMode,
    rows: &[(Option<String>, Option<i64>)],
) -> ([i64; featurestore_core::metrics::METRIC_COUNT], Vec<FailedRecord>) {
    let mut writer = Writer::open(delete_config(store, group, transport, mode), model.clone()).unwrap();
    writer.write_batch(&delete_batch(rows)).unwrap();
    writer.flush().unwrap();
    (writer.metrics(), writer.take_failed())
}

#[test]
fn soft_and_hard_deletes_remove_records_and_account_for_every_row() {
    let store = TestStore::start();
    for transport in TRANSPORTS {
        let group = format!("deletes-{transport:?}").to_lowercase();
        let model = store.create_group(&group);
        write_rows(&store, &group, &model, 100);

        // SoftDelete rows 0..40, and two rows the client refuses: a null identifier, a null event time.
        let mut rows = ids(0..40, LATER_MS);
        rows.push((None, Some(LATER_MS)));
        rows.push((Some("id-99".into()), None));
        let (m, failed) = delete(&store, &group, &model, transport, DeletionMode::SoftDelete, &rows);
        assert_accounted(&m, 42);
        assert_eq!(
            (m[index::ROWS_DELETED], m[index::ROWS_FAILED]),
            (40, 2),
            "{transport:?}: {m:?}"
        );
        assert_eq!(m[index::REQUESTS], 40, "one DeleteRecord per row sent: {m:?}");
        let reasons: Vec<(u64, Option<&str>, &str)> = failed
            .iter()
            .map(|f| (f.row, f.reason.column.as_deref(), f.reason.code.as_str()))
            .collect();
        assert_eq!(
            reasons,
            [
                (40, Some("id"), "null_record_identifier"),
                (41, Some("event_time"), "null_event_time")
            ]
        );

        // HardDelete rows 40..70 at a later time, and 70..75 at a time earlier than the stored records'.
        let mut rows = ids(40..70, LATER_MS);
        rows.extend(ids(70..75, EARLIER_MS));
        let (m, failed) = delete(&store, &group, &model, transport, DeletionMode::HardDelete, &rows);
        assert_accounted(&m, 35);
        assert_eq!(
            (m[index::ROWS_DELETED], m[index::ROWS_FAILED]),
            (30, 5),
            "{transport:?}: {m:?}"
        );
        assert_eq!(failed.len(), 5);
        for f in &failed {
            assert_eq!(f.reason.origin, FailureOrigin::Service, "{f:?}");
            assert_eq!(f.reason.code, "ValidationError", "{f:?}");
            assert!(
                f.reason.message.contains("EventTime") && f.reason.message.contains("later"),
                "the service's reason: {f:?}"
            );
            assert!(
                f.record_identifier
                    .as_deref()
                    .is_some_and(|id| id.starts_with("id-7"))
            );
        }

        // Deleted records are gone from GetRecord and BatchGetRecord; the rest are still there.
        let all: Vec<String> = (0..100).map(|i| format!("id-{i}")).collect();
        let found = store.get_records(&group, &all);
        for (i, record) in found.iter().enumerate() {
            assert_eq!(record.is_none(), i < 70, "{transport:?}: id-{i}: {record:?}");
        }
        assert!(store.get_record(&group, "id-0").is_none());
        assert!(store.get_record(&group, "id-45").is_none());
        assert!(store.get_record(&group, "id-70").is_some());

        // ListRecords lists the soft-deleted records only when asked to; hard-deleted ones never.
        let sorted = |ids: Vec<usize>| {
            let mut ids: Vec<String> = ids.into_iter().map(|i| format!("id-{i}")).collect();
            ids.sort();
            ids
        };
        assert_eq!(store.list_records(&group, false), sorted((70..100).collect()));
        assert_eq!(
            store.list_records(&group, true),
            sorted((0..40).chain(70..100).collect())
        );
    }
}

#[test]
fn a_dry_run_of_a_delete_deletes_nothing() {
    let store = TestStore::start();
    let model = store.create_group("dry-deletes");
    write_rows(&store, "dry-deletes", &model, 10);
    let mut config = delete_config(
        &store,
        "dry-deletes",
        TransportKind::Lean,
        DeletionMode::HardDelete,
    );
    config.dry_run = true;
    let mut writer = Writer::open(config, model).unwrap();
    writer.write_batch(&delete_batch(&ids(0..10, LATER_MS))).unwrap();
    writer.flush().unwrap();
    let m = writer.metrics();
    assert_accounted(&m, 10);
    assert_eq!((m[index::ROWS_DRY_RUN], m[index::ROWS_DELETED]), (10, 0));
    assert!(store.get_record("dry-deletes", "id-3").is_some());
}

#[test]
fn throttled_deletes_are_retried_until_every_record_is_deleted() {
    let store = TestStore::start();
    for transport in TRANSPORTS {
        let group = format!("throttled-deletes-{transport:?}").to_lowercase();
        let model = store.create_group(&group);
        write_rows(&store, &group, &model, 200);
        store.set_faults(Faults {
            throttle_probability: 0.3,
            operations: vec!["DeleteRecord".into()],
            ..Faults::default()
        });
        let (m, failed) = delete(
            &store,
            &group,
            &model,
            transport,
            DeletionMode::SoftDelete,
            &ids(0..200, WRITTEN_AT_MS + 1_000_000),
        );
        store.clear_faults();
        assert_accounted(&m, 200);
        assert_eq!(
            m[index::ROWS_DELETED],
            200,
            "{transport:?}: {m:?} {:?}",
            failed.first()
        );
        assert!(
            m[index::REQUESTS_THROTTLED] > 0 && m[index::ROWS_RETRIED] > 0,
            "{transport:?}: nothing was throttled and retried: {m:?}"
        );
        assert!(store.list_records(&group, false).is_empty());
    }
}
