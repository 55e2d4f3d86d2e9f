//! The I/O side of a writer: encoded batches in, every record acknowledged or failed out.
//!
//! Ownership: the caller thread owns the [`Engine`] and hands it [`EncodedBatch`]es. A per-writer dispatcher
//! task (on the writer's I/O runtime) cuts them into calls of up to `batchSize` records, waits for a call slot
//! (`maxInFlight`), the write's ceiling (`maxRecordsPerSecond`) and the adaptive rate of the endpoint and
//! feature group ([`Throughput`]), and spawns one task per call. A call task owns its records (by
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

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Semaphore, mpsc, watch};

use crate::client::Client;
use crate::config::{Api, WriterConfig};
use crate::error::{Error, Result};
use crate::io_runtime::IoRuntime;
use crate::metrics::{METRIC_COUNT, Stats};
use crate::rate::Pacer;
use crate::record::{EncodedBatch, FailedRecord, FailureOrigin};
use crate::retry::Backoff;
use crate::sink::budget::QueueBudget;
use crate::sink::ceiling::ceiling_for;
use crate::throughput::{Throughput, controller_for};
use crate::transport::WriteSpec;

use self::dispatch::dispatch;
use self::settle::{reason, settle_failed};

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

/// Where outcomes land: only settling (`settle`) moves them.
#[derive(Debug)]
struct Outcomes {
    stats: Stats,
    budget: QueueBudget,
    failed: Mutex<Vec<FailedRecord>>,
    /// The first error that makes further writing pointless (credentials, access, missing group).
    fatal: Mutex<Option<Error>>,
}

/// A batch on its way; gives its bytes back to the budget when the last call holding it is done.
#[derive(Debug)]
struct QueuedBatch {
    batch: EncodedBatch,
    shared: Arc<Shared>,
}

impl Drop for QueuedBatch {
    fn drop(&mut self) {
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
    /// An engine sending through `client` on `runtime`; `None`s for a dry run.
    pub fn start(
        config: &WriterConfig,
        record_identifier: &str,
        io: Option<(IoRuntime, Arc<Client>)>,
    ) -> Engine {
        let (aborted, _) = watch::channel(false);
        let shared = Arc::new(Shared {
            calls: CallSpec {
                api: config.api,
                fell_back_to_put: AtomicBool::new(false),
                batch_size: config.batch_size.max(1),
                backoff: Backoff::new(config.retry),
                spec: WriteSpec::new(
                    &config.feature_group,
                    config.target_stores.clone(),
                    config.ttl_duration,
                ),
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

    /// Takes a batch's rows: failed rows are recorded at once, encoded ones queued (blocking while the queue is
    /// full). The caller checks for a latched error first.
    pub fn submit(&self, mut batch: EncodedBatch) -> Result<()> {
        let shared = &self.shared;
        Stats::add(&shared.outcomes.stats.rows_accepted, batch.row_count());
        let failed = batch.take_failed();
        if !failed.is_empty() {
            Stats::add(&shared.outcomes.stats.rows_failed, failed.len());
            shared
                .outcomes
                .failed
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .extend(failed);
        }
        let records = batch.records().len();
        if records == 0 {
            return Ok(());
        }
        let Some(queue) = &self.queue else {
            // Dry run: every encoded row would have been sent; count it as acknowledged, and as dry-run.
            Stats::add(&shared.outcomes.stats.rows_dry_run, records);
            Stats::add(&shared.outcomes.stats.rows_acknowledged, records);
            return Ok(());
        };
        shared.outcomes.budget.take(records, batch.encoded_bytes());
        let queued = QueuedBatch {
            batch,
            shared: Arc::clone(shared),
        };
        if let Err(mpsc::error::SendError(queued)) = queue.send(queued) {
            // The dispatcher is gone (its runtime died): fail the rows rather than lose them.
            let all: Vec<usize> = (0..records).collect();
            let reason = reason(
                FailureOrigin::Client,
                "WriterStopped",
                "the writer's I/O task is gone",
            );
            settle_failed(shared, &queued.batch, &all, &reason);
            return Err(Error::Internal("the writer's I/O task is gone".into()));
        }
        Ok(())
    }

    /// Blocks until every accepted row is acknowledged or failed.
    pub fn flush(&self) {
        self.shared.outcomes.budget.wait_until_settled(None);
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
    use serde_json::Map;

    #[test]
    fn dry_run_counts_encoded_rows_as_acknowledged_and_failed_rows_as_failed() {
        let engine = Engine::start(&WriterConfig::new("g"), "id", None);
        let mut batch = EncodedBatch::default();
        for row in 0..3u64 {
            let start = batch.buffer_mut().len();
            batch
                .buffer_mut()
                .extend_from_slice(format!(r#"[{{"FeatureName":"id","ValueAsString":"{row}"}}]"#).as_bytes());
            batch.commit_record(row, start);
        }
        batch.push_failed(FailedRecord {
            row: 3,
            record_identifier: None,
            values: Map::new(),
            reason: reason(FailureOrigin::Client, "null_record_identifier", "null"),
        });
        engine.submit(batch).unwrap();
        engine.flush();
        let m = engine.metrics();
        use crate::metrics::index::*;
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
}
