//! The I/O side of a writer: encoded batches in, every record acknowledged or failed out.
//!
//! Ownership: the caller thread owns the [`Engine`] and hands it [`EncodedBatch`]es. A per-writer dispatcher
//! task (on the writer's I/O runtime) cuts them into calls of up to `batchSize` records, waits for a call slot
//! (`maxInFlight`), the write's ceiling (`maxRecordsPerSecond`) and the adaptive rate of the endpoint and
//! feature group ([`Throughput`]), and spawns one task per call. A call task owns its records (by
//! index into the shared batch) until each is settled: acknowledged, failed, or handed to a retry of the same
//! task. Settling is the only place counters move and budget is given back, so every accepted record is counted
//! exactly once — the invariant `accepted = acknowledged + failed` after `flush()`, including on abort.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Map, Value};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, watch};

use crate::client::Client;
use crate::config::{Api, WriterConfig};
use crate::error::{Error, Result};
use crate::metrics::{METRIC_COUNT, Stats};
use crate::rate::Pacer;
use crate::record::{EncodedBatch, FailedRecord, FailureOrigin, FailureReason};
use crate::request::match_returned;
use crate::retry::{Backoff, ErrorClass, classify_call, classify_entry};
use crate::runtime::IoRuntime;
use crate::sink::budget::QueueBudget;
use crate::sink::ceiling::ceiling_for;
use crate::throughput::{Throughput, Ticket, controller_for};
use crate::transport::{WriteOutcome, WriteReport, WriteSpec};

/// How long `abort()` waits for in-flight calls to wind down; they are cancelled, so this is a safety net.
const ABORT_GRACE: Duration = Duration::from_secs(10);

/// The state the caller and the I/O tasks share.
#[derive(Debug)]
struct Shared {
    stats: Stats,
    budget: QueueBudget,
    /// Calls in flight, at most `maxInFlight`.
    slots: Arc<Semaphore>,
    /// `maxRecordsPerSecond`, shared with the other writers of the same write in this process.
    ceiling: Option<Arc<Pacer>>,
    /// The adaptive rate of the endpoint and feature group, shared with every writer sending there; `None` with
    /// `adaptiveRate` off and in a dry run.
    throughput: Option<Arc<Throughput>>,
    failed: Mutex<Vec<FailedRecord>>,
    /// The first error that makes further writing pointless (credentials, access, missing group).
    fatal: Mutex<Option<Error>>,
    aborted: watch::Sender<bool>,
    /// `auto` found BatchWriteRecord not permitted: PutRecord from now on.
    fell_back_to_put: AtomicBool,
    api: Api,
    batch_size: usize,
    backoff: Backoff,
    spec: WriteSpec,
    record_identifier: String,
    client: Option<Arc<Client>>,
}

/// A batch on its way; gives its bytes back to the budget when the last call holding it is done.
#[derive(Debug)]
struct QueuedBatch {
    batch: EncodedBatch,
    shared: Arc<Shared>,
}

impl Drop for QueuedBatch {
    fn drop(&mut self) {
        self.shared.budget.give_back_bytes(self.batch.encoded_bytes());
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
            stats: Stats::default(),
            budget: QueueBudget::new(config.max_queued_records, config.max_queued_bytes),
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
            failed: Mutex::new(Vec::new()),
            fatal: Mutex::new(None),
            aborted,
            fell_back_to_put: AtomicBool::new(false),
            api: config.api,
            batch_size: config.batch_size.max(1),
            backoff: Backoff::new(config.retry),
            spec: WriteSpec::new(
                &config.feature_group,
                config.target_stores.clone(),
                config.ttl_duration,
            ),
            record_identifier: record_identifier.to_owned(),
            client: io.as_ref().map(|(_, client)| Arc::clone(client)),
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
        Stats::add(&shared.stats.rows_accepted, batch.row_count());
        let failed = batch.take_failed();
        if !failed.is_empty() {
            Stats::add(&shared.stats.rows_failed, failed.len());
            shared
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
            Stats::add(&shared.stats.rows_dry_run, records);
            Stats::add(&shared.stats.rows_acknowledged, records);
            return Ok(());
        };
        shared.budget.take(records, batch.encoded_bytes());
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
        self.shared.budget.wait_until_settled(None);
    }

