//! What the encoder hands the sink, and what comes back for rows that did not make it.
//!
//! Records are kept as the exact JSON text the service receives for a record's `Record` member
//! (`[{"FeatureName":"f","ValueAsString":"v"},...]`), back to back in one buffer per batch: the encoder writes
//! them once, the sink splices them into request bodies (and again on a retry) without re-encoding.

use std::fmt;

/// One Arrow batch after validation and encoding. Every input row of the batch is in exactly one of
/// `records()` or `failed()`.
#[derive(Debug, Default, Clone)]
pub struct EncodedBatch {
    bytes: Vec<u8>,
    records: Vec<RecordSpan>,
    failed: Vec<FailedRecord>,
}

/// Where one encoded record lies in [`EncodedBatch`]'s buffer, and which input row it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordSpan {
    /// Index of the row in the writer's input, counted from 0 across all batches of the writer.
    pub row: u64,
    pub start: usize,
    pub end: usize,
}

impl EncodedBatch {
    pub fn with_capacity(records: usize, bytes: usize) -> Self {
        Self {
            bytes: Vec::with_capacity(bytes),
            records: Vec::with_capacity(records),
            failed: Vec::new(),
        }
    }

    /// The buffer the encoder appends a record's JSON text to; call [`Self::commit_record`] once it is
    /// complete, or [`Self::rollback_record`] to discard what was written since `start`.
    pub fn buffer_mut(&mut self) -> &mut Vec<u8> {
        &mut self.bytes
    }

    /// Marks `bytes[start..]` as the encoded record of input row `row`.
    pub fn commit_record(&mut self, row: u64, start: usize) {
        self.records.push(RecordSpan {
            row,
            start,
            end: self.bytes.len(),
        });
    }

    /// Drops a partly written record (the row failed part way through).
    pub fn rollback_record(&mut self, start: usize) {
        self.bytes.truncate(start);
    }

    pub fn push_failed(&mut self, failed: FailedRecord) {
        self.failed.push(failed);
    }

    pub fn records(&self) -> &[RecordSpan] {
        &self.records
    }

    /// The JSON text of one record's `Record` array.
    pub fn record_json(&self, span: &RecordSpan) -> &[u8] {
        &self.bytes[span.start..span.end]
    }

    pub fn failed(&self) -> &[FailedRecord] {
        &self.failed
    }

    pub fn take_failed(&mut self) -> Vec<FailedRecord> {
        std::mem::take(&mut self.failed)
    }

    /// Rows this batch holds, encoded or failed.
    pub fn row_count(&self) -> usize {
        self.records.len() + self.failed.len()
    }

    pub fn encoded_bytes(&self) -> usize {
        self.bytes.len()
    }
}

/// A row that was not written, with its values and the reason. Nothing is dropped silently: the caller
/// writes these to the failed-records sink.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FailedRecord {
    /// Index of the row in the writer's input (see [`RecordSpan::row`]).
    pub row: u64,
    /// The record identifier as text, when the row has one.
    pub record_identifier: Option<String>,
    /// The row's values as a JSON object, feature name -> value as the service would have received it
    /// (string, or list of strings); for rows that failed before encoding, each column rendered as text.
    pub values: serde_json::Map<String, serde_json::Value>,
    pub reason: FailureReason,
}

/// Why a row failed: which column (when one is to blame), which rule or service error code, and a message.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FailureReason {
    pub origin: FailureOrigin,
    pub column: Option<String>,
    /// A client rule id (e.g. `null_record_identifier`, `non_finite_fractional`) or the service's error code
    /// (e.g. `ValidationError`, `AccessForbidden`, `ThrottlingException` when retries ran out).
    pub code: String,
    pub message: String,
}

/// Who rejected the row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum FailureOrigin {
    /// Checked before sending: the service would have rejected it.
    Client,
    /// The service answered with a terminal error for this record.
    Service,
    /// A retryable error persisted beyond the retry limits (attempts or total time).
    RetriesExhausted,
    /// The writer was aborted before the record was acknowledged.
    Aborted,
    /// A bug: the task sending the record ended without settling it (a panic).
    Internal,
}

impl fmt::Display for FailureReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.column {
            Some(column) => write!(f, "column '{}': {} ({})", column, self.message, self.code),
            None => write!(f, "{} ({})", self.message, self.code),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn committed_and_rolled_back_records_are_kept_apart() {
        let mut batch = EncodedBatch::default();
        let start = batch.buffer_mut().len();
        batch
            .buffer_mut()
            .extend_from_slice(br#"[{"FeatureName":"id","ValueAsString":"1"}]"#);
        batch.commit_record(0, start);
        let start = batch.buffer_mut().len();
        batch.buffer_mut().extend_from_slice(br#"[{"FeatureName":"id","#);
        batch.rollback_record(start);
        batch.push_failed(FailedRecord {
            row: 1,
            record_identifier: None,
            values: serde_json::Map::new(),
            reason: FailureReason {
                origin: FailureOrigin::Client,
                column: Some("id".into()),
                code: "null_record_identifier".into(),
                message: "the record identifier is null".into(),
            },
        });
        assert_eq!(batch.row_count(), 2);
        assert_eq!(
            batch.record_json(&batch.records()[0]),
            br#"[{"FeatureName":"id","ValueAsString":"1"}]"#
        );
        assert_eq!(
            batch.encoded_bytes(),
            br#"[{"FeatureName":"id","ValueAsString":"1"}]"#.len()
        );
        assert_eq!(
            batch.failed()[0].reason.to_string(),
            "column 'id': the record identifier is null (null_record_identifier)"
        );
    }
}
