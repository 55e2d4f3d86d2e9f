//! A record as the stores take it (validated, values borrowed from the request), and the compact binary form
//! the online store keeps: per present feature, its index in the definition and its text value(s).
//!
//! Body layout, repeated per present feature: `[feature index u16][kind u8]`, then for a scalar
//! `[len u32][utf-8 bytes]`, for a collection `[count u32]` and per element `[len u32][utf-8 bytes]`.
//! Little-endian throughout.

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

const SCALAR: u8 = 0;
const COLLECTION: u8 = 1;

/// Appends a record's body to `out`.
pub fn encode_body(record: &ValidRecord<'_>, out: &mut Vec<u8>) {
    for (index, value) in record.values.iter().enumerate() {
        let Some(value) = value else { continue };
        out.extend_from_slice(&(index as u16).to_le_bytes());
        match value {
            Value::Scalar(text, _) => {
                out.push(SCALAR);
                put_str(out, text);
            }
            Value::Collection(items) => {
                out.push(COLLECTION);
                out.extend_from_slice(&(items.len() as u32).to_le_bytes());
                for item in *items {
                    put_str(out, item);
                }
            }
        }
    }
}

fn put_str(out: &mut Vec<u8>, text: &str) {
    out.extend_from_slice(&(text.len() as u32).to_le_bytes());
    out.extend_from_slice(text.as_bytes());
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
        let index = u16::from_le_bytes(take(&mut body, 2)?.try_into().ok()?) as usize;
        let kind = take(&mut body, 1)?[0];
        let value = match kind {
            SCALAR => StoredValue::Scalar(take_str(&mut body)?),
            COLLECTION => {
                let count = take_u32(&mut body)? as usize;
                let mut items = Vec::with_capacity(count.min(body.len() / 4));
                for _ in 0..count {
                    items.push(take_str(&mut body)?);
                }
                StoredValue::Collection(items)
            }
            _ => return None,
        };
        values.push((index, value));
    }
    Some(values)
}

fn take<'b>(body: &mut &'b [u8], n: usize) -> Option<&'b [u8]> {
    if body.len() < n {
        return None;
    }
    let (head, tail) = body.split_at(n);
    *body = tail;
    Some(head)
}

fn take_u32(body: &mut &[u8]) -> Option<u32> {
    Some(u32::from_le_bytes(take(body, 4)?.try_into().ok()?))
}

fn take_str<'b>(body: &mut &'b [u8]) -> Option<&'b str> {
    let len = take_u32(body)? as usize;
    std::str::from_utf8(take(body, len)?).ok()
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
    }
}
