//! Every value encoding rule, with the exact text sent to the service (docs/ARCHITECTURE.md §4).
// Tests and their helpers may panic on a broken expectation: that is how they fail.
use std::sync::Arc;

use crate::support::*;
use arrow_array::builder::{
    FixedSizeListBuilder, Float64Builder, Int64Builder, LargeListBuilder, ListBuilder, StringBuilder,
};
use arrow_array::types::Int32Type;
use arrow_array::*;
use arrow_schema::DataType;

fn arc(array: impl Array + 'static) -> ArrayRef {
    Arc::new(array)
}

#[test]
fn integers_are_written_as_digits_never_with_a_fraction() {
    let expected = vec![
        scalar("-9223372036854775808"),
        scalar("0"),
        scalar("9223372036854775807"),
        omitted(),
    ];
    let column = arc(Int64Array::from(vec![
        Some(i64::MIN),
        Some(0),
        Some(i64::MAX),
        None,
    ]));
    assert_eq!(entries(feature("x", "Integral"), column.clone()), expected);
    assert_eq!(entries(feature("x", "String"), column.clone()), expected);
    assert_eq!(entries(feature("x", "Fractional"), column), expected);

    assert_eq!(
        entries(
            feature("x", "Integral"),
            arc(Int8Array::from(vec![i8::MIN, i8::MAX]))
        ),
        vec![scalar("-128"), scalar("127")]
    );
    assert_eq!(
        entries(feature("x", "Integral"), arc(Int16Array::from(vec![i16::MIN]))),
        vec![scalar("-32768")]
    );
    assert_eq!(
        entries(feature("x", "Integral"), arc(Int32Array::from(vec![i32::MIN]))),
        vec![scalar("-2147483648")]
    );
    assert_eq!(
        entries(feature("x", "Integral"), arc(UInt32Array::from(vec![u32::MAX]))),
        vec![scalar("4294967295")]
    );
}

#[test]
fn unsigned_64_bit_integers_above_i64_max_fail_only_for_integral_features() {
    let column = arc(UInt64Array::from(vec![
        i64::MAX as u64,
        i64::MAX as u64 + 1,
        u64::MAX,
    ]));
    assert_eq!(
        entries(feature("x", "Integral"), column.clone()),
        vec![
            scalar("9223372036854775807"),
            failed("integral_out_of_range"),
            failed("integral_out_of_range")
        ]
    );
    assert_eq!(
        entries(feature("x", "String"), column),
        vec![
            scalar("9223372036854775807"),
            scalar("9223372036854775808"),
            scalar("18446744073709551615")
        ]
    );
}

#[test]
fn doubles_are_written_as_their_shortest_round_trip_text() {
    let column = arc(Float64Array::from(vec![
        1.0,
        -0.0,
        0.1,
        1e-7,
        1e21,
        123456789.125,
        f64::MAX,
        f64::MIN_POSITIVE,
        5e-324,                                // the smallest subnormal
        f64::from_bits(0x000f_ffff_ffff_ffff), // the largest subnormal
    ]));
    assert_eq!(
        entries(feature("x", "Fractional"), column),
        vec![
            scalar("1.0"),
            scalar("-0.0"),
            scalar("0.1"),
            scalar("1e-7"),
            scalar("1e+21"), // positive exponents carry their sign
            scalar("123456789.125"),
            scalar("1.7976931348623157e+308"),
            scalar("2.2250738585072014e-308"),
            scalar("5e-324"),
            scalar("2.225073858507201e-308"),
        ]
    );
}

#[test]
fn floats_are_written_as_the_f32_shortest_text_not_the_widened_f64() {
    let column = arc(Float32Array::from(vec![
        0.1f32,
        16777216.0,
        1e-45,
        3.4028235e38,
        1.1,
    ]));
    assert_eq!(
        entries(feature("x", "Fractional"), column),
        vec![
            scalar("0.1"),
            scalar("16777216.0"),
            scalar("1e-45"),
            scalar("3.4028235e+38"),
            scalar("1.1")
        ]
    );
}

#[test]
fn half_floats_are_written_exactly() {
    let column = arc(Float16Array::from(vec![
        half_from_bits(0x3c00), // 1.0
        half_from_bits(0x2e66), // the f16 nearest 0.1: 0.0999755859375
        half_from_bits(0x7c00), // +inf
    ]));
    assert_eq!(
        entries(feature("x", "Fractional"), column.clone()),
        vec![
            scalar("1.0"),
            scalar("0.099975586"),
            failed("non_finite_fractional")
        ]
    );
    assert_eq!(entries(feature("x", "String"), column)[2], scalar("Infinity"));
}

