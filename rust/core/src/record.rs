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

/// The Spark task attempt a writer works for, written into each of its failed-records lines, so that a line read
/// on its own still says which application, stage attempt, partition and task attempt failed it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TaskAttempt {
    pub application: String,
    pub stage: i64,
    pub stage_attempt: i64,
    pub partition: i64,
    /// Spark's task attempt id: unique within the application.
    pub task_attempt_id: i64,
    /// 0 for the first attempt of the partition, 1 for its first retry or speculative copy, and so on.
    pub attempt_number: i64,
    /// The streaming epoch (micro-batch), for a streaming write.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub epoch: Option<i64>,
}

/// One failed-records line: the failed record, and the task attempt that failed it.
#[derive(serde::Serialize)]
struct FailedLine<'a> {
    #[serde(flatten)]
    record: &'a FailedRecord,
    #[serde(skip_serializing_if = "Option::is_none")]
    attempt: Option<&'a TaskAttempt>,
}

/// `failed` as JSON lines, one object per record: `row`, `recordIdentifier`, `values`, `reason` (origin, column,
/// code, message) and, when known, `attempt`.
pub fn failed_json_lines(failed: &[FailedRecord], attempt: Option<&TaskAttempt>) -> Vec<u8> {
    let mut lines = Vec::with_capacity(failed.len() * 256);
    for record in failed {
        match serde_json::to_vec(&FailedLine { record, attempt }) {
            Ok(line) => {
                lines.extend_from_slice(&line);
                lines.push(b'\n');
            }
            // Plain maps, strings and numbers always serialize; were one not to, the others still would.
            Err(e) => log::error!("failed record of row {} not rendered: {e}", record.row),
        }
    }
    lines
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
    fn failed_lines_are_one_json_object_each_naming_the_task_attempt() {
        let failed = FailedRecord {
            row: 7,
            record_identifier: Some("c7".into()),
            values: serde_json::json!({"id": "c7", "score": "NaN"})
                .as_object()
                .unwrap()
                .clone(),
            reason: FailureReason {
                origin: FailureOrigin::Client,
                column: Some("score".into()),
                code: "non_finite_fractional".into(),
                message: "NaN".into(),
            },
        };
        let attempt: TaskAttempt = serde_json::from_str(
            r#"{"application":"app-1","stage":3,"stageAttempt":1,"partition":5,"taskAttemptId":42,"attemptNumber":2}"#,
        )
        .unwrap();
        let lines = failed_json_lines(&[failed.clone(), failed], Some(&attempt));
        let text = String::from_utf8(lines).unwrap();
        let parsed: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(parsed.len(), 2);
        assert_eq!(
            parsed[0],
            serde_json::json!({
                "row": 7, "recordIdentifier": "c7", "values": {"id": "c7", "score": "NaN"},
                "reason": {"origin": "Client", "column": "score", "code": "non_finite_fractional", "message": "NaN"},
                "attempt": {"application": "app-1", "stage": 3, "stageAttempt": 1, "partition": 5,
                            "taskAttemptId": 42, "attemptNumber": 2}
            })
        );
        assert!(
            !String::from_utf8(failed_json_lines(&[], None))
                .unwrap()
                .contains('{')
        );
    }

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
