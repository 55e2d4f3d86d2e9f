//! The Arrow IPC streams the JVM hands over, read into batches.
//!
//! Spark never checks that a string is UTF-8 (a binary column cast to string, a Parquet file another tool wrote
//! keep whatever bytes they had), while Arrow's reader refuses a whole batch for one such value: one bad row
//! would fail its task and the job. So a batch refused for its text is read again without that check, every
//! string value is checked here, each one that is not UTF-8 is made valid (U+FFFD for each bad sequence, so
//! that the rest of the engine only ever sees text) and remembered, so that its row fails alone, naming its
//! column ([`crate::encode::RecordEncoder::encode_marked`]).

use std::sync::Arc;

use arrow_array::{
    Array, ArrayRef, GenericByteArray, GenericListArray, OffsetSizeTrait, RecordBatch, make_array,
    types::GenericBinaryType, types::GenericStringType,
};
use arrow_schema::{ArrowError, DataType};

use crate::error::{Error, Result};

/// One batch of a stream, with the values that were not UTF-8 (in row order).
#[derive(Debug)]
pub struct ReadBatch {
    pub batch: RecordBatch,
    pub invalid_text: Vec<InvalidText>,
}

/// A row whose value (or an element of it) in `column` was not UTF-8.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidText {
    pub row: usize,
    pub column: String,
}

/// Reads every batch of one complete IPC stream.
pub fn read_stream(bytes: &[u8]) -> Result<Vec<ReadBatch>> {
    let reader = arrow_ipc::reader::StreamReader::try_new(bytes, None).map_err(not_a_stream)?;
    match reader.collect::<std::result::Result<Vec<_>, _>>() {
        Ok(batches) => Ok(batches
            .into_iter()
            .map(|batch| ReadBatch {
                batch,
                invalid_text: Vec::new(),
            })
            .collect()),
        Err(error) if is_utf8_error(&error) => read_repairing_text(bytes),
        Err(error) => Err(unreadable(error)),
    }
}

fn not_a_stream(error: ArrowError) -> Error {
    Error::Input(format!("not an Arrow IPC stream: {error}"))
}

fn unreadable(error: ArrowError) -> Error {
    Error::Input(format!("unreadable Arrow IPC batch: {error}"))
}

fn is_utf8_error(error: &ArrowError) -> bool {
    error.to_string().contains("Invalid UTF8 sequence")
}

fn read_repairing_text(bytes: &[u8]) -> Result<Vec<ReadBatch>> {
    // SAFETY: skipping validation only defers it: `repair` validates every array it returns before any value is
    // read (the structure of each, and the text of string arrays read as bytes first).
    let reader = unsafe {
        arrow_ipc::reader::StreamReader::try_new(bytes, None)
            .map_err(not_a_stream)?
            .with_skip_validation(true)
    };
    reader
        .map(|batch| {
            let batch = batch.map_err(unreadable)?;
            let schema = batch.schema();
            let mut invalid_text = Vec::new();
            let mut columns = Vec::with_capacity(batch.num_columns());
            for (field, column) in schema.fields().iter().zip(batch.columns()) {
                let (repaired, rows) = repair(column)?;
                invalid_text.extend(rows.into_iter().map(|row| InvalidText {
                    row,
                    column: field.name().clone(),
                }));
                columns.push(repaired);
            }
            invalid_text.sort_by_key(|invalid| invalid.row);
            let batch = RecordBatch::try_new(schema, columns).map_err(unreadable)?;
            Ok(ReadBatch { batch, invalid_text })
        })
        .collect()
}

/// `array` validated, its text made UTF-8; and the rows (indexes into `array`) that held text that was not.
fn repair(array: &ArrayRef) -> Result<(ArrayRef, Vec<usize>)> {
    match array.data_type() {
        DataType::Utf8 => repair_strings::<i32>(array),
        DataType::LargeUtf8 => repair_strings::<i64>(array),
        DataType::List(_) => repair_list::<i32>(array),
        DataType::LargeList(_) => repair_list::<i64>(array),
        _ => {
            array.to_data().validate_full().map_err(unreadable)?;
            Ok((array.clone(), Vec::new()))
        }
    }
}

fn repair_strings<O: OffsetSizeTrait>(array: &ArrayRef) -> Result<(ArrayRef, Vec<usize>)> {
    // The same layout as bytes: built as a binary array, its offsets and lengths are checked, not its text.
    let binary_type = if O::IS_LARGE {
        DataType::LargeBinary
    } else {
        DataType::Binary
    };
    let data = array
        .to_data()
        .into_builder()
        .data_type(binary_type)
        .build()
        .map_err(unreadable)?;
    let bytes = GenericByteArray::<GenericBinaryType<O>>::from(data);
    let mut invalid = Vec::new();
    let text: GenericByteArray<GenericStringType<O>> = bytes
        .iter()
        .enumerate()
        .map(|(row, value)| {
            value.map(|value| {
                String::from_utf8(value.to_vec()).unwrap_or_else(|_| {
                    invalid.push(row);
                    String::from_utf8_lossy(value).into_owned()
                })
            })
        })
        .collect();
    Ok((Arc::new(text), invalid))
}

