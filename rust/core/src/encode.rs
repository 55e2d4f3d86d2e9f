//! Validate and encode Arrow rows into the JSON text of the service's `Record`:
//! `[{"FeatureName":"a","ValueAsString":"1"},{"FeatureName":"b","ValueAsStringList":["x","y"]}]`.
//!
//! The design follows arrow-json's writer: the schema is planned once ([`RecordEncoder::new`]); for each
//! batch every column is downcast once into a typed encoder; the row loop then only checks the null
//! buffer and calls the column's encoder, which writes straight into [`EncodedBatch`]'s buffer. Nothing
//! is allocated per value. A row that breaks a rule is rolled back and reported as a [`FailedRecord`]
//! (the rare path, which may allocate) with its values and a reason naming row, column and rule.
//!
//! Rules beyond the type decisions of [`crate::schema`]:
//! - a null value omits the feature; a null record identifier or event time fails the row;
//! - the service's limits, checked on the text as the service counts it (UTF-8 bytes, before JSON
//!   escaping): [`MAX_VALUE_BYTES`] per value (and per collection element), [`MAX_RECORD_IDENTIFIER_BYTES`]
//!   for the record identifier, [`MAX_RECORD_BYTES`] per record, where a record's size is the sum of its
//!   feature names and values.

mod collection;
mod failure;
mod scalar;
mod text;
pub(crate) mod time;
mod value;

use std::sync::atomic::{AtomicUsize, Ordering};

use arrow_array::RecordBatch;
use arrow_buffer::NullBuffer;
use arrow_schema::Schema;

use crate::error::Result;
use crate::ipc::InvalidText;
use crate::model::FeatureGroup;
use crate::record::EncodedBatch;
use crate::schema::{ColumnPlan, Role, ValuePlan, plan_columns};
use failure::{RowFailure, RowFailureKind};
use value::ValueEncoder;

/// 350 KB: the largest feature value the service takes (developer guide, "Quotas, naming rules and data
/// types"; `ValueAsString` has max length 358,400 in the API model).
pub const MAX_VALUE_BYTES: usize = 358_400;
/// 350 KB: the largest record the service takes (same page).
pub const MAX_RECORD_BYTES: usize = 358_400;
/// 2 KB: the largest record identifier the service takes (same page).
pub const MAX_RECORD_IDENTIFIER_BYTES: usize = 2_048;

/// The most one batch reserves up front (the buffer still grows past it when the records need it).
const MAX_RESERVE_BYTES: usize = 64 << 20;

/// Stable ids of the rules a row can break on the client (`FailureReason::code` with
/// `FailureOrigin::Client`).
pub mod rules {
    pub const NULL_RECORD_IDENTIFIER: &str = "null_record_identifier";
    pub const NULL_EVENT_TIME: &str = "null_event_time";
    pub const NON_FINITE_FRACTIONAL: &str = "non_finite_fractional";
    pub const INTEGRAL_OUT_OF_RANGE: &str = "integral_out_of_range";
    pub const INTEGRAL_NOT_WHOLE: &str = "integral_not_whole";
    pub const EVENT_TIME_FORMAT: &str = "event_time_format";
    pub const EVENT_TIME_OUT_OF_RANGE: &str = "event_time_out_of_range";
    pub const TIMESTAMP_OUT_OF_RANGE: &str = "timestamp_out_of_range";
    pub const NULL_COLLECTION_ELEMENT: &str = "null_collection_element";
    pub const VECTOR_DIMENSION_MISMATCH: &str = "vector_dimension_mismatch";
    pub const VALUE_TOO_LARGE: &str = "value_too_large";
    pub const RECORD_IDENTIFIER_TOO_LARGE: &str = "record_identifier_too_large";
    pub const EMPTY_RECORD_IDENTIFIER: &str = "empty_record_identifier";
    pub const INVALID_UTF8: &str = "invalid_utf8";
    pub const RECORD_TOO_LARGE: &str = "record_too_large";
    pub const BATCH_SCHEMA_MISMATCH: &str = "batch_schema_mismatch";
}

/// Encodes the rows of batches of one schema for one feature group. Built once per (group, schema); holds
/// no Arrow data between calls.
#[derive(Debug)]
pub struct RecordEncoder {
    columns: Vec<PlannedColumn>,
    /// Columns of the schema, features or not: a batch with another count does not match.
    column_count: usize,
    /// Bytes per encoded record, learnt from the batches encoded so far (a static guess before the
    /// first): the buffer is reserved once per batch, since growing it mid-batch copies everything
    /// written so far.
    record_bytes_estimate: AtomicUsize,
}