    /// Cancels calls in flight and backoff waits, fails every row not yet acknowledged (origin `Aborted`),
    /// and returns once they are settled.
    pub fn abort(&self) {
        self.shared.aborted.send_replace(true);
        if !self.shared.budget.wait_until_settled(Some(ABORT_GRACE)) {
            log::error!(
                "abort: {} records still unsettled after {ABORT_GRACE:?}",
                self.shared.budget.in_use().records
            );
        }
    }

    pub fn is_aborted(&self) -> bool {
        *self.shared.aborted.borrow()
    }

    /// A copy of the latched fatal error, if any.
    pub fn fatal_error(&self) -> Option<Error> {
        self.shared
            .fatal
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn metrics(&self) -> [i64; METRIC_COUNT] {
        let rate = self.shared.throughput.as_ref().and_then(|t| t.rate());
        self.shared.stats.snapshot(rate)
    }

    pub fn take_failed(&self) -> Vec<FailedRecord> {
        std::mem::take(&mut *self.shared.failed.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

impl Drop for Engine {
    /// A writer dropped without `flush()` or `abort()` stops its I/O at once (nothing waits for the answers).
    fn drop(&mut self) {
        self.shared.aborted.send_replace(true);
    }
}

fn reason(origin: FailureOrigin, code: &str, message: impl Into<String>) -> FailureReason {
    FailureReason {
        origin,
        column: None,
        code: code.to_owned(),
        message: message.into(),
    }
}

fn is_aborted(shared: &Shared) -> bool {
    *shared.aborted.borrow()
}

/// Resolves when the writer is aborted.
async fn aborted(shared: &Shared) {
    let mut rx = shared.aborted.subscribe();
    let _ = rx.wait_for(|aborted| *aborted).await;
}

fn settle_acknowledged(shared: &Shared, records: usize) {
    Stats::add(&shared.stats.rows_acknowledged, records);
    shared.budget.give_back_records(records);
}

/// Fails `indexes` of `batch` with `reason`, keeping each row's values as the service would have received them.
fn settle_failed(shared: &Shared, batch: &EncodedBatch, indexes: &[usize], reason: &FailureReason) {
    if indexes.is_empty() {
        return;
    }
    let failed: Vec<FailedRecord> = indexes
        .iter()
        .map(|&i| {
            let span = batch.records()[i];
            let (record_identifier, values) = values_of(batch.record_json(&span), &shared.record_identifier);
            FailedRecord {
                row: span.row,
                record_identifier,
                values,
                reason: reason.clone(),
            }
        })
        .collect();
    shared
        .failed
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .extend(failed);
    Stats::add(&shared.stats.rows_failed, indexes.len());
    shared.budget.give_back_records(indexes.len());
}

/// A record's JSON (`[{"FeatureName":..,"ValueAsString":..},..]`) as a map feature -> value, and its identifier.
fn values_of(record_json: &[u8], record_identifier: &str) -> (Option<String>, Map<String, Value>) {
    let mut values = Map::new();
    let mut identifier = None;
    if let Ok(Value::Array(features)) = serde_json::from_slice::<Value>(record_json) {
        for feature in features {
            let Value::Object(mut feature) = feature else {
                continue;
            };
            let Some(Value::String(name)) = feature.remove("FeatureName") else {
                continue;
            };
            let value = feature
                .remove("ValueAsString")
                .or_else(|| feature.remove("ValueAsStringList"))
                .unwrap_or(Value::Null);
            if name == record_identifier {
                identifier = value.as_str().map(str::to_owned);
            }
            values.insert(name, value);
        }
    }
    (identifier, values)
}

/// The HTTP status of a per-entry error code that concerns the feature group rather than the record.
fn group_level_status(code: &str) -> Option<u16> {
    match code {
        "ResourceNotFound" => Some(404),
        "AccessForbidden" | "AccessDeniedException" => Some(403),
        _ => None,
    }
}

fn latch_fatal(shared: &Shared, error: Error) {
    let mut fatal = shared.fatal.lock().unwrap_or_else(|p| p.into_inner());
    if fatal.is_none() {
        log::error!("writer for {} stops: {error}", shared.spec.feature_group);
        *fatal = Some(error);
    }
}

/// Takes batches off the queue, cuts them into calls and starts each call once flow control allows.
async fn dispatch(shared: Arc<Shared>, mut queue: mpsc::UnboundedReceiver<QueuedBatch>) {
    while let Some(queued) = queue.recv().await {
        let queued = Arc::new(queued);
        let count = queued.batch.records().len();
        let mut start = 0;
        while start < count {
            let size = if use_put(&shared) { 1 } else { shared.batch_size };
            let end = (start + size).min(count);
            let Some(slot) = flow_control(&shared, end - start).await else {
                let rest: Vec<usize> = (start..count).collect();
                settle_failed(&shared, &queued.batch, &rest, &aborted_reason());
                break;
            };
            let call = Call {
                queued: Arc::clone(&queued),
                indexes: (start..end).collect(),
                attempts: 1,
                first_sent: Instant::now(),
            };
            tokio::spawn(run_call(Arc::clone(&shared), call, slot));
            start = end;
        }
    }
}

fn aborted_reason() -> FailureReason {
    reason(
        FailureOrigin::Aborted,
        "Aborted",
        "the writer was aborted before the record was acknowledged",
    )
}

fn use_put(shared: &Shared) -> bool {
    shared.api == Api::PutRecord || shared.fell_back_to_put.load(Ordering::Relaxed)
}

/// The right to send one call: a slot of `maxInFlight`, and the call's place in the adaptive rate.
#[derive(Debug)]
struct Slot {
    _permit: OwnedSemaphorePermit,
    ticket: Option<Ticket>,
}

/// Waits for a call slot, then for `records` of the write's ceiling and of the adaptive rate; `None` if the
/// writer is aborted meanwhile.
async fn flow_control(shared: &Shared, records: usize) -> Option<Slot> {
    if is_aborted(shared) {
        return None;
    }
    let wait = async {
        let permit = Arc::clone(&shared.slots).acquire_owned().await.ok()?;
        if let Some(ceiling) = &shared.ceiling {
            ceiling.acquire(records).await;
        }
        let ticket = match &shared.throughput {
            Some(throughput) => Some(throughput.before_send(records).await),
            None => None,
        };
        Some(Slot {
            _permit: permit,
            ticket,
        })
    };
    tokio::select! {
        biased;
        _ = aborted(shared) => None,
        slot = wait => slot,
    }
}

/// Records of one batch sent together, and how often they have been tried.
#[derive(Debug)]
struct Call {
    queued: Arc<QueuedBatch>,
    indexes: Vec<usize>,
    /// Attempts so far for these records, the current one included.
    attempts: u32,
    first_sent: Instant,
}

/// A record to try again, with the error that made it so (reported if the retries run out).
#[derive(Debug)]
struct Retry {
    index: usize,
    code: String,
    message: String,
}

/// What one attempt decided.
#[derive(Debug, Default)]
struct Verdict {
    /// Records the service wrote.
    acknowledged: usize,
    retry: Vec<Retry>,
    throttled: bool,
    /// The service answered (rather than the call failing on the way): the answer tells the adaptive rate.
    answered: bool,
    /// Send these records again at once through PutRecord (auto fallback), or one per call (a whole-call
    /// validation error, to find the record at fault).
    resend_now: Vec<usize>,
}

/// Runs one call and its retries until every record of it is settled.
async fn run_call(shared: Arc<Shared>, mut call: Call, first_slot: Slot) {
    let mut first_slot = Some(first_slot);
    let mut rng = fastrand::Rng::new();
    loop {
        let slot = match first_slot.take() {
            Some(slot) => slot,
            None => match flow_control(&shared, call.indexes.len()).await {
                Some(slot) => slot,
                None => {
                    settle_failed(&shared, &call.queued.batch, &call.indexes, &aborted_reason());
                    return;
                }
            },
        };
        if call.attempts > 1 {
            Stats::add(&shared.stats.rows_retried, call.indexes.len());
        }
        let put = use_put(&shared);
        if put && call.indexes.len() > 1 {
            // PutRecord takes one record: the others go to calls of their own, with their own slots.
            for index in call.indexes.split_off(1) {
                let single = Call {
                    queued: Arc::clone(&call.queued),
                    indexes: vec![index],
                    attempts: call.attempts,
                    first_sent: call.first_sent,
                };
                tokio::spawn(run_call_without_slot(Arc::clone(&shared), single));
            }
        }
        let Some(report) = send(&shared, &call, put).await else {
            if let (Some(throughput), Some(ticket)) = (&shared.throughput, slot.ticket) {
                throughput.after_no_answer(ticket);
            }
            drop(slot);
            settle_failed(&shared, &call.queued.batch, &call.indexes, &aborted_reason());
            return;
        };
        Stats::add(&shared.stats.requests, 1);
        Stats::add(&shared.stats.bytes_sent, report.bytes_sent);
        shared.stats.latency.record(report.latency);

        let verdict = judge(&shared, &call, put, report);
        if verdict.throttled {
            Stats::add(&shared.stats.requests_throttled, 1);
        }
        if let (Some(throughput), Some(ticket)) = (&shared.throughput, slot.ticket) {
            if verdict.answered {
                throughput.after_answer(ticket, verdict.acknowledged, verdict.throttled);
            } else {
                throughput.after_no_answer(ticket);
            }
        }
        drop(slot);

        for index in verdict.resend_now {
            let again = Call {
                queued: Arc::clone(&call.queued),
                indexes: vec![index],
                attempts: call.attempts,
                first_sent: call.first_sent,
            };
            tokio::spawn(run_call_without_slot(Arc::clone(&shared), again));
        }
        if verdict.retry.is_empty() {
            return;
        }
        let delay = if verdict.throttled && shared.throughput.is_some() {
            // The adaptive rate has slowed the writer down already; a short random wait only keeps the
            // throttled calls from coming back in step.
            shared.backoff.delay(1, &mut rng)
        } else {
            shared.backoff.delay(call.attempts, &mut rng)
        };
        if !shared
            .backoff
            .may_retry(call.attempts, call.first_sent.elapsed(), delay)
        {
            for retry in &verdict.retry {
                let why = reason(
                    FailureOrigin::RetriesExhausted,
                    &retry.code,
                    format!("after {} attempts: {}", call.attempts, retry.message),
                );
                settle_failed(&shared, &call.queued.batch, &[retry.index], &why);
            }
            return;
        }
        call.indexes = verdict.retry.iter().map(|r| r.index).collect();
        call.attempts += 1;
        tokio::select! {
            biased;
            _ = aborted(&shared) => {
                settle_failed(&shared, &call.queued.batch, &call.indexes, &aborted_reason());
                return;
            }
            _ = tokio::time::sleep(delay) => {}
        }
    }
}

/// `run_call` for a call that has yet to wait for its slot. Boxed: the two functions spawn each other.
fn run_call_without_slot(
    shared: Arc<Shared>,
    call: Call,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
    Box::pin(async move {
        match flow_control(&shared, call.indexes.len()).await {
            Some(slot) => run_call(shared, call, slot).await,
            None => settle_failed(&shared, &call.queued.batch, &call.indexes, &aborted_reason()),
        }
    })
}

/// Sends the call's records, unless the writer is aborted first (then `None`: the call is cancelled).
async fn send(shared: &Shared, call: &Call, put: bool) -> Option<WriteReport> {
    let client = shared.client.as_ref()?;
    let batch = &call.queued.batch;
    let send = async {
        if put {
            let span = batch.records()[call.indexes[0]];
            client
                .runtime
                .put_record(&shared.spec, batch.record_json(&span))
                .await
        } else {
            let records: Vec<&[u8]> = call
                .indexes
                .iter()
                .map(|&i| batch.record_json(&batch.records()[i]))
                .collect();
            client.runtime.batch_write_record(&shared.spec, &records).await
        }
    };
    tokio::select! {
        biased;
        _ = aborted(shared) => None,
        report = send => Some(report),
    }
}

/// Settles what an attempt decided for good and returns what is left to do.
fn judge(shared: &Shared, call: &Call, put: bool, report: WriteReport) -> Verdict {
    let batch = &call.queued.batch;
    let operation = if put { "PutRecord" } else { "BatchWriteRecord" };
    let mut verdict = Verdict::default();
    match report.outcome {
        WriteOutcome::Written(reply) if reply.is_clean() => {
            verdict.answered = true;
            verdict.acknowledged = call.indexes.len();
            settle_acknowledged(shared, verdict.acknowledged);
        }
        WriteOutcome::Written(reply) => {
            verdict.answered = true;
            let records: Vec<&[u8]> = call
                .indexes
                .iter()
                .map(|&i| batch.record_json(&batch.records()[i]))
                .collect();
            let returned: Vec<&Value> = reply
                .errors
                .iter()
                .map(|e| &e.entry.record)
                .chain(reply.unprocessed.iter().map(|u| &u.record))
                .collect();
            let matches = match_returned(&records, &returned);
            let mut fate: Vec<Option<Retry>> = (0..call.indexes.len()).map(|_| None).collect();
            let mut acknowledged = vec![true; call.indexes.len()];
            let mut unmatched = false;
            for (n, matched) in matches.iter().enumerate() {
                let Some(position) = *matched else {
                    unmatched = true;
                    continue;
                };
                acknowledged[position] = false;
                let index = call.indexes[position];
                if let Some(error) = reply.errors.get(n) {
                    let class = classify_entry(&error.code);
                    match class {
                        ErrorClass::Throttled | ErrorClass::Retryable => {
                            verdict.throttled |= class == ErrorClass::Throttled;
                            fate[position] = Some(Retry {
                                index,
                                code: error.code.clone(),
                                message: error.message.clone(),
                            });
                        }
                        ErrorClass::Terminal | ErrorClass::NotPermitted => {
                            let why = reason(FailureOrigin::Service, &error.code, error.message.clone());
                            settle_failed(shared, batch, &[index], &why);
                            // Every entry goes to the writer's one group: if it is missing or forbidden,
                            // so is every further record.
                            if let Some(status) = group_level_status(&error.code) {
                                latch_fatal(
                                    shared,
                                    Error::Service {
                                        operation,
                                        code: error.code.clone(),
                                        status,
                                        message: error.message.clone(),
                                    },
                                );
                            }
                        }
                    }
                } else {
                    fate[position] = Some(Retry {
                        index,
                        code: "UnprocessedEntry".into(),
                        message: "BatchWriteRecord returned the entry as unprocessed".into(),
                    });
                }
            }
            if unmatched {
                // An entry came back that matches none we sent: which record it stands for is unknown, so
                // every record not accounted for is sent again (at least once, never lost).
                log::warn!(
                    "BatchWriteRecord returned entries that match no record sent; re-sending the rest"
                );
                for (position, ack) in acknowledged.iter_mut().enumerate() {
                    if *ack {
                        *ack = false;
                        fate[position] = Some(Retry {
                            index: call.indexes[position],
                            code: "UnmatchedEntry".into(),
                            message: "the service returned an entry that matches no record sent".into(),
                        });
                    }
                }
            }
            verdict.acknowledged = acknowledged.iter().filter(|a| **a).count();
            settle_acknowledged(shared, verdict.acknowledged);
            verdict.retry = fate.into_iter().flatten().collect();
        }
        WriteOutcome::Refused {
            status,
            code,
            message,
        } => {
            verdict.answered = true;
            judge_refusal(
                shared,
                call,
                put,
                &mut verdict,
                Refusal {
                    status,
                    code,
                    message,
                },
            );
        }
        WriteOutcome::NoAnswer { message } => {
            log::debug!("{operation} got no answer: {message}");
            verdict.retry = retry_all(&call.indexes, "NoAnswer", &message);
        }
        WriteOutcome::Credentials(error) => {
            let why = reason(FailureOrigin::Client, "Credentials", error.to_string());
            settle_failed(shared, batch, &call.indexes, &why);
            latch_fatal(shared, error);
        }
        WriteOutcome::Unsendable { message } => {
            let why = reason(FailureOrigin::Client, "InvalidRequest", message.clone());
            settle_failed(shared, batch, &call.indexes, &why);
            latch_fatal(shared, Error::Internal(format!("{operation}: {message}")));
        }
    }
    verdict
}

/// An error answer to a whole call.
struct Refusal {
    status: u16,
    code: String,
    message: String,
}

/// Settles what a refused call decided for good, and fills in what is left to do.
fn judge_refusal(shared: &Shared, call: &Call, put: bool, verdict: &mut Verdict, refusal: Refusal) {
    let Refusal {
        status,
        code,
        message,
    } = refusal;
    let batch = &call.queued.batch;
    let operation = if put { "PutRecord" } else { "BatchWriteRecord" };
    match classify_call(status, &code) {
        class @ (ErrorClass::Throttled | ErrorClass::Retryable) => {
            verdict.throttled = class == ErrorClass::Throttled;
            verdict.retry = retry_all(&call.indexes, &code, &message);
        }
        ErrorClass::NotPermitted if !put && shared.api == Api::Auto => {
            if !shared.fell_back_to_put.swap(true, Ordering::Relaxed) {
                log::warn!(
                    "BatchWriteRecord is not permitted ({code}: {message}); writing with PutRecord from now on"
                );
            }
            verdict.resend_now = call.indexes.clone();
        }
        ErrorClass::Terminal if !put && code == "ValidationError" && call.indexes.len() > 1 => {
            // The whole call was refused: send each record alone to find the one at fault.
            verdict.resend_now = call.indexes.clone();
        }
        class => {
            let why = reason(FailureOrigin::Service, &code, message.clone());
            settle_failed(shared, batch, &call.indexes, &why);
            // Access refused or the group missing: every further record would fail the same way.
            if class == ErrorClass::NotPermitted || status == 404 {
                latch_fatal(
                    shared,
                    Error::Service {
                        operation,
                        code,
                        status,
                        message,
                    },
                );
            }
        }
    }
}

fn retry_all(indexes: &[usize], code: &str, message: &str) -> Vec<Retry> {
    indexes
        .iter()
        .map(|&index| Retry {
            index,
            code: code.to_owned(),
            message: message.to_owned(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_values_are_the_features_as_sent() {
        let (id, values) = values_of(
            br#"[{"FeatureName":"id","ValueAsString":"42"},{"FeatureName":"tags","ValueAsStringList":["a","b"]}]"#,
            "id",
        );
        assert_eq!(id.as_deref(), Some("42"));
        assert_eq!(
            Value::Object(values),
            serde_json::json!({"id": "42", "tags": ["a", "b"]})
        );
    }

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
