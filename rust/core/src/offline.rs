//! `offlineWrite=direct`: rows validated exactly as the API path validates them, turned into the rows the
//! offline store holds, for Spark to write as Parquet into the group's offline store.
//!
//! Each row goes through the same [`RecordEncoder`] as a write through the API, so a row that would fail there
//! fails here, with the same reason; a row that passes is the JSON text of the `Record` the API would have been
//! sent, which is read back into the offline store's columns as the service (and `featurestore-local`) reads a
//! record it received: every feature of the group in the group's order (Integral as int64, Fractional as
//! double, String as string, collections as lists of those; a feature the row lacks is null), then
//! `write_time` and `api_invocation_time` (UTC timestamps) and `is_deleted` (false). Going through the
//! record's text costs a parse per row, and buys one set of value rules: a String event time holds the ISO-8601
//! text the API path sends, a Fractional holds the double the service parses from the shortest text.
//!
//! The last column, [`PARTITION_COLUMN`], is not written: it is the row's partition under the offline store's
//! URI, `year=YYYY/month=MM/day=DD/hour=HH` of its event time in UTC.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::builder::{
    ArrayBuilder, BooleanBuilder, Float64Builder, Int64Builder, ListBuilder, StringBuilder,
    TimestampMicrosecondBuilder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use serde::Deserialize;

use crate::config::WriterConfig;
use crate::encode::RecordEncoder;
use crate::encode::time::civil_from_days;
use crate::error::{Error, Result};
use crate::ipc::InvalidText;
use crate::metrics::{METRIC_COUNT, index};
use crate::model::{FeatureGroup, FeatureType};
use crate::record::{EncodedBatch, FailedRecord, failed_json_lines};

/// The output column holding each row's partition (not a feature: feature names cannot start with `_`).
pub const PARTITION_COLUMN: &str = "__partition";

/// Why `group`'s offline store cannot take a direct write (empty when it can).
pub fn direct_write_problems(group: &FeatureGroup) -> Vec<String> {
    let Some(offline) = &group.offline_store else {
        return vec![
            "offlineWrite=direct writes its offline store, but it has none (no OfflineStoreConfig)".into(),
        ];
    };
    let mut problems = Vec::new();
    if offline.table_format.as_deref() == Some("Iceberg") {
        problems.push(
            "its offline store is an Iceberg table, which offlineWrite=direct does not support yet (it writes \
             Glue-format tables only); write through the API (leave offlineWrite unset)"
                .into(),
        );
    }
    if offline.resolved_output_s3_uri.is_none() {
        problems.push(
            "DescribeFeatureGroup gave no OfflineStoreConfig.S3StorageConfig.ResolvedOutputS3Uri, the offline \
             store's location offlineWrite=direct writes to"
                .into(),
        );
    }
    problems
}

/// The URI the offline store's files go under (`ResolvedOutputS3Uri`, `.../<group>-<created>/data`).
pub fn output_uri(group: &FeatureGroup) -> Result<&str> {
    let problems = direct_write_problems(group);
    match group
        .offline_store
        .as_ref()
        .and_then(|o| o.resolved_output_s3_uri.as_deref())
    {
        Some(uri) if problems.is_empty() => Ok(uri),
        _ => Err(Error::GroupNotWritable {
            group: group.name.clone(),
            reasons: problems,
        }),
    }
}

/// The Hadoop URI `resolved` (an `s3://bucket/key` URI) is written through, given `offlineFileSystem`: a scheme
/// replaces `s3` (`s3a://bucket/key`), a base URI ending in `/` takes `bucket/key` under it. Other URIs are kept.
pub fn hadoop_uri(resolved: &str, file_system: &str) -> std::result::Result<String, String> {
    let is_scheme = file_system.starts_with(|c: char| c.is_ascii_alphabetic())
        && file_system
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    let is_base = file_system.contains("://") && file_system.ends_with('/');
    if !(is_scheme || is_base) {
        return Err(format!(
            "must be a file system scheme (s3a, s3) or a base URI ending in / (given '{file_system}')"
        ));
    }
    Ok(match resolved.strip_prefix("s3://") {
        Some(bucket_and_key) if is_scheme => format!("{file_system}://{bucket_and_key}"),
        Some(bucket_and_key) => format!("{file_system}{bucket_and_key}"),
        None => resolved.to_owned(),
    })
}

