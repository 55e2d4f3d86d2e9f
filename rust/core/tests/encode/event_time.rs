//! The event time: UTC `yyyy-MM-ddTHH:mm:ss.SSSZ` for a String event time whatever the column's time
//! zone (sub-millisecond digits truncated), text already in one of the service's formats, epoch seconds
//! for a Fractional event time; always within years 0000..=9999; never null.
// Tests may panic on a broken expectation: that is how they fail.
use std::sync::Arc;

use crate::support::*;
use arrow_array::*;

/// What the event time column became, per row: `Ok(text)` or `Err(rule id)`.
fn event_times(feature_type: &str, column: ArrayRef) -> Vec<Result<String, String>> {
    let group = group(&[feature("id", "String"), feature("event_time", feature_type)]);
    let rows = column.len();
    let b = batch(vec![
        ("id", Arc::new(StringArray::from(vec!["r"; rows])) as ArrayRef),
        ("event_time", column),
    ]);
    let out = encode(&group, &b);
    let mut result = vec![Err(String::new()); rows];
    for (span, text) in out.records().iter().zip(records(&out)) {
        let value = text
            .strip_prefix(
                r#"[{"FeatureName":"id","ValueAsString":"r"},{"FeatureName":"event_time","ValueAsString":""#,
            )
            .and_then(|rest| rest.strip_suffix(r#""}]"#))
            .unwrap_or_else(|| panic!("unexpected record {text}"));
        result[span.row as usize] = Ok(value.to_string());
    }
    for failed in out.failed() {
        result[failed.row as usize] = Err(failed.reason.code.clone());
    }
    result
}

fn ok(text: &str) -> Result<String, String> {
    Ok(text.to_string())
}

fn err(rule: &str) -> Result<String, String> {
    Err(rule.to_string())
}

#[test]
fn timestamps_become_utc_milliseconds_whatever_the_time_zone() {
    // 2024-03-10T07:30:00.123999Z: the microseconds past .123 are truncated, not rounded.
    let instant = 1_710_055_800_123_999i64;
    for time_zone in [
        Some("UTC"),
        Some("America/Los_Angeles"),
        Some("Asia/Kolkata"),
        Some("-03:00"),
        None,
    ] {
        let column = Arc::new(TimestampMicrosecondArray::from(vec![instant]).with_timezone_opt(time_zone));
        assert_eq!(
            event_times("String", column),
            vec![ok("2024-03-10T07:30:00.123Z")],
            "{time_zone:?}"
        );
    }
    assert_eq!(
        event_times(
            "String",
            Arc::new(TimestampNanosecondArray::from(vec![1_710_055_800_999_999_999]))
        ),
        vec![ok("2024-03-10T07:30:00.999Z")]
    );
    assert_eq!(
        event_times(
            "String",
            Arc::new(TimestampSecondArray::from(vec![1_710_055_800]))
        ),
        vec![ok("2024-03-10T07:30:00.000Z")]
    );
    assert_eq!(
        event_times(
            "String",
            Arc::new(TimestampMillisecondArray::from(vec![1_710_055_800_007]))
        ),
        vec![ok("2024-03-10T07:30:00.007Z")]
    );
}

#[test]
fn instants_before_1970_and_far_ahead_stay_exact_until_the_year_9999() {
    let column = Arc::new(TimestampMicrosecondArray::from(vec![
        Some(-1),                      // 1969-12-31T23:59:59.999999Z, truncated toward the past
        Some(-86_400_000_000 * 365),   // 1969-01-01
        Some(-62_135_596_800_000_000), // 0001-01-01
        Some(-62_167_219_200_000_000), // 0000-01-01, the first instant the service accepts
        Some(-62_167_219_200_000_001), // one microsecond earlier
        Some(253_402_300_799_999_999), // 9999-12-31T23:59:59.999999Z
        Some(253_402_300_800_000_000), // 10000-01-01
        Some(i64::MAX),
        Some(i64::MIN),
        None,
    ]));
    assert_eq!(
        event_times("String", column.clone()),
        vec![
            ok("1969-12-31T23:59:59.999Z"),
            ok("1969-01-01T00:00:00.000Z"),
            ok("0001-01-01T00:00:00.000Z"),
            ok("0000-01-01T00:00:00.000Z"),
            err("event_time_out_of_range"),
            ok("9999-12-31T23:59:59.999Z"),
            err("event_time_out_of_range"),
            err("event_time_out_of_range"),
            err("event_time_out_of_range"),
            err("null_event_time"),
        ]
    );
    assert_eq!(
        event_times("Fractional", column),
        vec![
            ok("-0.000001"),
            ok("-31536000"),
            ok("-62135596800"),
            ok("-62167219200"),
            err("event_time_out_of_range"),
            ok("253402300799.999999"),
            err("event_time_out_of_range"),
            err("event_time_out_of_range"),
            err("event_time_out_of_range"),
            err("null_event_time"),
        ]
    );
}

#[test]
fn dates_are_midnight_utc() {
    let column = Arc::new(Date32Array::from(vec![19_792, -25_567, 2_932_897]));
    assert_eq!(
        event_times("String", column.clone()),
        vec![
            ok("2024-03-10T00:00:00.000Z"),
            ok("1900-01-01T00:00:00.000Z"),
            err("event_time_out_of_range")
        ]
    );
    assert_eq!(
        event_times("Fractional", column),
        vec![
            ok("1710028800"),
            ok("-2208988800"),
            err("event_time_out_of_range")
        ]
    );
}

#[test]
fn text_must_already_be_in_one_of_the_services_formats() {
    let column = Arc::new(StringArray::from(vec![
        Some("2024-03-10T07:30:00Z"),
        Some("2024-03-10T07:30:00.123Z"),
        Some("2024-03-10 07:30:00"),
        Some("2024-03-10T07:30:00.123456Z"),
        Some("2024-03-10T07:30:00+01:00"),
        Some("2023-02-29T00:00:00Z"),
        Some(""),
        None,
    ]));
    assert_eq!(
        event_times("String", column),
        vec![
            ok("2024-03-10T07:30:00Z"),
            ok("2024-03-10T07:30:00.123Z"),
            err("event_time_format"),
            err("event_time_format"),
            err("event_time_format"),
            err("event_time_format"),
            err("event_time_format"),
            err("null_event_time"),
        ]
    );
}

#[test]
fn fractional_event_times_are_finite_epoch_seconds_in_range() {
    let column = Arc::new(Float64Array::from(vec![
        1_710_055_800.5,
        0.0,
        -62_167_219_200.0,
        253_402_300_799.999,
        253_402_300_800.0,
        -62_167_219_200.5,
        f64::NAN,
        f64::INFINITY,
    ]));
    assert_eq!(
        event_times("Fractional", column),
        vec![
            ok("1710055800.5"),
            ok("0.0"),
            ok("-62167219200.0"),
            ok("253402300799.999"),
            err("event_time_out_of_range"),
            err("event_time_out_of_range"),
            err("non_finite_fractional"),
            err("non_finite_fractional"),
        ]
    );
    assert_eq!(
        event_times(
            "Fractional",
            Arc::new(Int64Array::from(vec![1_710_055_800, 253_402_300_800, i64::MIN]))
        ),
        vec![
            ok("1710055800"),
            err("event_time_out_of_range"),
            err("event_time_out_of_range")
        ]
    );
    let decimals = Decimal128Array::from(vec![1_710_055_800_123_456, 253_402_300_800_000_000])
        .with_precision_and_scale(20, 6)
        .unwrap();
    assert_eq!(
        event_times("Fractional", Arc::new(decimals)),
        vec![ok("1710055800.123456"), err("event_time_out_of_range")]
    );
    assert_eq!(
        event_times("Fractional", Arc::new(Float32Array::from(vec![1.5f32]))),
        vec![ok("1.5")]
    );
}
