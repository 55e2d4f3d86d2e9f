//! Settling: a record acknowledged or failed for good. The only place counters move and budget is given back
//! once a record is sent, and each record is settled at most once (its bit in the batch says whether it was), so
//! every accepted record is counted exactly once.

use serde_json::{Map, Value};

use super::{QueuedBatch, Shared};
use crate::error::Error;
use crate::metrics::Stats;
use crate::record::{EncodedBatch, FailedRecord, FailureOrigin, FailureReason, RecordSpan};

pub(super) fn reason(origin: FailureOrigin, code: &str, message: impl Into<String>) -> FailureReason {
    FailureReason {
        origin,
        column: None,
        code: code.to_owned(),
        message: message.into(),
    }
}

/// Acknowledges `indexes` of `queued` (those not settled already).
pub(super) fn settle_acknowledged(shared: &Shared, queued: &QueuedBatch, indexes: &[usize]) {
    let records = indexes.iter().filter(|&&i| queued.mark_settled(i)).count();
    Stats::add(&shared.outcomes.stats.rows_acknowledged, records);
    if shared.calls.spec.delete.is_some() {
        Stats::add(&shared.outcomes.stats.rows_deleted, records);
    }
    shared.outcomes.budget.give_back_records(records);
}

/// Fails `indexes` of `queued` (those not settled already) with `reason`, keeping each row's values as the
/// service would have received them.
pub(super) fn settle_failed(
    shared: &Shared,
    queued: &QueuedBatch,
    indexes: &[usize],
    reason: &FailureReason,
) {
    let batch = &queued.batch;
    let failed: Vec<FailedRecord> = indexes
        .iter()
        .filter(|&&i| queued.mark_settled(i))
        .map(|&i| failed_record(shared, batch, &batch.records()[i], reason))
        .collect();
    let records = failed.len();
    record_failed(shared, failed);
    shared.outcomes.budget.give_back_records(records);
}

/// Fails every record of a batch that was accepted but never queued (so never took from the budget).
pub(super) fn fail_unqueued(shared: &Shared, batch: &EncodedBatch, reason: &FailureReason) {
    let failed: Vec<FailedRecord> = batch
        .records()
        .iter()
        .map(|span| failed_record(shared, batch, span, reason))
        .collect();
    record_failed(shared, failed);
}

/// Counts `failed` and keeps them for `take_failed`.
pub(super) fn record_failed(shared: &Shared, failed: Vec<FailedRecord>) {
    if failed.is_empty() {
        return;
    }
    Stats::add(&shared.outcomes.stats.rows_failed, failed.len());
    shared
        .outcomes
        .failed
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .extend(failed);
}

/// A record as it would have been sent, failed with `reason`.
fn failed_record(
    shared: &Shared,
    batch: &EncodedBatch,
    span: &RecordSpan,
    reason: &FailureReason,
) -> FailedRecord {
    let (record_identifier, values) = values_of(batch.record_json(span), &shared.calls.record_identifier);
    FailedRecord {
        row: span.row,
        record_identifier,
        values,
        reason: reason.clone(),
    }
}

/// A record's JSON (`[{"FeatureName":..,"ValueAsString":..},..]`) as a map feature -> value, and its identifier.
pub(super) fn values_of(record_json: &[u8], record_identifier: &str) -> (Option<String>, Map<String, Value>) {
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

pub(super) fn latch_fatal(shared: &Shared, error: Error) {
    let mut fatal = shared.outcomes.fatal.lock().unwrap_or_else(|p| p.into_inner());
    if fatal.is_none() {
        log::error!("writer for {} stops: {error}", shared.calls.spec.feature_group);
        *fatal = Some(error);
    }
}

pub(super) fn aborted_reason() -> FailureReason {
    reason(
        FailureOrigin::Aborted,
        "Aborted",
        "the writer was aborted before the record was acknowledged",
    )
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
}