fn timestamp_type() -> DataType {
    // Microseconds: Spark's own timestamp unit (its Arrow reader takes nothing else); Parquet gets milliseconds.
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

fn scalar_type(feature_type: FeatureType) -> DataType {
    match feature_type {
        FeatureType::Integral => DataType::Int64,
        FeatureType::Fractional => DataType::Float64,
        FeatureType::String => DataType::Utf8,
    }
}

/// The rows [`OfflineEncoder`] returns: the offline store's columns, then [`PARTITION_COLUMN`].
pub fn output_schema(group: &FeatureGroup) -> SchemaRef {
    let mut fields: Vec<Field> = group
        .features
        .iter()
        .map(|feature| {
            let item = scalar_type(feature.feature_type);
            let data_type = match feature.collection {
                None => item,
                Some(_) => DataType::List(Arc::new(Field::new("item", item, true))),
            };
            Field::new(&feature.name, data_type, true)
        })
        .collect();
    fields.push(Field::new("write_time", timestamp_type(), false));
    fields.push(Field::new("api_invocation_time", timestamp_type(), false));
    fields.push(Field::new("is_deleted", DataType::Boolean, false));
    fields.push(Field::new(PARTITION_COLUMN, DataType::Utf8, false));
    Arc::new(Schema::new(fields))
}

/// [`output_schema`] as a schema-only Arrow IPC stream (what the driver builds its Spark schema from).
pub fn output_schema_ipc(group: &FeatureGroup) -> Result<Vec<u8>> {
    let schema = output_schema(group);
    let mut out = Vec::new();
    let mut writer = arrow_ipc::writer::StreamWriter::try_new(&mut out, &schema).map_err(ipc_error)?;
    writer.finish().map_err(ipc_error)?;
    drop(writer);
    Ok(out)
}

fn ipc_error(e: arrow_schema::ArrowError) -> Error {
    Error::Internal(format!("cannot write the offline rows as Arrow IPC: {e}"))
}

/// One task's validation for a direct write: batches in, offline rows out, failed rows and counts kept.
#[derive(Debug)]
pub struct OfflineEncoder {
    config: WriterConfig,
    group: FeatureGroup,
    schema: SchemaRef,
    /// Feature name -> its column.
    positions: HashMap<String, usize>,
    event_time: usize,
    /// The encoder of the current input schema.
    encoder: Option<(SchemaRef, RecordEncoder)>,
    next_row: u64,
    failed: Vec<FailedRecord>,
    counters: [i64; METRIC_COUNT],
}

/// One entry of an encoded `Record`.
#[derive(Deserialize)]
struct Entry<'a> {
    #[serde(rename = "FeatureName", borrow)]
    name: Cow<'a, str>,
    #[serde(rename = "ValueAsString", borrow, default)]
    value: Option<Cow<'a, str>>,
    #[serde(rename = "ValueAsStringList", borrow, default)]
    list: Option<Vec<Cow<'a, str>>>,
}

enum Column {
    Integral(Int64Builder),
    Fractional(Float64Builder),
    String(StringBuilder),
    IntegralList(ListBuilder<Int64Builder>),
    FractionalList(ListBuilder<Float64Builder>),
    StringList(ListBuilder<StringBuilder>),
}

impl OfflineEncoder {
    /// Fails when the group's offline store cannot take a direct write.
    pub fn new(config: WriterConfig, group: FeatureGroup) -> Result<OfflineEncoder> {
        output_uri(&group)?;
        let positions: HashMap<String, usize> = group
            .features
            .iter()
            .enumerate()
            .map(|(i, f)| (f.name.clone(), i))
            .collect();
        let event_time = positions
            .get(&group.event_time_feature_name)
            .copied()
            .ok_or_else(|| Error::Internal("the event time is not a feature of the group".into()))?;
        Ok(OfflineEncoder {
            schema: output_schema(&group),
            config,
            group,
            positions,
            event_time,
            encoder: None,
            next_row: 0,
            failed: Vec::new(),
            counters: [0; METRIC_COUNT],
        })
    }

