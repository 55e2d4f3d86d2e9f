//! Encoder of collection features (List, Set, Vector) from Arrow lists: the elements are written as the
//! quoted strings of `ValueAsStringList`, each by the scalar encoder of the element type.
//!
//! What the service does, and so what we do before sending:
//! - a null element fails the whole record (the SageMaker Python SDK's ingestion notes that "the service
//!   fails any partial None collection types"), so the row fails here with `null_collection_element`;
//! - a Set keeps unique elements only ("the set will instead have the elements ['a', 'b']", developer
//!   guide, Collection types), so repeats are dropped here, first occurrence kept in order: what is sent is
//!   what is stored;
//! - a Vector has exactly its dimension of elements;
//! - an empty list is a value (`[]`, allowed by `ValueAsStringList`'s min 0), distinct from null (omitted).

use std::collections::HashMap;
use std::ops::Range;

use arrow_array::cast::AsArray;
use arrow_array::{Array, FixedSizeListArray};
use arrow_buffer::NullBuffer;
use arrow_schema::DataType;
use serde_json::Value;

use super::MAX_VALUE_BYTES;
use super::scalar::make_scalar_encoder;
use super::value::{ValueEncoder, ValueError};
use crate::model::CollectionType;
use crate::schema::TextFormat;

/// The encoder of `array` (a List, LargeList or FixedSizeList) for a collection feature, or `None` when
/// the array does not have the planned type.
pub(crate) fn make_collection_encoder<'a>(
    array: &'a dyn Array,
    collection: CollectionType,
    element: TextFormat,
) -> Option<Box<dyn ValueEncoder + 'a>> {
    let (lists, values) = match array.data_type() {
        DataType::List(_) => {
            let list = array.as_list_opt::<i32>()?;
            (ListOffsets::Small(list.value_offsets()), list.values())
        }
        DataType::LargeList(_) => {
            let list = array.as_list_opt::<i64>()?;
            (ListOffsets::Large(list.value_offsets()), list.values())
        }
        DataType::FixedSizeList(..) => {
            let list = array.as_fixed_size_list_opt()?;
            (ListOffsets::Fixed(list), list.values())
        }
        _ => return None,
    };
    Some(Box::new(CollectionEncoder {
        lists,
        element_nulls: values.logical_nulls(),
        elements: make_scalar_encoder(values.as_ref(), element)?,
        set: collection == CollectionType::Set,
        dimension: match collection {
            CollectionType::Vector { dimension } => Some(dimension),
            CollectionType::List | CollectionType::Set => None,
        },
        written: Vec::new(),
        first_with_hash: HashMap::new(),
    }))
}

enum ListOffsets<'a> {
    Small(&'a [i32]),
    Large(&'a [i64]),
    Fixed(&'a FixedSizeListArray),
}

impl ListOffsets<'_> {
    /// Indexes of row `index`'s elements in the values array.
    #[inline]
    fn elements(&self, index: usize) -> Range<usize> {
        match self {
            ListOffsets::Small(offsets) => offsets[index] as usize..offsets[index + 1] as usize,
            ListOffsets::Large(offsets) => offsets[index] as usize..offsets[index + 1] as usize,
            ListOffsets::Fixed(list) => {
                let start = list.value_offset_at(index);
                start..start + list.value_length() as usize
            }
        }
    }
}

struct CollectionEncoder<'a> {
    lists: ListOffsets<'a>,
    element_nulls: Option<NullBuffer>,
    elements: Box<dyn ValueEncoder + 'a>,
    set: bool,
    dimension: Option<u32>,
    /// Set only: the output range of each element kept so far in the current row.
    written: Vec<Range<usize>>,
    /// Set only, once it has more than a few elements: hash of an element's text -> its index in
    /// `written`.
    first_with_hash: HashMap<u64, usize>,
}

impl CollectionEncoder<'_> {
    /// Whether the element just written at `text` repeats one kept before it in this row.
    fn repeats_earlier(&mut self, out: &[u8], text: Range<usize>) -> bool {
        // Most sets are small: comparing with the few elements kept beats hashing.
        const LINEAR_UP_TO: usize = 16;
        if self.written.len() < LINEAR_UP_TO {
            let repeat = self
                .written
                .iter()
                .any(|kept| out[kept.clone()] == out[text.clone()]);
            if !repeat {
                self.written.push(text);
            }
            return repeat;
        }
        if self.first_with_hash.is_empty() {
            for (index, kept) in self.written.iter().enumerate() {
                self.first_with_hash
                    .entry(fnv1a(&out[kept.clone()]))
                    .or_insert(index);
            }
        }
        let hash = fnv1a(&out[text.clone()]);
        match self.first_with_hash.get(&hash) {
            None => {
                self.first_with_hash.insert(hash, self.written.len());
                self.written.push(text);
                false
            }
            Some(&first) if out[self.written[first].clone()] == out[text.clone()] => true,
            Some(_) => {
                // A hash collision: compare with every element kept (never seen in practice).
                let repeat = self
                    .written
                    .iter()
                    .any(|kept| out[kept.clone()] == out[text.clone()]);
                if !repeat {
                    self.written.push(text);
                }
                repeat
            }
        }
    }
}

/// FNV-1a: a fast hash of short texts, for finding repeats in a Set (equality is always checked).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

impl ValueEncoder for CollectionEncoder<'_> {
    fn encode(&mut self, index: usize, out: &mut Vec<u8>) -> Result<usize, ValueError> {
        let elements = self.lists.elements(index);
        if let Some(dimension) = self.dimension
            && elements.len() != dimension as usize
        {
            return Err(ValueError::VectorDimension {
                expected: dimension,
                actual: u32::try_from(elements.len()).unwrap_or(u32::MAX),
            });
        }
        if self.set {
            self.written.clear();
            self.first_with_hash.clear();
        }
        let mut total = 0;
        for (position, element) in elements.enumerate() {
            if self
                .element_nulls
                .as_ref()
                .is_some_and(|nulls| nulls.is_null(element))
            {
                return Err(ValueError::NullElement {
                    element: u32::try_from(position).unwrap_or(u32::MAX),
                });
            }
            let element_start = out.len();
            if position > 0 {
                out.push(b',');
            }
            out.push(b'"');
            let text_start = out.len();
            let size = self.elements.encode(element, out)?;
            if size > MAX_VALUE_BYTES {
                return Err(ValueError::ElementTooLarge {
                    element: u32::try_from(position).unwrap_or(u32::MAX),
                    size: u32::try_from(size).unwrap_or(u32::MAX),
                });
            }
            let text = text_start..out.len();
            out.push(b'"');
            // The first element is never a repeat, so a dropped one always takes its comma with it.
            if self.set && self.repeats_earlier(out, text) {
                out.truncate(element_start);
                continue;
            }
            total += size;
        }
        Ok(total)
    }

    fn render(&self, index: usize) -> Value {
        Value::Array(
            self.lists
                .elements(index)
                .map(|element| {
                    if self
                        .element_nulls
                        .as_ref()
                        .is_some_and(|nulls| nulls.is_null(element))
                    {
                        Value::Null
                    } else {
                        self.elements.render(element)
                    }
                })
                .collect(),
        )
    }
}
