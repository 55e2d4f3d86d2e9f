//! One call: sent, judged, and retried with backoff until each of its records is settled (or the delivery
//! deadline passes, or the writer is aborted).

use std::sync::Arc;
use std::time::Instant;

use super::dispatch::{CallKind, Slot, aborted, call_kind, flow_control};
use super::judge::judge;
use super::settle::{aborted_reason, reason, settle_failed};
use super::{QueuedBatch, Shared};
use crate::metrics::Stats;
use crate::record::FailureOrigin;
use crate::sink::fault::{self, FaultPoint};
use crate::transport::WriteReport;

/// Records of one batch sent together, and how often they have been tried.
#[derive(Debug)]
pub(super) struct Call {
    pub(super) queued: Arc<QueuedBatch>,
    pub(super) indexes: Vec<usize>,
    /// Attempts so far for these records, the current one included.
    pub(super) attempts: u32,
    pub(super) first_sent: Instant,
}

/// Runs one call and its retries until every record of it is settled.
pub(super) async fn run_call(shared: Arc<Shared>, mut call: Call, first_slot: Slot) {
    let _ = fault::hit(FaultPoint::CallTask, &shared.calls.spec.feature_group);
    if fault::hit(FaultPoint::CallTaskStall, &shared.calls.spec.feature_group) {
        aborted(&shared).await;
        settle_failed(&shared, &call.queued, &call.indexes, &aborted_reason());
        return;
    }
    let mut first_slot = Some(first_slot);
    let mut rng = fastrand::Rng::new();
    loop {
        let slot = match first_slot.take() {
            Some(slot) => slot,
            None => match flow_control(&shared, call.indexes.len()).await {
                Some(slot) => slot,
                None => {
                    settle_failed(&shared, &call.queued, &call.indexes, &aborted_reason());
                    return;
                }
            },
        };
        if call.attempts > 1 {
            Stats::add(&shared.outcomes.stats.rows_retried, call.indexes.len());
        }
        let kind = call_kind(&shared);
        if kind.single() && call.indexes.len() > 1 {
            // PutRecord and DeleteRecord take one record: the others go to calls of their own, with their own
            // slots.
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
        let Some(report) = send(&shared, &call, kind).await else {
            if let (Some(throughput), Some(ticket)) = (&shared.flow.throughput, slot.ticket) {
                throughput.after_no_answer(ticket);
            }
            drop(slot);
            settle_failed(&shared, &call.queued, &call.indexes, &aborted_reason());
            return;
        };
        Stats::add(&shared.outcomes.stats.requests, 1);
        Stats::add(&shared.outcomes.stats.bytes_sent, report.bytes_sent);
        shared.outcomes.stats.latency.record(report.latency);

        let verdict = judge(&shared, &call, kind, report);
        if verdict.throttled {
            Stats::add(&shared.outcomes.stats.requests_throttled, 1);
        }
        if let (Some(throughput), Some(ticket)) = (&shared.flow.throughput, slot.ticket) {
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
        let delay = if verdict.throttled && shared.flow.throughput.is_some() {
            // The adaptive rate has slowed the writer down already; a short random wait only keeps the
            // throttled calls from coming back in step.
            shared.calls.backoff.delay(1, &mut rng)
        } else {
            shared.calls.backoff.delay(call.attempts, &mut rng)
        };
        if !shared
            .calls
            .backoff
            .may_retry(call.attempts, call.first_sent.elapsed(), delay)
        {
            for retry in &verdict.retry {
                let why = reason(
                    FailureOrigin::RetriesExhausted,
                    &retry.code,
                    format!("after {} attempts: {}", call.attempts, retry.message),
                );
                settle_failed(&shared, &call.queued, &[retry.index], &why);
            }
            return;
        }
        call.indexes = verdict.retry.iter().map(|r| r.index).collect();
        call.attempts += 1;
        tokio::select! {
            biased;
            _ = aborted(&shared) => {
                settle_failed(&shared, &call.queued, &call.indexes, &aborted_reason());
                return;
            }
            _ = tokio::time::sleep(delay) => {}
        }
    }
}

/// `run_call` for a call that has yet to wait for its slot. Boxed: the two functions spawn each other.
pub(super) fn run_call_without_slot(
    shared: Arc<Shared>,
    call: Call,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
    Box::pin(async move {
        match flow_control(&shared, call.indexes.len()).await {
            Some(slot) => run_call(shared, call, slot).await,
            None => settle_failed(&shared, &call.queued, &call.indexes, &aborted_reason()),
        }
    })
}

/// Sends the call's records, unless the writer is aborted first (then `None`: the call is cancelled).
async fn send(shared: &Shared, call: &Call, kind: CallKind) -> Option<WriteReport> {
    let client = shared.calls.client.as_ref()?;
    let batch = &call.queued.batch;
    let send = async {
        let single = || batch.record_json(&batch.records()[call.indexes[0]]);
        match kind {
            CallKind::Put => client.runtime.put_record(&shared.calls.spec, single()).await,
            CallKind::Delete => client.runtime.delete_record(&shared.calls.spec, single()).await,
            CallKind::BatchWrite => {
                let records: Vec<&[u8]> = call
                    .indexes
                    .iter()
                    .map(|&i| batch.record_json(&batch.records()[i]))
                    .collect();
                client
                    .runtime
                    .batch_write_record(&shared.calls.spec, &records)
                    .await
            }
        }
    };
    tokio::select! {
        biased;
        _ = aborted(shared) => None,
        report = send => Some(report),
    }
}