    /// Validates every batch of one complete Arrow IPC stream; returns the passing rows' offline rows as one
    /// Arrow IPC stream. `now_millis` is their `write_time` and `api_invocation_time`.
    pub fn encode_ipc(&mut self, bytes: &[u8], now_millis: i64) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        let mut writer =
            arrow_ipc::writer::StreamWriter::try_new(&mut out, &self.schema).map_err(ipc_error)?;
        for read in crate::ipc::read_stream(bytes)? {
            let rows = self.encode(&read.batch, &read.invalid_text, now_millis)?;
            writer.write(&rows).map_err(ipc_error)?;
        }
        writer.finish().map_err(ipc_error)?;
        drop(writer);
        Ok(out)
    }

    /// Validates `batch` (rows of `invalid_text` fail as not UTF-8); returns the offline rows of those that pass.
    pub fn encode(
        &mut self,
        batch: &RecordBatch,
        invalid_text: &[InvalidText],
        now_millis: i64,
    ) -> Result<RecordBatch> {
        let schema = batch.schema();
        if self.encoder.as_ref().is_none_or(|(s, _)| *s != schema) {
            let encoder = RecordEncoder::new(&self.group, &schema, self.config.ignore_unknown_columns)?;
            self.encoder = Some((Arc::clone(&schema), encoder));
        }
        let mut encoded = EncodedBatch::default();
        if let Some((_, encoder)) = &self.encoder {
            encoder.encode_marked(batch, self.next_row, invalid_text, &mut encoded);
        }
        self.next_row += batch.num_rows() as u64;
        let rows = self.offline_rows(&encoded, now_millis)?;
        self.counters[index::ROWS_ACCEPTED] += batch.num_rows() as i64;
        self.counters[index::ROWS_ACKNOWLEDGED] += rows.num_rows() as i64;
        self.counters[index::ROWS_FAILED] += encoded.failed().len() as i64;
        self.failed.extend(encoded.take_failed());
        Ok(rows)
    }

    fn offline_rows(&self, encoded: &EncodedBatch, now_millis: i64) -> Result<RecordBatch> {
        let count = encoded.records().len();
        let mut columns: Vec<Column> = self
            .group
            .features
            .iter()
            .map(|f| match (f.feature_type, f.collection.is_some()) {
                (FeatureType::Integral, false) => Column::Integral(Int64Builder::with_capacity(count)),
                (FeatureType::Fractional, false) => Column::Fractional(Float64Builder::with_capacity(count)),
                (FeatureType::String, false) => {
                    Column::String(StringBuilder::with_capacity(count, count * 16))
                }
                (FeatureType::Integral, true) => Column::IntegralList(ListBuilder::new(Int64Builder::new())),
                (FeatureType::Fractional, true) => {
                    Column::FractionalList(ListBuilder::new(Float64Builder::new()))
                }
                (FeatureType::String, true) => Column::StringList(ListBuilder::new(StringBuilder::new())),
            })
            .collect();
        let mut partitions = StringBuilder::with_capacity(count, count * 35);
        let mut slots: Vec<Option<usize>> = vec![None; columns.len()];
        for span in encoded.records() {
            let entries: Vec<Entry<'_>> = serde_json::from_slice(encoded.record_json(span))
                .map_err(|e| Error::Internal(format!("an encoded record does not read back: {e}")))?;
            slots.iter_mut().for_each(|slot| *slot = None);
            for (i, entry) in entries.iter().enumerate() {
                if let Some(&position) = self.positions.get(entry.name.as_ref()) {
                    slots[position] = Some(i);
                }
            }
            for (column, slot) in columns.iter_mut().zip(&slots) {
                append(column, slot.map(|i| &entries[i]))?;
            }
            let event_time = slots[self.event_time]
                .and_then(|i| entries[i].value.as_deref())
                .ok_or_else(|| Error::Internal("an encoded record has no event time".into()))?;
            let partition = partition_of(event_time, self.group.features[self.event_time].feature_type)?;
            partitions.append_value(partition);
        }
        let micros = now_millis.saturating_mul(1000);
        let mut arrays: Vec<ArrayRef> = columns.iter_mut().map(finish).collect();
        for _ in 0..2 {
            let mut time = TimestampMicrosecondBuilder::with_capacity(count).with_timezone("UTC");
            time.append_value_n(micros, count);
            arrays.push(Arc::new(time.finish()));
        }
        let mut is_deleted = BooleanBuilder::with_capacity(count);
        is_deleted.append_n(count, false);
        arrays.push(Arc::new(is_deleted.finish()));
        arrays.push(Arc::new(partitions.finish()));
        RecordBatch::try_new(Arc::clone(&self.schema), arrays)
            .map_err(|e| Error::Internal(format!("offline rows do not fit their schema: {e}")))
    }

    /// The counters, in [`crate::metrics::METRIC_NAMES`] order: rows accepted, passed on ("acknowledged": they
    /// are in the task's files, visible once the task and the job commit) and failed.
    pub fn metrics(&self) -> [i64; METRIC_COUNT] {
        self.counters
    }

    /// Drains the failed rows as JSON lines (empty when there are none, or when `render` is false).
    pub fn take_failed_lines(&mut self, render: bool) -> Vec<u8> {
        let failed = std::mem::take(&mut self.failed);
        if render {
            failed_json_lines(&failed, self.config.attempt.as_ref())
        } else {
            Vec::new()
        }
    }
}