/// A feature column with the constant JSON text that leads to each of its values. The text that closes a
/// value, the comma and the next feature's header are precomputed as one "lead", so writing a value costs
/// one copy of constant text plus the value itself.
#[derive(Debug)]
struct PlannedColumn {
    plan: ColumnPlan,
    name: String,
    /// `ValueAsStringList` rather than `ValueAsString`.
    is_collection: bool,
    /// `[{"FeatureName":"<name>","ValueAsString":"` (or `...,"ValueAsStringList":[`): the record's first value.
    lead_first: Vec<u8>,
    /// `"},` + the header: after a scalar value.
    lead_after_scalar: Vec<u8>,
    /// `]},` + the header: after a collection value.
    lead_after_collection: Vec<u8>,
}

/// The text that closes a record after its last value.
const CLOSE_AFTER_SCALAR: &[u8] = b"\"}]";
const CLOSE_AFTER_COLLECTION: &[u8] = b"]}]";

impl RecordEncoder {
    /// Plans the encoding of `schema`'s columns; fails with [`crate::Error::Schema`] listing every problem
    /// (the same as [`crate::schema::check_schema`]).
    pub fn new(group: &FeatureGroup, schema: &Schema, ignore_unknown_columns: bool) -> Result<RecordEncoder> {
        let plans = plan_columns(group, schema, ignore_unknown_columns)?;
        let columns: Vec<PlannedColumn> = plans
            .into_iter()
            .map(|plan| {
                let name = schema.field(plan.index).name().clone();
                let is_collection = matches!(plan.value, ValuePlan::Collection { .. });
                let mut header = br#"{"FeatureName":""#.to_vec();
                text::write_escaped(&mut header, &name);
                header.extend_from_slice(if is_collection {
                    br#"","ValueAsStringList":["#
                } else {
                    br#"","ValueAsString":""#
                });
                PlannedColumn {
                    plan,
                    name,
                    is_collection,
                    lead_first: [b"[".as_slice(), &header].concat(),
                    lead_after_scalar: [b"\"},".as_slice(), &header].concat(),
                    lead_after_collection: [b"]},".as_slice(), &header].concat(),
                }
            })
            .collect();
        let first_guess = 2 + columns
            .iter()
            .map(|c| c.lead_after_scalar.len() + 32)
            .sum::<usize>();
        Ok(RecordEncoder {
            columns,
            column_count: schema.fields().len(),
            record_bytes_estimate: AtomicUsize::new(first_guess),
        })
    }

    /// Encodes every row of `batch` (rows numbered from `first_row`) into `out`: each row ends up in
    /// `out.records()` as the JSON text of its `Record` array, or in `out.failed()` with its reason.
    pub fn encode(&self, batch: &RecordBatch, first_row: u64, out: &mut EncodedBatch) {
        self.encode_marked(batch, first_row, &[], out);
    }

    /// [`Self::encode`], where each row of `invalid_text` (in row order) fails with `invalid_utf8` at its column:
    /// its text was not UTF-8 and was made valid when read (`crate::ipc`). A column not written is not judged.
    pub fn encode_marked(
        &self,
        batch: &RecordBatch,
        first_row: u64,
        invalid_text: &[InvalidText],
        out: &mut EncodedBatch,
    ) {
        let (mut writers, always_null) = match self.column_writers(batch) {
            Ok(writers) => writers,
            Err(mismatch) => {
                for row in 0..batch.num_rows() {
                    out.push_failed(mismatch.failed_record(first_row + row as u64));
                }
                return;
            }
        };
        let rows = batch.num_rows();
        let estimate = self.record_bytes_estimate.load(Ordering::Relaxed);
        // An eighth more than expected, so a batch slightly larger than the last does not grow the buffer;
        // capped, so one batch of huge records does not make every later batch reserve gigabytes.
        let reserve = rows.saturating_mul(estimate + estimate / 8);
        out.buffer_mut().reserve(reserve.min(MAX_RESERVE_BYTES));
        let (bytes_before, records_before) = (out.encoded_bytes(), out.records().len());
        let marked: Vec<(usize, usize)> = invalid_text
            .iter()
            .filter_map(|invalid| {
                let writer = writers.iter().position(|w| w.column.name == invalid.column)?;
                Some((invalid.row, writer))
            })
            .collect();
        let mut marked = marked.into_iter().peekable();
        for row in 0..rows {
            let start = out.buffer_mut().len();
            let mut invalid_at = None;
            while let Some((_, writer)) = marked.next_if(|(marked_row, _)| *marked_row == row) {
                invalid_at.get_or_insert(writer);
            }
            let written = match invalid_at {
                Some(writer) => Err(RowFailure::at(writer, RowFailureKind::InvalidUtf8)),
                None => write_record(&mut writers, row, out.buffer_mut()),
            };
            match written {
                Ok(()) => out.commit_record(first_row + row as u64, start),
                Err(failure) => {
                    out.rollback_record(start);
                    out.push_failed(failure::failed_record(
                        &writers,
                        &always_null,
                        row,
                        first_row + row as u64,
                        failure,
                    ));
                }
            }
        }
        let records = out.records().len() - records_before;
        if records > 0 {
            let average = (out.encoded_bytes() - bytes_before).div_ceil(records);
            self.record_bytes_estimate.store(average, Ordering::Relaxed);
        }
    }

