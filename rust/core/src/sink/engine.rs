//! The I/O side of a writer: encoded batches in, every record acknowledged or failed out.
//!
//! A writer that deletes (`operation=delete`) runs the same flow: its records (the record identifier and event
//! time of each row) go one per DeleteRecord call, as PutRecord's do, through the same flow control, retries,
//! adaptive rate and settling.
//!
//! Ownership: the caller thread owns the [`Engine`] and hands it [`EncodedBatch`]es. A per-writer dispatcher
//! task (on the writer's I/O runtime) cuts them into calls of up to `recordsPerRequest` records, waits for a
//! call slot (`maxInFlight`), the write's ceiling (`maxRecordsPerSecond`) and the adaptive rate of the endpoint
//! and feature group ([`Throughput`]), and spawns one task per call. A call task owns its records (by
//! index into the shared batch) until each is settled: acknowledged, failed, or handed to a retry of the same
//! task. Settling is the only place counters move and budget is given back, so every accepted record is counted
//! exactly once — the invariant `accepted = acknowledged + failed` after `flush()`, including on abort.
//!
//! The stages, one module each: [`dispatch`] (batches cut into calls, flow control), [`call`] (one call and its
//! retries), [`judge`] (what an answer means for each record), [`settle`] (the only place outcomes move).

mod call;
mod dispatch;
mod judge;
mod settle;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Semaphore, mpsc, watch};

use crate::client::Client;
use crate::config::{Api, Operation, WriterConfig};
use crate::error::{Error, Result};
use crate::io_runtime::IoRuntime;
use crate::metrics::{METRIC_COUNT, Stats};
use crate::rate::Pacer;
use crate::record::{EncodedBatch, FailedRecord, FailureOrigin};
use crate::request::DeleteSpec;
use crate::retry::Backoff;
use crate::sink::budget::QueueBudget;
use crate::sink::ceiling::ceiling_for;
use crate::throughput::{Throughput, controller_for};
use crate::transport::WriteSpec;

use self::dispatch::dispatch;
use self::settle::{aborted_reason, fail_unqueued, latch_fatal, reason, record_failed, settle_failed};

/// How long `abort()` waits for in-flight calls to wind down; they are cancelled, so this is a safety net.
const ABORT_GRACE: Duration = Duration::from_secs(10);

/// The state the caller and the I/O tasks share, in three parts: what calls are built from, when they may go,
/// and where their outcomes land.
#[derive(Debug)]
struct Shared {
    calls: CallSpec,
    flow: Flow,
    outcomes: Outcomes,
}

/// What every call of the writer is built from.
#[derive(Debug)]
struct CallSpec {
    api: Api,
    /// `auto` found BatchWriteRecord not permitted: PutRecord from now on.
    fell_back_to_put: AtomicBool,
    batch_size: usize,
    backoff: Backoff,
    spec: WriteSpec,
    record_identifier: String,
    client: Option<Arc<Client>>,
}

/// When a call may go.
#[derive(Debug)]
struct Flow {
    /// Calls in flight, at most `maxInFlight`.
    slots: Arc<Semaphore>,
    /// `maxRecordsPerSecond`, shared with the other writers of the same write in this process.
    ceiling: Option<Arc<Pacer>>,
    /// The adaptive rate of the endpoint and feature group, shared with every writer sending there; `None` with
    /// `adaptiveRate` off and in a dry run.
    throughput: Option<Arc<Throughput>>,
    aborted: watch::Sender<bool>,
}

/// Where outcomes land: rows are counted in when submitted (or failed by the encoder, or acknowledged in a dry
/// run), and out only where a record is settled (`settle`).
#[derive(Debug)]
struct Outcomes {
    stats: Stats,
    budget: QueueBudget,
    failed: Mutex<Vec<FailedRecord>>,
    /// The first error that makes further writing pointless (credentials, access, missing group).
    fatal: Mutex<Option<Error>>,
}

/// A batch on its way. Each of its records is settled exactly once, whatever happens to the tasks sending it:
/// one bit per record says which are. When the last call holding it is done, it gives its bytes back and fails
/// any record no task settled (only a panic in an I/O task leaves one), so that `flush()` never waits for it.
#[derive(Debug)]
struct QueuedBatch {
    batch: EncodedBatch,
    shared: Arc<Shared>,
    settled: Box<[AtomicU64]>,
}

