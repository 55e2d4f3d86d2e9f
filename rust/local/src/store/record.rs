//! A record as the stores take it (validated, values borrowed from the request), and the compact binary form
//! the online store keeps: per present feature, its index in the definition and its text value(s).
//!
//! Body layout, repeated per present feature: `[feature index][header]`, then for a scalar (header =
//! byte length << 1) its UTF-8 bytes, for a collection (header = element count << 1 | 1) per element
//! `[byte length][UTF-8 bytes]`. Numbers are LEB128 varints: one byte for most, which keeps the log (and the
//! kernel's copying of it) small.

use crate::model::text::Text;

/// A scalar value, as text and as the number it was checked to be.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Scalar {
    Integral(i64),
    Fractional(f64),
    String,
}

/// One feature's value in a validated record.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    Scalar(&'a str, Scalar),
    Collection(&'a [Text<'a>]),
}

/// A record that passed every rule of its feature group.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidRecord<'a> {
    pub record_identifier: &'a str,
    /// Seconds since the epoch.
    pub event_time: f64,
    /// Indexed like the feature group's definitions; `None` for features the record leaves out.
    pub values: Vec<Option<Value<'a>>>,
}

/// Appends a record's body to `out`.
pub fn encode_body(record: &ValidRecord<'_>, out: &mut Vec<u8>) {
    for (index, value) in record.values.iter().enumerate() {
        let Some(value) = value else { continue };
        put_varint(out, index as u64);
        match value {
            Value::Scalar(text, _) => {
                put_varint(out, (text.len() as u64) << 1);
                out.extend_from_slice(text.as_bytes());
            }
            Value::Collection(items) => {
                put_varint(out, (items.len() as u64) << 1 | 1);
                for item in *items {
                    put_varint(out, item.len() as u64);
                    out.extend_from_slice(item.as_bytes());
                }
            }
        }
    }
}

fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn take_varint(body: &mut &[u8]) -> Option<u64> {
    let mut value = 0u64;
    for (i, byte) in body.iter().enumerate().take(10) {
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            *body = &body[i + 1..];
            return Some(value);
        }
    }
    None
}

/// A feature value read back from a body.
#[derive(Debug, Clone, PartialEq)]
pub enum StoredValue<'b> {
    Scalar(&'b str),
    Collection(Vec<&'b str>),
}

/// Decodes a body written by [`encode_body`]; `None` if it is damaged.
pub fn decode_body(mut body: &[u8]) -> Option<Vec<(usize, StoredValue<'_>)>> {
    let mut values = Vec::new();
    while !body.is_empty() {
        let index = usize::try_from(take_varint(&mut body)?).ok()?;
        let header = take_varint(&mut body)?;
        let len = usize::try_from(header >> 1).ok()?;
        let value = if header & 1 == 0 {
            StoredValue::Scalar(take_str(&mut body, len)?)
        } else {
            let mut items = Vec::with_capacity(len.min(body.len()));
            for _ in 0..len {
                let item_len = usize::try_from(take_varint(&mut body)?).ok()?;
                items.push(take_str(&mut body, item_len)?);
            }
            StoredValue::Collection(items)
        };
        values.push((index, value));
    }
    Some(values)
}

fn take_str<'b>(body: &mut &'b [u8], len: usize) -> Option<&'b str> {
    if body.len() < len {
        return None;
    }
    let (head, tail) = body.split_at(len);
    *body = tail;
    std::str::from_utf8(head).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_round_trip_and_damage_is_detected() {
        let items = [Text("a".into()), Text("é".to_owned().into())];
        let record = ValidRecord {
            record_identifier: "r1",
            event_time: 1.5,
            values: vec![
                Some(Value::Scalar("r1", Scalar::String)),
                None,
                Some(Value::Scalar("42", Scalar::Integral(42))),
                Some(Value::Collection(&items)),
            ],
        };
        let mut body = Vec::new();
        encode_body(&record, &mut body);
        assert_eq!(
            decode_body(&body).unwrap(),
            vec![
                (0, StoredValue::Scalar("r1")),
                (2, StoredValue::Scalar("42")),
                (3, StoredValue::Collection(vec!["a", "é"])),
            ]
        );
        assert_eq!(decode_body(&body[..body.len() - 1]), None);
        assert_eq!(decode_body(&[]), Some(vec![]));
        // Lengths above one varint byte.
        let long = "x".repeat(300);
        let record = ValidRecord {
            record_identifier: "r",
            event_time: 0.0,
            values: vec![Some(Value::Scalar(&long, Scalar::String))],
        };
        let mut body = Vec::new();
        encode_body(&record, &mut body);
        assert_eq!(body.len(), 1 + 2 + 300);
        assert_eq!(decode_body(&body).unwrap(), vec![(0, StoredValue::Scalar(&long))]);
    }
}
