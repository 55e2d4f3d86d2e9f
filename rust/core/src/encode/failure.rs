//! The rare path: a row that broke a rule becomes a [`FailedRecord`] with its values rendered as text and
//! a reason naming the row, the column and the rule. Allocation is fine here.

use arrow_schema::DataType;
use serde_json::{Map, Value};

use super::value::ValueError;
use super::{ColumnWriter, MAX_RECORD_BYTES, MAX_RECORD_IDENTIFIER_BYTES, MAX_VALUE_BYTES, rules};
use crate::record::{FailedRecord, FailureOrigin, FailureReason};
use crate::schema::{Role, describe_type};

/// Why a row was not encoded, and at which column (an index into the batch's writers), if one is to blame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct RowFailure {
    column: Option<usize>,
    kind: RowFailureKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RowFailureKind {
    NullRecordIdentifier,
    NullEventTime,
    Value(ValueError),
    ValueTooLarge {
        size: usize,
    },
    RecordIdentifierTooLarge {
        size: usize,
    },
    EmptyRecordIdentifier,
    /// The text was not UTF-8 when read (shown with U+FFFD for each bad sequence).
    InvalidUtf8,
    RecordTooLarge {
        size: usize,
    },
}

impl RowFailure {
    pub(super) fn at(column: usize, kind: RowFailureKind) -> Self {
        Self {
            column: Some(column),
            kind,
        }
    }

    pub(super) fn record(kind: RowFailureKind) -> Self {
        Self { column: None, kind }
    }
}

