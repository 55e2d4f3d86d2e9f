//! Judging: what one answer means for each record of the call — acknowledged, failed for good (settled here),
//! to retry, or to send again at once another way — and whether the service throttled.

use std::sync::atomic::Ordering;

use serde_json::Value;

use super::Shared;
use super::call::Call;
use super::dispatch::CallKind;
use super::settle::{latch_fatal, reason, settle_acknowledged, settle_failed};
use crate::config::Api;
use crate::error::Error;
use crate::record::FailureOrigin;
use crate::request::{BatchWriteReply, EntryError, match_returned};
use crate::retry::{ErrorClass, classify_call, classify_entry, credentials_hint};
use crate::transport::{WriteOutcome, WriteReport};

/// A record to try again, with the error that made it so (reported if the retries run out).
#[derive(Debug)]
pub(super) struct Retry {
    pub(super) index: usize,
    pub(super) code: String,
    pub(super) message: String,
}

/// What one attempt decided.
#[derive(Debug, Default)]
pub(super) struct Verdict {
    /// Records the service wrote.
    pub(super) acknowledged: usize,
    pub(super) retry: Vec<Retry>,
    pub(super) throttled: bool,
    /// The service answered (rather than the call failing on the way): the answer tells the adaptive rate.
    pub(super) answered: bool,
    /// Send these records again at once through PutRecord (auto fallback), or one per call (a whole-call
    /// validation error, to find the record at fault).
    pub(super) resend_now: Vec<usize>,
}

/// Settles what an attempt decided for good and returns what is left to do.
pub(super) fn judge(shared: &Shared, call: &Call, kind: CallKind, report: WriteReport) -> Verdict {
    let operation = kind.operation();
    let mut verdict = Verdict::default();
    match report.outcome {
        WriteOutcome::Written(reply) if reply.is_clean() => {
            verdict.answered = true;
            verdict.acknowledged = call.indexes.len();
            settle_acknowledged(shared, &call.queued, &call.indexes);
        }
        WriteOutcome::Written(reply) => {
            verdict.answered = true;
            judge_partial(shared, call, operation, &mut verdict, &reply);
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
                kind,
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
            settle_failed(shared, &call.queued, &call.indexes, &why);
            latch_fatal(shared, error);
        }
        WriteOutcome::Unsendable { message } => {
            let why = reason(FailureOrigin::Client, "InvalidRequest", message.clone());
            settle_failed(shared, &call.queued, &call.indexes, &why);
            latch_fatal(shared, Error::Internal(format!("{operation}: {message}")));
        }
    }
    verdict
}

/// A BatchWriteRecord answer with entries in error or unprocessed: every other record was written.
fn judge_partial(
    shared: &Shared,
    call: &Call,
    operation: &'static str,
    verdict: &mut Verdict,
    reply: &BatchWriteReply,
) {
    let batch = &call.queued.batch;
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
            fate[position] = judge_entry_error(shared, call, operation, index, error, verdict);
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
        log::warn!("BatchWriteRecord returned entries that match no record sent; re-sending the rest");
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
    let written: Vec<usize> = (0..call.indexes.len())
        .filter(|&position| acknowledged[position])
        .map(|position| call.indexes[position])
        .collect();
    verdict.acknowledged = written.len();
    settle_acknowledged(shared, &call.queued, &written);
    verdict.retry = fate.into_iter().flatten().collect();
}

/// One entry returned in error: a record to retry, or one failed for good (settled here).
fn judge_entry_error(
    shared: &Shared,
    call: &Call,
    operation: &'static str,
    index: usize,
    error: &EntryError,
    verdict: &mut Verdict,
) -> Option<Retry> {
    let class = classify_entry(&error.code);
    match class {
        ErrorClass::Throttled | ErrorClass::Retryable => {
            verdict.throttled |= class == ErrorClass::Throttled;
            Some(Retry {
                index,
                code: error.code.clone(),
                message: error.message.clone(),
            })
        }
        ErrorClass::Terminal | ErrorClass::NotPermitted | ErrorClass::Credentials => {
            let why = reason(FailureOrigin::Service, &error.code, error.message.clone());
            settle_failed(shared, &call.queued, &[index], &why);
            // Every entry goes to the writer's one group: if it is missing or forbidden, so is every further
            // record.
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
            None
        }
    }
}

/// An error answer to a whole call.
struct Refusal {
    status: u16,
    code: String,
    message: String,
}

/// Settles what a refused call decided for good, and fills in what is left to do.
fn judge_refusal(shared: &Shared, call: &Call, kind: CallKind, verdict: &mut Verdict, refusal: Refusal) {
    let Refusal {
        status,
        code,
        message,
    } = refusal;
    let operation = kind.operation();
    let batch_write = kind == CallKind::BatchWrite;
    match classify_call(status, &code) {
        class @ (ErrorClass::Throttled | ErrorClass::Retryable) => {
            verdict.throttled = class == ErrorClass::Throttled;
            verdict.retry = retry_all(&call.indexes, &code, &message);
        }
        ErrorClass::NotPermitted if batch_write && shared.calls.api == Api::Auto => {
            if !shared.calls.fell_back_to_put.swap(true, Ordering::Relaxed) {
                log::warn!(
                    "BatchWriteRecord is not permitted ({code}: {message}); writing with PutRecord from now on"
                );
            }
            verdict.resend_now = call.indexes.clone();
        }
        ErrorClass::Terminal if batch_write && code == "ValidationError" && call.indexes.len() > 1 => {
            // The whole call was refused: send each record alone to find the one at fault.
            verdict.resend_now = call.indexes.clone();
        }
        class => {
            let message = if class == ErrorClass::Credentials {
                format!("{message} ({})", credentials_hint(&code))
            } else {
                message
            };
            let why = reason(FailureOrigin::Service, &code, message.clone());
            settle_failed(shared, &call.queued, &call.indexes, &why);
            // Access or the signature refused, or the group missing: every further record would fail the same way.
            if matches!(class, ErrorClass::NotPermitted | ErrorClass::Credentials) || status == 404 {
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

/// The HTTP status of a per-entry error code that concerns the feature group rather than the record.
fn group_level_status(code: &str) -> Option<u16> {
    match code {
        "ResourceNotFound" => Some(404),
        "AccessForbidden" | "AccessDeniedException" => Some(403),
        _ => None,
    }
}
