//! The service's size limits, checked before sending: 358,400 bytes (350 KB) per value and per record,
//! 2,048 bytes (2 KB) per record identifier, counted as UTF-8 bytes before JSON escaping.
// Tests and their helpers may panic on a broken expectation: that is how they fail.
use std::sync::Arc;

use crate::support::*;
use arrow_array::builder::{ListBuilder, StringBuilder};
use arrow_array::{ArrayRef, StringArray};

/// Bytes a record of `id` (`r0`), `event_time` (`2024-01-01T00:00:00Z`) and `x` counts besides `x`'s
/// value: the three names and the two other values.
const OTHER_BYTES: usize = "id".len() + "r0".len() + "event_time".len() + 20 + "x".len();

fn strings(values: &[&str]) -> ArrayRef {
    Arc::new(StringArray::from(values.to_vec()))
}

#[test]
fn a_record_may_reach_exactly_350_kb_and_not_a_byte_more() {
    let fits = "v".repeat(358_400 - OTHER_BYTES);
    let over = "v".repeat(358_400 - OTHER_BYTES + 1);
    assert_eq!(
        entries(feature("x", "String"), strings(&[&fits, &over])),
        vec![scalar(&fits), failed("record_too_large")]
    );
}

#[test]
fn a_value_over_350_kb_fails_whatever_the_rest_of_the_record() {
    let at_limit = "v".repeat(358_400);
    let over = "v".repeat(358_401);
    assert_eq!(
        entries(feature("x", "String"), strings(&[&at_limit, &over])),
        // At the value limit the record (names and other values included) is over its own limit.
        vec![failed("record_too_large"), failed("value_too_large")]
    );
}

#[test]
fn sizes_count_utf8_bytes_before_escaping() {
    // 179,201 two-byte characters: 358,402 bytes.
    let multibyte = "é".repeat(179_201);
    // 200,000 quotes: 400,000 bytes of JSON text, 200,000 bytes of value.
    let quotes = "\"".repeat(200_000);
    let out = entries(feature("x", "String"), strings(&[&multibyte, &quotes]));
    assert_eq!(out[0], failed("value_too_large"));
    assert_eq!(out[1], scalar(&"\\\"".repeat(200_000)));
}

#[test]
fn a_collection_counts_its_elements_and_fails_on_an_oversized_one() {
    let big = "v".repeat(358_401);
    let half = "v".repeat(200_000);
    let mut builder = ListBuilder::new(StringBuilder::new());
    builder.append_value([Some(big.as_str())]);
    builder.append_value([Some(half.as_str()), Some(half.as_str())]);
    builder.append_value([Some("a"), Some("b")]);
    assert_eq!(
        entries(collection("x", "String", "List"), Arc::new(builder.finish())),
        vec![
            failed("value_too_large"),
            failed("value_too_large"),
            list(r#""a","b""#)
        ]
    );
}

#[test]
fn an_empty_record_identifier_fails_its_row() {
    let group = group(&[feature("id", "String"), feature("event_time", "String")]);
    let b = batch(vec![
        ("id", strings(&["a", "", " "])),
        ("event_time", strings(&["2024-01-01T00:00:00Z"; 3])),
    ]);
    let out = encode(&group, &b);
    assert_eq!(out.records().iter().map(|r| r.row).collect::<Vec<_>>(), [0, 2]);
    assert_eq!(
        failures(&out),
        vec![(
            1,
            "empty_record_identifier".to_string(),
            "row 1: the record identifier is empty; the service takes 1 to 2048 bytes".to_string()
        )]
    );
}

#[test]
fn the_record_identifier_may_be_2_kb() {
    let group = group(&[feature("id", "String"), feature("event_time", "String")]);
    let fits = "i".repeat(2_048);
    let over = "i".repeat(2_049);
    let multibyte = "é".repeat(1_025); // 2,050 bytes in 1,025 characters
    let b = batch(vec![
        ("id", strings(&[&fits, &over, &multibyte])),
        ("event_time", strings(&["2024-01-01T00:00:00Z"; 3])),
    ]);
    let out = encode(&group, &b);
    assert_eq!(out.records().len(), 1);
    assert_eq!(out.records()[0].row, 0);
    let codes: Vec<_> = failures(&out)
        .into_iter()
        .map(|(row, code, _)| (row, code))
        .collect();
    assert_eq!(
        codes,
        vec![
            (1, "record_identifier_too_large".to_string()),
            (2, "record_identifier_too_large".to_string())
        ]
    );
    assert_eq!(
        failures(&out)[0].2,
        "row 1: the record identifier is 2049 bytes; the service takes at most 2048 bytes (2 KB)"
    );
}