fn repair_list<O: OffsetSizeTrait>(array: &ArrayRef) -> Result<(ArrayRef, Vec<usize>)> {
    let (DataType::List(field) | DataType::LargeList(field)) = array.data_type() else {
        return Err(Error::Internal("repair_list called on another type".into()));
    };
    let data = array.to_data();
    data.validate().map_err(unreadable)?;
    let list = GenericListArray::<O>::from(data);
    let (values, invalid_elements) = repair(list.values())?;
    let offsets = list.offsets();
    // An element's row: the last row whose first element is at or before it.
    let rows = invalid_elements
        .into_iter()
        .map(|element| offsets.partition_point(|offset| offset.as_usize() <= element) - 1)
        .collect::<Vec<_>>();
    let repaired =
        GenericListArray::<O>::try_new(field.clone(), offsets.clone(), values, list.nulls().cloned())
            .map_err(unreadable)?;
    let mut rows = rows;
    rows.dedup();
    Ok((make_array(repaired.to_data()), rows))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{ListArray, StringArray, builder::ListBuilder, builder::StringBuilder, cast::AsArray};
    use arrow_buffer::{Buffer, OffsetBuffer};
    use arrow_schema::{Field, Schema};

    /// A string array holding `values` as raw bytes, built without the UTF-8 check (as Spark's would be).
    fn raw_strings(values: &[&[u8]]) -> ArrayRef {
        let offsets = OffsetBuffer::<i32>::from_lengths(values.iter().map(|v| v.len()));
        let bytes = Buffer::from(values.concat());
        // SAFETY: offsets and buffer agree; only the text is unchecked, as in the streams under test, and the
        // array is only written to a stream, never read as text.
        let array = unsafe { StringArray::new_unchecked(offsets, bytes, None) };
        Arc::new(array)
    }

    fn stream(batch: &RecordBatch) -> Vec<u8> {
        let mut out = Vec::new();
        let mut writer = arrow_ipc::writer::StreamWriter::try_new(&mut out, &batch.schema()).unwrap();
        writer.write(batch).unwrap();
        writer.finish().unwrap();
        drop(writer);
        out
    }

    #[test]
    fn valid_streams_are_read_as_they_are() {
        let names: ArrayRef = Arc::new(StringArray::from(vec![Some("a"), None, Some("ü")]));
        let batch = RecordBatch::try_from_iter([("name", names)]).unwrap();
        let read = read_stream(&stream(&batch)).unwrap();
        assert_eq!(read.len(), 1);
        assert_eq!(read[0].batch, batch);
        assert!(read[0].invalid_text.is_empty());
    }

    #[test]
    fn text_that_is_not_utf8_is_repaired_and_its_rows_named_in_scalars_and_lists() {
        let names = raw_strings(&[b"ok", b"a\xed\xa0\x80b", b"fine", b"\xff"]);
        let mut tags = ListBuilder::new(StringBuilder::new());
        tags.append_value([Some("x")]);
        tags.append_value([Some("y")]);
        tags.append_value([Some("z"), Some("w")]);
        tags.append_null();
        let tags = tags.finish();
        // The same elements as bytes, the third row's second one not UTF-8.
        let (field, offsets, _, nulls) = tags.into_parts();
        let bad_values = raw_strings(&[b"x", b"y", b"z", b"w\xc3"]);
        let tags: ArrayRef = Arc::new(ListArray::new(field, offsets, bad_values, nulls));
        let schema = Arc::new(Schema::new(vec![
            Field::new("name", DataType::Utf8, true),
            Field::new("tags", tags.data_type().clone(), true),
        ]));
        let batch = RecordBatch::try_new(schema, vec![names, tags]).unwrap();

        let read = read_stream(&stream(&batch)).unwrap();
        assert_eq!(
            read[0].invalid_text,
            [
                InvalidText {
                    row: 1,
                    column: "name".into()
                },
                InvalidText {
                    row: 2,
                    column: "tags".into()
                },
                InvalidText {
                    row: 3,
                    column: "name".into()
                },
            ]
        );
        let names = read[0].batch.column(0).as_string::<i32>();
        assert_eq!(names.value(0), "ok");
        assert_eq!(names.value(1), "a\u{fffd}\u{fffd}\u{fffd}b");
        assert_eq!(names.value(3), "\u{fffd}");
        let tags = read[0].batch.column(1).as_list::<i32>();
        assert_eq!(tags.value(2).as_string::<i32>().value(1), "w\u{fffd}");
        assert!(tags.is_null(3));
    }

    #[test]
    fn a_stream_broken_otherwise_is_still_refused() {
        assert!(matches!(read_stream(b"not arrow"), Err(Error::Input(_))));
    }
}
