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
mod time;
mod value;

use arrow_array::RecordBatch;
use arrow_buffer::NullBuffer;
use arrow_schema::Schema;

use crate::error::Result;
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
    /// A guess of a record's encoded size, to reserve the buffer once per batch.
    estimated_record_bytes: usize,
}

/// A feature column with the constant JSON text around its values.
#[derive(Debug)]
struct PlannedColumn {
    plan: ColumnPlan,
    name: String,
    /// `,{"FeatureName":"<name>","ValueAsString":"` (or `...,"ValueAsStringList":[`); the leading comma
    /// is skipped for a record's first value.
    prefix: Vec<u8>,
    /// `"}` or `]}`.
    suffix: &'static [u8],
}

impl RecordEncoder {
    /// Plans the encoding of `schema`'s columns; fails with [`crate::Error::Schema`] listing every problem
    /// (the same as [`crate::schema::check_schema`]).
    pub fn new(group: &FeatureGroup, schema: &Schema, ignore_unknown_columns: bool) -> Result<RecordEncoder> {
        let plans = plan_columns(group, schema, ignore_unknown_columns)?;
        let columns: Vec<PlannedColumn> = plans
            .into_iter()
            .map(|plan| {
                let name = schema.field(plan.index).name().clone();
                let mut prefix = br#",{"FeatureName":""#.to_vec();
                text::write_escaped(&mut prefix, &name);
                let suffix: &'static [u8] = match plan.value {
                    ValuePlan::Collection { .. } => {
                        prefix.extend_from_slice(br#"","ValueAsStringList":["#);
                        b"]}"
                    }
                    ValuePlan::Scalar(_) | ValuePlan::AlwaysNull => {
                        prefix.extend_from_slice(br#"","ValueAsString":""#);
                        b"\"}"
                    }
                };
                PlannedColumn {
                    plan,
                    name,
                    prefix,
                    suffix,
                }
            })
            .collect();
        let estimated_record_bytes = 2 + columns
            .iter()
            .map(|c| c.prefix.len() + c.suffix.len() + 12)
            .sum::<usize>();
        Ok(RecordEncoder {
            columns,
            column_count: schema.fields().len(),
            estimated_record_bytes,
        })
    }

    /// Encodes every row of `batch` (rows numbered from `first_row`) into `out`: each row ends up in
    /// `out.records()` as the JSON text of its `Record` array, or in `out.failed()` with its reason.
    pub fn encode(&self, batch: &RecordBatch, first_row: u64, out: &mut EncodedBatch) {
        let mut writers = match self.column_writers(batch) {
            Ok(writers) => writers,
            Err(mismatch) => {
                for row in 0..batch.num_rows() {
                    out.push_failed(mismatch.failed_record(first_row + row as u64));
                }
                return;
            }
        };
        out.buffer_mut()
            .reserve(batch.num_rows() * self.estimated_record_bytes);
        for row in 0..batch.num_rows() {
            let start = out.buffer_mut().len();
            match write_record(&mut writers, row, out.buffer_mut()) {
                Ok(()) => out.commit_record(first_row + row as u64, start),
                Err(failure) => {
                    out.rollback_record(start);
                    out.push_failed(failure::failed_record(
                        &writers,
                        row,
                        first_row + row as u64,
                        failure,
                    ));
                }
            }
        }
    }

    /// One typed encoder per feature column of `batch`, or why the batch does not fit this encoder.
    fn column_writers<'a>(
        &'a self,
        batch: &'a RecordBatch,
    ) -> std::result::Result<Vec<ColumnWriter<'a>>, failure::SchemaMismatch> {
        let schema = batch.schema_ref();
        if schema.fields().len() != self.column_count {
            return Err(failure::SchemaMismatch::column_count(
                self.column_count,
                schema.fields().len(),
            ));
        }
        let mut writers = Vec::with_capacity(self.columns.len());
        for column in &self.columns {
            let field = schema.field(column.plan.index);
            let array = batch.column(column.plan.index).as_ref();
            let matches = field.name() == &column.name && field.data_type() == &column.plan.data_type;
            let encoder = match column.plan.value {
                _ if !matches => None,
                ValuePlan::AlwaysNull => {
                    writers.push(ColumnWriter {
                        column,
                        nulls: None,
                        encoder: None,
                    });
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
                column,
                nulls: array.logical_nulls(),
                encoder: Some(encoder),
            });
        }
        Ok(writers)
    }
}

/// A feature column of one batch: its null buffer and typed encoder (`None` for a `Null`-typed column,
/// which never has a value).
struct ColumnWriter<'a> {
    column: &'a PlannedColumn,
    nulls: Option<NullBuffer>,
    encoder: Option<Box<dyn ValueEncoder + 'a>>,
}

/// Appends row `row`'s `Record` array to `out`, or says which rule it breaks (what was written is then
/// discarded by the caller).
#[inline]
fn write_record(
    writers: &mut [ColumnWriter<'_>],
    row: usize,
    out: &mut Vec<u8>,
) -> std::result::Result<(), RowFailure> {
    out.push(b'[');
    let mut record_bytes = 0;
    let mut first = true;
    for (index, writer) in writers.iter_mut().enumerate() {
        let role = writer.column.plan.role;
        let Some(encoder) = writer.encoder.as_mut() else {
            continue;
        };
        if writer.nulls.as_ref().is_some_and(|nulls| nulls.is_null(row)) {
            match role {
                Role::Feature => continue,
                Role::RecordIdentifier => {
                    return Err(RowFailure::at(index, RowFailureKind::NullRecordIdentifier));
                }
                Role::EventTime => {
                    return Err(RowFailure::at(index, RowFailureKind::NullEventTime));
                }
            }
        }
        let prefix = &writer.column.prefix[usize::from(first)..];
        out.extend_from_slice(prefix);
        let size = encoder
            .encode(row, out)
            .map_err(|error| RowFailure::at(index, RowFailureKind::Value(error)))?;
        if size > MAX_VALUE_BYTES {
            return Err(RowFailure::at(index, RowFailureKind::ValueTooLarge { size }));
        }
        if role == Role::RecordIdentifier && size > MAX_RECORD_IDENTIFIER_BYTES {
            return Err(RowFailure::at(
                index,
                RowFailureKind::RecordIdentifierTooLarge { size },
            ));
        }
        out.extend_from_slice(writer.column.suffix);
        record_bytes += writer.column.name.len() + size;
        first = false;
    }
    out.push(b']');
    if record_bytes > MAX_RECORD_BYTES {
        return Err(RowFailure::record(RowFailureKind::RecordTooLarge {
            size: record_bytes,
        }));
    }
    Ok(())
}