/// An f16 from its bits, through Arrow's own f16 type (no direct dependency on `half`).
fn half_from_bits(bits: u16) -> <types::Float16Type as ArrowPrimitiveType>::Native {
    let array = arrow_array::UInt16Array::from(vec![bits]);
    let data = array
        .into_data()
        .into_builder()
        .data_type(DataType::Float16)
        .build()
        .unwrap();
    Float16Array::from(data).value(0)
}

#[test]
fn nan_and_infinities_fail_fractional_features_and_are_words_in_string_features() {
    let column = arc(Float64Array::from(vec![
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        2.5,
    ]));
    assert_eq!(
        entries(feature("x", "Fractional"), column.clone()),
        vec![
            failed("non_finite_fractional"),
            failed("non_finite_fractional"),
            failed("non_finite_fractional"),
            scalar("2.5")
        ]
    );
    assert_eq!(
        entries(feature("x", "String"), column),
        vec![
            scalar("NaN"),
            scalar("Infinity"),
            scalar("-Infinity"),
            scalar("2.5")
        ]
    );
}

fn decimals(values: Vec<Option<i128>>, precision: u8, scale: i8) -> ArrayRef {
    arc(Decimal128Array::from(values)
        .with_precision_and_scale(precision, scale)
        .unwrap())
}

#[test]
fn decimals_are_digit_exact_and_integral_only_when_whole_and_in_range() {
    let column = decimals(vec![Some(1230), Some(-5), Some(0), Some(100)], 10, 2);
    assert_eq!(
        entries(feature("x", "Fractional"), column.clone()),
        vec![scalar("12.30"), scalar("-0.05"), scalar("0.00"), scalar("1.00")]
    );
    assert_eq!(
        entries(feature("x", "String"), column.clone()),
        vec![scalar("12.30"), scalar("-0.05"), scalar("0.00"), scalar("1.00")]
    );
    assert_eq!(
        entries(feature("x", "Integral"), column),
        vec![
            failed("integral_not_whole"),
            failed("integral_not_whole"),
            scalar("0"),
            scalar("1")
        ]
    );
    let whole = decimals(
        vec![
            Some(i128::from(i64::MAX)),
            Some(i128::from(i64::MIN)),
            Some(i128::from(i64::MAX) + 1),
        ],
        38,
        0,
    );
    assert_eq!(
        entries(feature("x", "Integral"), whole),
        vec![
            scalar("9223372036854775807"),
            scalar("-9223372036854775808"),
            failed("integral_out_of_range")
        ]
    );
    let negative_scale = decimals(vec![Some(12)], 5, -3);
    assert_eq!(
        entries(feature("x", "Integral"), negative_scale.clone()),
        vec![scalar("12000")]
    );
    assert_eq!(
        entries(feature("x", "Fractional"), negative_scale),
        vec![scalar("12000")]
    );
    let small = arc(Decimal32Array::from(vec![-123])
        .with_precision_and_scale(5, 1)
        .unwrap());
    assert_eq!(entries(feature("x", "Fractional"), small), vec![scalar("-12.3")]);
    let medium = arc(Decimal64Array::from(vec![4200])
        .with_precision_and_scale(12, 2)
        .unwrap());
    assert_eq!(entries(feature("x", "Integral"), medium), vec![scalar("42")]);
}

#[test]
fn booleans_are_true_or_false_in_string_features() {
    assert_eq!(
        entries(
            feature("x", "String"),
            arc(BooleanArray::from(vec![Some(true), Some(false), None]))
        ),
        vec![scalar("true"), scalar("false"), omitted()]
    );
}