fn parse<T: std::str::FromStr>(text: &str) -> Result<T> {
    text.parse()
        .map_err(|_| Error::Internal(format!("an encoded value does not read back as a number: {text}")))
}

fn append(column: &mut Column, entry: Option<&Entry<'_>>) -> Result<()> {
    let value = entry.and_then(|e| e.value.as_deref());
    let list = entry.and_then(|e| e.list.as_deref());
    match column {
        Column::Integral(b) => b.append_option(value.map(parse::<i64>).transpose()?),
        Column::Fractional(b) => b.append_option(value.map(parse::<f64>).transpose()?),
        Column::String(b) => b.append_option(value),
        Column::IntegralList(b) => match list {
            Some(items) => {
                for item in items {
                    b.values().append_value(parse::<i64>(item)?);
                }
                b.append(true);
            }
            None => b.append(false),
        },
        Column::FractionalList(b) => match list {
            Some(items) => {
                for item in items {
                    b.values().append_value(parse::<f64>(item)?);
                }
                b.append(true);
            }
            None => b.append(false),
        },
        Column::StringList(b) => match list {
            Some(items) => {
                for item in items {
                    b.values().append_value(item);
                }
                b.append(true);
            }
            None => b.append(false),
        },
    }
    Ok(())
}

fn finish(column: &mut Column) -> ArrayRef {
    match column {
        Column::Integral(b) => ArrayBuilder::finish(b),
        Column::Fractional(b) => ArrayBuilder::finish(b),
        Column::String(b) => ArrayBuilder::finish(b),
        Column::IntegralList(b) => ArrayBuilder::finish(b),
        Column::FractionalList(b) => ArrayBuilder::finish(b),
        Column::StringList(b) => ArrayBuilder::finish(b),
    }
}

/// `year=YYYY/month=MM/day=DD/hour=HH` of an encoded event time in UTC: ISO-8601 text for a String event time
/// (the encoder let only `yyyy-MM-ddTHH:mm:ss[.SSS]Z` through), else epoch seconds, floored to the hour as the
/// service does.
pub fn partition_of(event_time: &str, feature_type: FeatureType) -> Result<String> {
    if feature_type == FeatureType::String {
        let b = event_time.as_bytes();
        if b.len() < 13 {
            return Err(Error::Internal(format!(
                "an encoded event time is not ISO-8601: {event_time}"
            )));
        }
        let text = |r: std::ops::Range<usize>| String::from_utf8_lossy(&b[r]).into_owned();
        return Ok(format!(
            "year={}/month={}/day={}/hour={}",
            text(0..4),
            text(5..7),
            text(8..10),
            text(11..13)
        ));
    }
    let seconds: f64 = parse(event_time)?;
    let hour = (seconds / 3600.0).floor() as i64;
    let (year, month, day) = civil_from_days(hour.div_euclid(24));
    Ok(format!(
        "year={year:04}/month={month:02}/day={day:02}/hour={:02}",
        hour.rem_euclid(24)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_uris_map_to_the_chosen_file_system() {
        let uri = "s3://b/p/1/sagemaker/r/offline-store/g-1/data";
        assert_eq!(
            hadoop_uri(uri, "s3a").unwrap(),
            "s3a://b/p/1/sagemaker/r/offline-store/g-1/data"
        );
        assert_eq!(hadoop_uri(uri, "s3").unwrap(), uri);
        assert_eq!(
            hadoop_uri(uri, "file:///d/s3/").unwrap(),
            "file:///d/s3/b/p/1/sagemaker/r/offline-store/g-1/data"
        );
        assert!(hadoop_uri(uri, "file:///d/s3").is_err());
        assert!(hadoop_uri(uri, "").is_err());
    }

    #[test]
    fn partitions_are_utc_hours_of_text_and_epoch_seconds() {
        assert_eq!(
            partition_of("2024-02-29T23:59:59.999Z", FeatureType::String).unwrap(),
            "year=2024/month=02/day=29/hour=23"
        );
        // 2024-02-29T23:59:59.5Z and one second later, as epoch seconds.
        assert_eq!(
            partition_of("1709251199.5", FeatureType::Fractional).unwrap(),
            "year=2024/month=02/day=29/hour=23"
        );
        assert_eq!(
            partition_of("1709251200", FeatureType::Integral).unwrap(),
            "year=2024/month=03/day=01/hour=00"
        );
        // Before 1970 the hour is floored, not truncated towards zero.
        assert_eq!(
            partition_of("-1", FeatureType::Integral).unwrap(),
            "year=1969/month=12/day=31/hour=23"
        );
    }
}