/// The failed record of input row `row` (index `index` in its batch).
pub(super) fn failed_record(
    writers: &[ColumnWriter<'_>],
    always_null: &[&str],
    index: usize,
    row: u64,
    failure: RowFailure,
) -> FailedRecord {
    let mut values = Map::new();
    let mut record_identifier = None;
    for name in always_null {
        values.insert(name.to_string(), Value::Null);
    }
    for writer in writers {
        let value = if writer.nulls.as_ref().is_some_and(|n| n.is_null(index)) {
            Value::Null
        } else {
            writer.encoder.render(index)
        };
        if writer.column.plan.role == Role::RecordIdentifier
            && let Value::String(text) = &value
        {
            record_identifier = Some(text.clone());
        }
        values.insert(writer.column.name.clone(), value);
    }
    let column = failure.column.and_then(|i| writers.get(i));
    let (code, message) = describe(failure.kind, column, row, index);
    FailedRecord {
        row,
        record_identifier,
        values,
        reason: FailureReason {
            origin: FailureOrigin::Client,
            column: column.map(|w| w.column.name.clone()),
            code: code.to_string(),
            message,
        },
    }
}

/// The rule id and the message of a failure.
fn describe(
    kind: RowFailureKind,
    column: Option<&ColumnWriter<'_>>,
    row: u64,
    index: usize,
) -> (&'static str, String) {
    let feature = column
        .map(|w| format!("the {} feature '{}'", w.column.plan.feature, w.column.name))
        .unwrap_or_default();
    // The value as shown in messages: short, and marked as one element of a collection when it is.
    let shown = || {
        let rendered = column.map(|w| w.encoder.render(index));
        match rendered {
            Some(Value::String(text)) => format!("'{}'", shorten(&text)),
            Some(list @ Value::Array(_)) => format!("an element of {}", shorten(&list.to_string())),
            _ => "the value".to_string(),
        }
    };
    match kind {
        RowFailureKind::NullRecordIdentifier => (
            rules::NULL_RECORD_IDENTIFIER,
            format!("row {row}: the record identifier is null; every record needs one"),
        ),
        RowFailureKind::NullEventTime => (
            rules::NULL_EVENT_TIME,
            format!("row {row}: the event time is null; every record needs one"),
        ),
        RowFailureKind::Value(ValueError::NonFinite) => (
            rules::NON_FINITE_FRACTIONAL,
            format!(
                "row {row}: {} is not a finite number; {feature} takes finite doubles only",
                shown()
            ),
        ),
        RowFailureKind::Value(ValueError::IntegralOutOfRange) => (
            rules::INTEGRAL_OUT_OF_RANGE,
            format!(
                "row {row}: {} is outside the 64-bit signed range of {feature}",
                shown()
            ),
        ),
        RowFailureKind::Value(ValueError::IntegralNotWhole) => (
            rules::INTEGRAL_NOT_WHOLE,
            format!(
                "row {row}: {} has a fraction; {feature} takes whole numbers only",
                shown()
            ),
        ),
        RowFailureKind::Value(ValueError::EventTimeFormat) => (
            rules::EVENT_TIME_FORMAT,
            format!(
                "row {row}: {} is not in an event time format the service accepts (yyyy-MM-ddTHH:mm:ssZ or yyyy-MM-ddTHH:mm:ss.SSSZ, in UTC)",
                shown()
            ),
        ),
        RowFailureKind::Value(ValueError::EventTimeOutOfRange) => (
            rules::EVENT_TIME_OUT_OF_RANGE,
            format!(
                "row {row}: {} lies outside the event times the service accepts (0000-01-01T00:00:00Z to 9999-12-31T23:59:59.999Z)",
                shown()
            ),
        ),
        RowFailureKind::Value(ValueError::TimestampOutOfRange) => (
            rules::TIMESTAMP_OUT_OF_RANGE,
            format!(
                "row {row}: {} lies outside years 0000 to 9999, which the text of {feature} can hold",
                shown()
            ),
        ),
        RowFailureKind::Value(ValueError::NullElement { element }) => (
            rules::NULL_COLLECTION_ELEMENT,
            format!(
                "row {row}: element {element} of {feature} is null; the service rejects collections with null elements"
            ),
        ),
        RowFailureKind::Value(ValueError::VectorDimension { expected, actual }) => (
            rules::VECTOR_DIMENSION_MISMATCH,
            format!("row {row}: the value has {actual} elements; {feature} takes exactly {expected}"),
        ),
        RowFailureKind::Value(ValueError::ElementTooLarge { element, size }) => (
            rules::VALUE_TOO_LARGE,
            format!(
                "row {row}: element {element} of {feature} is {size} bytes; the service takes at most {MAX_VALUE_BYTES} bytes (350 KB) per value"
            ),
        ),
        RowFailureKind::ValueTooLarge { size } => (
            rules::VALUE_TOO_LARGE,
            format!(
                "row {row}: the value of {feature} is {size} bytes; the service takes at most {MAX_VALUE_BYTES} bytes (350 KB) per value"
            ),
        ),
        RowFailureKind::RecordIdentifierTooLarge { size } => (
            rules::RECORD_IDENTIFIER_TOO_LARGE,
            format!(
                "row {row}: the record identifier is {size} bytes; the service takes at most {MAX_RECORD_IDENTIFIER_BYTES} bytes (2 KB)"
            ),
        ),
        RowFailureKind::EmptyRecordIdentifier => (
            rules::EMPTY_RECORD_IDENTIFIER,
            format!(
                "row {row}: the record identifier is empty; the service takes 1 to {MAX_RECORD_IDENTIFIER_BYTES} bytes"
            ),
        ),
        RowFailureKind::InvalidUtf8 => (
            rules::INVALID_UTF8,
            format!(
                "row {row}: the value of {feature} is not UTF-8 text (Spark held other bytes, e.g. from a binary column cast to string or a file written elsewhere), shown here with U+FFFD for each bad sequence; the service takes UTF-8 only"
            ),
        ),
        RowFailureKind::RecordTooLarge { size } => (
            rules::RECORD_TOO_LARGE,
            format!(
                "row {row}: the record is {size} bytes (feature names and values); the service takes at most {MAX_RECORD_BYTES} bytes (350 KB) per record"
            ),
        ),
    }
}

/// At most 100 characters of `text`, for messages.
fn shorten(text: &str) -> String {
    const LIMIT: usize = 100;
    match text.char_indices().nth(LIMIT) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

/// A batch that does not have the schema the encoder was built for: every row fails with this reason.
#[derive(Debug, Clone)]
pub(super) struct SchemaMismatch {
    column: Option<String>,
    message: String,
}

impl SchemaMismatch {
    pub(super) fn column_count(expected: usize, actual: usize) -> Self {
        Self {
            column: None,
            message: format!(
                "the batch has {actual} columns but the encoder was built for a schema of {expected}; build an encoder for the new schema"
            ),
        }
    }

    pub(super) fn column(
        expected_name: &str,
        expected_type: &DataType,
        actual_name: &str,
        actual_type: &DataType,
    ) -> Self {
        Self {
            column: Some(expected_name.to_string()),
            message: format!(
                "the batch has column '{actual_name}' of type {} where the encoder was built for column '{expected_name}' of type {}; build an encoder for the new schema",
                describe_type(actual_type),
                describe_type(expected_type)
            ),
        }
    }

    pub(super) fn failed_record(&self, row: u64) -> FailedRecord {
        FailedRecord {
            row,
            record_identifier: None,
            values: Map::new(),
            reason: FailureReason {
                origin: FailureOrigin::Client,
                column: self.column.clone(),
                code: rules::BATCH_SCHEMA_MISMATCH.to_string(),
                message: format!("row {row}: {}", self.message),
            },
        }
    }
}