impl QueuedBatch {
    fn new(batch: EncodedBatch, shared: Arc<Shared>) -> Self {
        let words = batch.records().len().div_ceil(64);
        Self {
            batch,
            shared,
            settled: (0..words).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    /// Marks record `index` settled; false when it already was.
    fn mark_settled(&self, index: usize) -> bool {
        let bit = 1u64 << (index % 64);
        self.settled[index / 64].fetch_or(bit, Ordering::AcqRel) & bit == 0
    }

    fn unsettled(&self) -> Vec<usize> {
        (0..self.batch.records().len())
            .filter(|&i| self.settled[i / 64].load(Ordering::Acquire) & (1u64 << (i % 64)) == 0)
            .collect()
    }
}

impl Drop for QueuedBatch {
    fn drop(&mut self) {
        let unsettled = self.unsettled();
        if !unsettled.is_empty() {
            let message = "the record's I/O task ended without settling it (a panic: see the log)";
            // Latched first: settling wakes a waiting flush, which must then find the error.
            latch_fatal(&self.shared, Error::Internal(message.into()));
            settle_failed(
                &self.shared,
                self,
                &unsettled,
                &reason(FailureOrigin::Internal, "Internal", message),
            );
        }
        self.shared
            .outcomes
            .budget
            .give_back_bytes(self.batch.encoded_bytes());
    }
}

/// The I/O side of one writer.
#[derive(Debug)]
pub struct Engine {
    shared: Arc<Shared>,
    /// `None` in a dry run: nothing is sent.
    queue: Option<mpsc::UnboundedSender<QueuedBatch>>,
}

impl Engine {
    /// An engine sending through `client` on `runtime`; `None`s for a dry run. `record_identifier` and
    /// `event_time` name the group's features of those roles.
    pub fn start(
        config: &WriterConfig,
        record_identifier: &str,
        event_time: &str,
        io: Option<(IoRuntime, Arc<Client>)>,
    ) -> Engine {
        let (aborted, _) = watch::channel(false);
        let mut spec = WriteSpec::new(
            &config.feature_group,
            config.target_stores.clone(),
            config.ttl_duration,
        );
        if config.operation == Operation::Delete {
            spec = spec.deleting(DeleteSpec {
                mode: config.deletion_mode(),
                record_identifier_feature: record_identifier.to_owned(),
                event_time_feature: event_time.to_owned(),
            });
        }
        let shared = Arc::new(Shared {
            calls: CallSpec {
                api: config.api,
                fell_back_to_put: AtomicBool::new(false),
                batch_size: config.batch_size.max(1),
                backoff: Backoff::new(config.retry),
                spec,
                record_identifier: record_identifier.to_owned(),
                client: io.as_ref().map(|(_, client)| Arc::clone(client)),
            },
            flow: Flow {
                slots: Arc::new(Semaphore::new(
                    config.max_in_flight.clamp(1, Semaphore::MAX_PERMITS),
                )),
                ceiling: config
                    .max_records_per_second
                    .map(|rate| ceiling_for(config.write_id.as_deref(), rate)),
                throughput: io
                    .as_ref()
                    .filter(|_| config.adaptive_rate)
                    .map(|(_, client)| controller_for(&client.runtime_endpoint, &config.feature_group)),
                aborted,
            },
            outcomes: Outcomes {
                stats: Stats::default(),
                budget: QueueBudget::new(config.max_queued_records, config.max_queued_bytes),
                failed: Mutex::new(Vec::new()),
                fatal: Mutex::new(None),
            },
        });
        let queue = io.map(|(runtime, _)| {
            let (tx, rx) = mpsc::unbounded_channel();
            runtime.handle.spawn(dispatch(Arc::clone(&shared), rx));
            tx
        });
        Engine { shared, queue }
    }

    /// Counts a batch's rows in: rows the encoder failed are recorded at once; in a dry run the encoded ones are
    /// acknowledged. Returns whether records are left to [`Self::enqueue`].
    pub fn accept(&self, batch: &mut EncodedBatch) -> bool {
        let shared = &self.shared;
        Stats::add(&shared.outcomes.stats.rows_accepted, batch.row_count());
        record_failed(shared, batch.take_failed());
        let records = batch.records().len();
        if records > 0 && self.queue.is_none() {
            // Dry run: every encoded row would have been sent; count it as acknowledged, and as dry-run.
            Stats::add(&shared.outcomes.stats.rows_dry_run, records);
            Stats::add(&shared.outcomes.stats.rows_acknowledged, records);
            return false;
        }
        records > 0
    }

    /// Queues an accepted batch's records once the queue has room, waiting at most `wait` (`None`: as long as
    /// it takes); the batch comes back when it did not fit in time. The caller checks for a latched error first.
    pub fn enqueue(&self, batch: EncodedBatch, wait: Option<Duration>) -> Result<Option<EncodedBatch>> {
        let shared = &self.shared;
        let Some(queue) = &self.queue else {
            return Ok(None);
        };
        let records = batch.records().len();
        if !shared
            .outcomes
            .budget
            .take_within(records, batch.encoded_bytes(), wait)
        {
            return Ok(Some(batch));
        }
        let queued = QueuedBatch::new(batch, Arc::clone(shared));
        if let Err(mpsc::error::SendError(queued)) = queue.send(queued) {
            // The dispatcher is gone (its runtime died): fail the rows rather than lose them.
            let all: Vec<usize> = (0..records).collect();
            let reason = reason(
                FailureOrigin::Client,
                "WriterStopped",
                "the writer's I/O task is gone",
            );
            settle_failed(shared, &queued, &all, &reason);
            return Err(Error::Internal("the writer's I/O task is gone".into()));
        }
        Ok(None)
    }

    /// Fails an accepted batch that was never queued (the writer is aborted while it waited for room).
    pub fn fail_unqueued(&self, batch: &EncodedBatch) {
        fail_unqueued(&self.shared, batch, &aborted_reason());
    }

    /// Waits until every accepted row is acknowledged or failed, at most `wait` (`None`: as long as it takes);
    /// returns whether all are settled.
    pub fn flush_within(&self, wait: Option<Duration>) -> bool {
        self.shared.outcomes.budget.wait_until_settled(wait)
    }

    /// Cancels calls in flight and backoff waits, fails every row not yet acknowledged (origin `Aborted`),
    /// and returns once they are settled.
    pub fn abort(&self) {
        self.shared.flow.aborted.send_replace(true);
        if !self.shared.outcomes.budget.wait_until_settled(Some(ABORT_GRACE)) {
            log::error!(
                "abort: {} records still unsettled after {ABORT_GRACE:?}",
                self.shared.outcomes.budget.in_use().records
            );
        }
    }

    pub fn is_aborted(&self) -> bool {
        *self.shared.flow.aborted.borrow()
    }

    /// A copy of the latched fatal error, if any.
    pub fn fatal_error(&self) -> Option<Error> {
        self.shared
            .outcomes
            .fatal
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn metrics(&self) -> [i64; METRIC_COUNT] {
        let rate = self.shared.flow.throughput.as_ref().and_then(|t| t.rate());
        self.shared.outcomes.stats.snapshot(rate)
    }

    pub fn take_failed(&self) -> Vec<FailedRecord> {
        std::mem::take(
            &mut *self
                .shared
                .outcomes
                .failed
                .lock()
                .unwrap_or_else(|p| p.into_inner()),
        )
    }
}

impl Drop for Engine {
    /// A writer dropped without `flush()` or `abort()` stops its I/O at once (nothing waits for the answers).
    fn drop(&mut self) {
        self.shared.flow.aborted.send_replace(true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::index::*;
    use crate::sink::engine::settle::settle_acknowledged;
    use serde_json::Map;

    fn records(count: u64) -> EncodedBatch {
        let mut batch = EncodedBatch::default();
        for row in 0..count {
            let start = batch.buffer_mut().len();
            batch
                .buffer_mut()
                .extend_from_slice(format!(r#"[{{"FeatureName":"id","ValueAsString":"{row}"}}]"#).as_bytes());
            batch.commit_record(row, start);
        }
        batch
    }

    #[test]
    fn dry_run_counts_encoded_rows_as_acknowledged_and_failed_rows_as_failed() {
        let engine = Engine::start(&WriterConfig::new("g"), "id", "t", None);
        let mut batch = records(3);
        batch.push_failed(FailedRecord {
            row: 3,
            record_identifier: None,
            values: Map::new(),
            reason: reason(FailureOrigin::Client, "null_record_identifier", "null"),
        });
        assert!(!engine.accept(&mut batch), "a dry run queues nothing");
        assert!(engine.flush_within(None));
        let m = engine.metrics();
        assert_eq!(
            (
                m[ROWS_ACCEPTED],
                m[ROWS_ACKNOWLEDGED],
                m[ROWS_FAILED],
                m[ROWS_DRY_RUN],
                m[REQUESTS]
            ),
            (4, 3, 1, 3, 0)
        );
        assert_eq!(engine.take_failed().len(), 1);
        assert!(engine.take_failed().is_empty());
    }

    #[test]
    fn a_panic_in_an_io_task_fails_its_records_instead_of_leaving_flush_waiting() {
        // No I/O of its own: this test plays the I/O task that holds the batch.
        let engine = Engine::start(&WriterConfig::new("g"), "id", "t", None);
        let shared = Arc::clone(&engine.shared);
        let batch = records(3);
        shared.outcomes.budget.take(3, batch.encoded_bytes());
        Stats::add(&shared.outcomes.stats.rows_accepted, 3);
        let queued = Arc::new(QueuedBatch::new(batch, Arc::clone(&shared)));
        settle_acknowledged(&shared, &queued, &[0]);
        settle_acknowledged(&shared, &queued, &[0]);
        settle_failed(&shared, &queued, &[0], &reason(FailureOrigin::Service, "x", "y"));
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let task = runtime.spawn(async move {
            let _held = queued;
            panic!("a bug in an I/O task");
        });
        assert!(runtime.block_on(task).unwrap_err().is_panic());

        // Returns: the two records the task held were failed when it died.
        assert!(engine.flush_within(None));
        let m = engine.metrics();
        assert_eq!(
            (m[ROWS_ACCEPTED], m[ROWS_ACKNOWLEDGED], m[ROWS_FAILED]),
            (3, 1, 2)
        );
        assert_eq!(shared.outcomes.budget.in_use().bytes, 0);
        let failed = engine.take_failed();
        assert_eq!(failed.iter().map(|f| f.row).collect::<Vec<_>>(), [1, 2]);
        assert!(failed.iter().all(|f| f.reason.origin == FailureOrigin::Internal));
        assert!(matches!(engine.fatal_error(), Some(Error::Internal(_))));
    }
}
