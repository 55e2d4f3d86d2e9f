//! Dispatch: batches off the queue, cut into calls, each started once flow control allows (a slot of
//! `maxInFlight`, the write's ceiling, the adaptive rate), until the writer is aborted.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use tokio::sync::{OwnedSemaphorePermit, mpsc};

use super::call::{Call, run_call};
use super::settle::{aborted_reason, settle_failed};
use super::{QueuedBatch, Shared};
use crate::config::Api;
use crate::sink::fault::{self, FaultPoint};
use crate::throughput::Ticket;

/// Takes batches off the queue, cuts them into calls and starts each call once flow control allows.
pub(super) async fn dispatch(shared: Arc<Shared>, mut queue: mpsc::UnboundedReceiver<QueuedBatch>) {
    while let Some(queued) = queue.recv().await {
        let queued = Arc::new(queued);
        let _ = fault::hit(FaultPoint::Dispatcher, &shared.calls.spec.feature_group);
        let count = queued.batch.records().len();
        let mut start = 0;
        while start < count {
            let size = if call_kind(&shared).single() {
                1
            } else {
                shared.calls.batch_size
            };
            let end = (start + size).min(count);
            let Some(slot) = flow_control(&shared, end - start).await else {
                let rest: Vec<usize> = (start..count).collect();
                settle_failed(&shared, &queued, &rest, &aborted_reason());
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

/// The operation a call is sent with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum CallKind {
    BatchWrite,
    Put,
    Delete,
}

impl CallKind {
    pub(super) fn operation(self) -> &'static str {
        match self {
            CallKind::BatchWrite => "BatchWriteRecord",
            CallKind::Put => "PutRecord",
            CallKind::Delete => "DeleteRecord",
        }
    }

    /// PutRecord and DeleteRecord take one record per call.
    pub(super) fn single(self) -> bool {
        self != CallKind::BatchWrite
    }
}

/// The operation the writer's next call uses: DeleteRecord for a writer that deletes; PutRecord when asked
/// for, or once `auto` found BatchWriteRecord not permitted; BatchWriteRecord otherwise.
pub(super) fn call_kind(shared: &Shared) -> CallKind {
    if shared.calls.spec.delete.is_some() {
        CallKind::Delete
    } else if shared.calls.api == Api::PutRecord || shared.calls.fell_back_to_put.load(Ordering::Relaxed) {
        CallKind::Put
    } else {
        CallKind::BatchWrite
    }
}

/// The right to send one call: a slot of `maxInFlight`, and the call's place in the adaptive rate.
#[derive(Debug)]
pub(super) struct Slot {
    _permit: OwnedSemaphorePermit,
    pub(super) ticket: Option<Ticket>,
}

/// Waits for a call slot, then for `records` of the write's ceiling and of the adaptive rate; `None` if the
/// writer is aborted meanwhile.
pub(super) async fn flow_control(shared: &Shared, records: usize) -> Option<Slot> {
    if is_aborted(shared) {
        return None;
    }
    let wait = async {
        let permit = Arc::clone(&shared.flow.slots).acquire_owned().await.ok()?;
        if let Some(ceiling) = &shared.flow.ceiling {
            ceiling.acquire(records).await;
        }
        let ticket = match &shared.flow.throughput {
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

pub(super) fn is_aborted(shared: &Shared) -> bool {
    *shared.flow.aborted.borrow()
}

/// Resolves when the writer is aborted.
pub(super) async fn aborted(shared: &Shared) {
    let mut rx = shared.flow.aborted.subscribe();
    let _ = rx.wait_for(|aborted| *aborted).await;
}