    /// One typed encoder per feature column of `batch` (and the names of `Null`-typed feature columns,
    /// which never have a value), or why the batch does not fit this encoder.
    #[allow(clippy::type_complexity)]
    fn column_writers<'a>(
        &'a self,
        batch: &'a RecordBatch,
    ) -> std::result::Result<(Vec<ColumnWriter<'a>>, Vec<&'a str>), failure::SchemaMismatch> {
        let schema = batch.schema_ref();
        if schema.fields().len() != self.column_count {
            return Err(failure::SchemaMismatch::column_count(
                self.column_count,
                schema.fields().len(),
            ));
        }
        let mut writers = Vec::with_capacity(self.columns.len());
        let mut always_null = Vec::new();
        for column in &self.columns {
            let field = schema.field(column.plan.index);
            let array = batch.column(column.plan.index).as_ref();
            let matches = field.name() == &column.name && field.data_type() == &column.plan.data_type;
            let encoder = match column.plan.value {
                _ if !matches => None,
                ValuePlan::AlwaysNull => {
                    always_null.push(column.name.as_str());
                    continue;
                }
                ValuePlan::Scalar(format) => scalar::make_scalar_encoder(array, format),
                ValuePlan::Collection { collection, element } => {
                    collection::make_collection_encoder(array, collection, element)
                }
            };
            let Some(encoder) = encoder else {
                return Err(failure::SchemaMismatch::column(
                    &column.name,
                    &column.plan.data_type,
                    field.name(),
                    field.data_type(),
                ));
            };
            writers.push(ColumnWriter {
                encoder,
                nulls: array.logical_nulls(),
                leads: [
                    &column.lead_first,
                    &column.lead_after_scalar,
                    &column.lead_after_collection,
                ],
                lead_after: if column.is_collection { 2 } else { 1 },
                size_limit: if column.plan.role == Role::RecordIdentifier {
                    MAX_RECORD_IDENTIFIER_BYTES
                } else {
                    MAX_VALUE_BYTES
                },
                name_bytes: column.name.len(),
                role: column.plan.role,
                column,
            });
        }
        Ok((writers, always_null))
    }
}

/// A feature column of one batch, with what the row loop needs at hand.
struct ColumnWriter<'a> {
    encoder: Box<dyn ValueEncoder + 'a>,
    nulls: Option<NullBuffer>,
    /// The text before a value, indexed by what the record had so far: nothing (0), a scalar last (1), a
    /// collection last (2).
    leads: [&'a [u8]; 3],
    /// The index into the next column's `leads` after a value of this column.
    lead_after: usize,
    /// The largest value the service takes for this column, in bytes.
    size_limit: usize,
    /// What the feature's name adds to the record's size.
    name_bytes: usize,
    role: Role,
    column: &'a PlannedColumn,
}

/// Appends row `row`'s `Record` array to `out`, or says which rule it breaks (what was written is then
/// discarded by the caller).
#[inline]
fn write_record(
    writers: &mut [ColumnWriter<'_>],
    row: usize,
    out: &mut Vec<u8>,
) -> std::result::Result<(), RowFailure> {
    let mut record_bytes = 0;
    // Which lead comes next: 0 before the first value, then what the last value was.
    let mut lead = 0;
    for (index, writer) in writers.iter_mut().enumerate() {
        if writer.nulls.as_ref().is_some_and(|nulls| nulls.is_null(row)) {
            match writer.role {
                Role::Feature => continue,
                Role::RecordIdentifier => {
                    return Err(RowFailure::at(index, RowFailureKind::NullRecordIdentifier));
                }
                Role::EventTime => {
                    return Err(RowFailure::at(index, RowFailureKind::NullEventTime));
                }
            }
        }
        out.extend_from_slice(writer.leads[lead]);
        let size = match writer.encoder.encode(row, out) {
            Ok(size) => size,
            Err(error) => return Err(RowFailure::at(index, RowFailureKind::Value(error))),
        };
        if size == 0 && writer.role == Role::RecordIdentifier {
            return Err(RowFailure::at(index, RowFailureKind::EmptyRecordIdentifier));
        }
        if size > writer.size_limit {
            return Err(RowFailure::at(
                index,
                if writer.role == Role::RecordIdentifier {
                    RowFailureKind::RecordIdentifierTooLarge { size }
                } else {
                    RowFailureKind::ValueTooLarge { size }
                },
            ));
        }
        record_bytes += writer.name_bytes + size;
        lead = writer.lead_after;
    }
    out.extend_from_slice(match lead {
        // Unreachable with a planned schema (the record identifier is always written), but still JSON.
        0 => b"[]",
        1 => CLOSE_AFTER_SCALAR,
        _ => CLOSE_AFTER_COLLECTION,
    });
    if record_bytes > MAX_RECORD_BYTES {
        return Err(RowFailure::record(RowFailureKind::RecordTooLarge {
            size: record_bytes,
        }));
    }
    Ok(())
}