#[test]
fn text_is_escaped_for_json_and_kept_exactly() {
    let column = arc(StringArray::from(vec![
        "plain",
        "",
        "quote \" backslash \\ slash /",
        "line\nfeed\ttab\r\u{8}\u{c}",
        "\u{0}\u{1f}\u{7f}",
        "é 日本 😀 \u{2028}",
    ]));
    assert_eq!(
        entries(feature("x", "String"), column),
        vec![
            scalar("plain"),
            scalar(""),
            scalar(r#"quote \" backslash \\ slash /"#),
            scalar(r"line\nfeed\ttab\r\b\f"),
            scalar("\\u0000\\u001f\u{7f}"),
            scalar("é 日本 😀 \u{2028}"),
        ]
    );
    let large = arc(LargeStringArray::from(vec!["large \"x\""]));
    assert_eq!(
        entries(feature("x", "String"), large),
        vec![scalar(r#"large \"x\""#)]
    );
    let view = arc(StringViewArray::from(vec![
        "a view longer than twelve bytes",
        "short",
    ]));
    assert_eq!(
        entries(feature("x", "String"), view),
        vec![scalar("a view longer than twelve bytes"), scalar("short")]
    );
}

#[test]
fn dictionary_columns_are_written_as_their_values() {
    let column: DictionaryArray<Int32Type> =
        vec![Some("b"), None, Some("a"), Some("b")].into_iter().collect();
    assert_eq!(
        entries(feature("x", "String"), arc(column)),
        vec![scalar("b"), omitted(), scalar("a"), scalar("b")]
    );
}

#[test]
fn timestamps_are_utc_iso_text_whatever_time_zone_the_field_carries() {
    // 2023-11-14T22:13:20.123456Z as microseconds since the epoch.
    let instant = 1_700_000_000_123_456i64;
    for time_zone in [Some("UTC"), Some("America/New_York"), Some("+05:30"), None] {
        let column = arc(TimestampMicrosecondArray::from(vec![instant]).with_timezone_opt(time_zone));
        assert_eq!(
            entries(feature("x", "String"), column.clone()),
            vec![scalar("2023-11-14T22:13:20.123456Z")],
            "{time_zone:?}"
        );
        assert_eq!(
            entries(feature("x", "Fractional"), column),
            vec![scalar("1700000000.123456")],
            "{time_zone:?}"
        );
    }
    // Each unit keeps its digits in a String feature.
    assert_eq!(
        entries(
            feature("x", "String"),
            arc(TimestampSecondArray::from(vec![1_700_000_000]))
        ),
        vec![scalar("2023-11-14T22:13:20.000Z")]
    );
    assert_eq!(
        entries(
            feature("x", "String"),
            arc(TimestampMillisecondArray::from(vec![1_700_000_000_123]))
        ),
        vec![scalar("2023-11-14T22:13:20.123Z")]
    );
    assert_eq!(
        entries(
            feature("x", "String"),
            arc(TimestampNanosecondArray::from(vec![1_700_000_000_000_000_001]))
        ),
        vec![scalar("2023-11-14T22:13:20.000000001Z")]
    );
    // Before 1970, and the limits of four-digit years.
    let column = arc(TimestampMicrosecondArray::from(vec![
        -1,
        -62_167_219_200_000_000,
        253_402_300_799_999_999,
        253_402_300_800_000_000,
    ]));
    assert_eq!(
        entries(feature("x", "String"), column.clone()),
        vec![
            scalar("1969-12-31T23:59:59.999999Z"),
            scalar("0000-01-01T00:00:00.000000Z"),
            scalar("9999-12-31T23:59:59.999999Z"),
            failed("timestamp_out_of_range"),
        ]
    );
    assert_eq!(
        entries(feature("x", "Fractional"), column),
        vec![
            scalar("-0.000001"),
            scalar("-62167219200"),
            scalar("253402300799.999999"),
            failed("timestamp_out_of_range"),
        ]
    );
}

#[test]
fn dates_are_days_in_string_features_and_epoch_seconds_in_fractional_ones() {
    // 2024-02-29 is day 19782; -719528 is 0000-01-01.
    let column = arc(Date32Array::from(vec![19_782, -1, -719_528, 2_932_897]));
    assert_eq!(
        entries(feature("x", "String"), column.clone()),
        vec![
            scalar("2024-02-29"),
            scalar("1969-12-31"),
            scalar("0000-01-01"),
            failed("timestamp_out_of_range")
        ]
    );
    assert_eq!(
        entries(feature("x", "Fractional"), column),
        vec![
            scalar("1709164800"),
            scalar("-86400"),
            scalar("-62167219200"),
            failed("timestamp_out_of_range")
        ]
    );
    assert_eq!(
        entries(
            feature("x", "String"),
            arc(Date64Array::from(vec![1_709_164_800_000]))
        ),
        vec![scalar("2024-02-29")]
    );
}

#[test]
fn null_typed_columns_are_always_omitted() {
    assert_eq!(
        entries(feature("x", "Integral"), arc(NullArray::new(2))),
        vec![omitted(), omitted()]
    );
}

fn string_lists(rows: Vec<Option<Vec<Option<&str>>>>) -> ArrayRef {
    let mut builder = ListBuilder::new(StringBuilder::new());
    for row in rows {
        match row {
            None => builder.append_null(),
            Some(elements) => {
                for element in elements {
                    builder.values().append_option(element);
                }
                builder.append(true);
            }
        }
    }
    arc(builder.finish())
}

#[test]
fn lists_become_value_as_string_list() {
    let column = string_lists(vec![
        Some(vec![Some("a"), Some("b"), Some("a")]),
        Some(vec![]),
        None,
        Some(vec![Some("x \"quoted\"")]),
        Some(vec![Some("a"), None]),
    ]);
    assert_eq!(
        entries(collection("x", "String", "List"), column),
        vec![
            list(r#""a","b","a""#),
            list(""),
            omitted(),
            list(r#""x \"quoted\"""#),
            failed("null_collection_element"),
        ]
    );
    let mut builder = LargeListBuilder::new(Int64Builder::new());
    builder.append_value([Some(1), Some(-2)]);
    assert_eq!(
        entries(collection("x", "Integral", "List"), arc(builder.finish())),
        vec![list(r#""1","-2""#)]
    );
}

#[test]
fn sets_keep_the_first_of_repeated_elements_in_order() {
    let column = string_lists(vec![
        Some(vec![Some("b"), Some("a"), Some("b"), Some("c"), Some("a")]),
        Some(vec![Some("z"), Some("z")]),
        Some(vec![]),
    ]);
    assert_eq!(
        entries(collection("x", "String", "Set"), column),
        vec![list(r#""b","a","c""#), list(r#""z""#), list("")]
    );
    // Repeats are found by the text sent: 1.0 and 1.0 are one element, 1.0 and 1.5 two.
    let mut builder = ListBuilder::new(Float64Builder::new());
    builder.append_value([Some(1.0), Some(1.5), Some(1.0)]);
    assert_eq!(
        entries(collection("x", "Fractional", "Set"), arc(builder.finish())),
        vec![list(r#""1.0","1.5""#)]
    );
}

#[test]
fn large_sets_are_deduplicated_too() {
    let elements: Vec<String> = (0..5_000).map(|i| format!("e{}", i % 1_000)).collect();
    let column = string_lists(vec![Some(elements.iter().map(|e| Some(e.as_str())).collect())]);
    let expected: Vec<String> = (0..1_000).map(|i| format!("\"e{i}\"")).collect();
    assert_eq!(
        entries(collection("x", "String", "Set"), column),
        vec![list(&expected.join(","))]
    );
}

#[test]
fn vectors_need_exactly_their_dimension_of_finite_elements() {
    let mut builder = ListBuilder::new(Float64Builder::new());
    builder.append_value([Some(0.5), Some(-1.0), Some(3.0)]);
    builder.append_value([Some(0.5), Some(1.0)]);
    builder.append_value([Some(0.5), Some(f64::NAN), Some(3.0)]);
    builder.append_value([Some(0.5), None, Some(3.0)]);
    builder.append_null();
    assert_eq!(
        entries(vector("x", 3), arc(builder.finish())),
        vec![
            list(r#""0.5","-1.0","3.0""#),
            failed("vector_dimension_mismatch"),
            failed("non_finite_fractional"),
            failed("null_collection_element"),
            omitted(),
        ]
    );
    let mut fixed = FixedSizeListBuilder::new(Float64Builder::new(), 2);
    fixed.values().append_slice(&[1.25, 2.5]);
    fixed.append(true);
    assert_eq!(
        entries(vector("x", 2), arc(fixed.finish())),
        vec![list(r#""1.25","2.5""#)]
    );
}

#[test]
fn sliced_batches_encode_the_rows_they_show() {
    let mut builder = ListBuilder::new(Int64Builder::new());
    builder.append_value([Some(1)]);
    builder.append_value([Some(2), Some(3)]);
    builder.append_value([Some(4)]);
    let lists = builder.finish().slice(1, 2);
    assert_eq!(
        entries(collection("x", "Integral", "List"), arc(lists)),
        vec![list(r#""2","3""#), list(r#""4""#)]
    );
    let strings = StringArray::from(vec![Some("a"), None, Some("c")]).slice(1, 2);
    assert_eq!(
        entries(feature("x", "String"), arc(strings)),
        vec![omitted(), scalar("c")]
    );
    let numbers = Float64Array::from(vec![1.0, 2.0, 3.0]).slice(2, 1);
    assert_eq!(
        entries(feature("x", "Fractional"), arc(numbers)),
        vec![scalar("3.0")]
    );
}
