//! Instants as the service's text: ISO-8601 in UTC (`yyyy-MM-ddTHH:mm:ss.SSSZ`) and exact epoch seconds,
//! plus the check of event time text. Hand-written because it runs once per value on the hot path: a date
//! from a day number is a few integer operations (H. Hinnant's `civil_from_days`), and the text is built
//! in a stack buffer and appended once.

/// 0000-01-01T00:00:00Z: the earliest event time the service accepts, in epoch seconds.
pub(crate) const MIN_EVENT_TIME_SECONDS: i64 = -62_167_219_200;
/// 9999-12-31T23:59:59Z: the last whole second the service accepts.
pub(crate) const MAX_EVENT_TIME_SECONDS: i64 = 253_402_300_799;

const SECONDS_PER_DAY: i64 = 86_400;

use super::text::{DIGIT_PAIRS, extend_window};

/// Year, month (1..=12) and day (1..=31) of a day counted from 1970-01-01 (proleptic Gregorian).
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097); // [0, 146096]
    let year_of_era = (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365; // [0, 399]
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100); // [0, 365]
    let shifted_month = (5 * day_of_year + 2) / 153; // [0, 11], March = 0
    let day = (day_of_year - (153 * shifted_month + 2) / 5 + 1) as u32;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Splits a count of `units_per_second` units since the epoch into whole seconds (floored, so instants
/// before 1970 keep a positive fraction) and the fraction in units.
#[inline]
pub(crate) fn split_seconds(value: i64, units_per_second: i64) -> (i64, i64) {
    (
        value.div_euclid(units_per_second),
        value.rem_euclid(units_per_second),
    )
}

/// Appends `yyyy-MM-ddTHH:mm:ss[.f...]Z` for `seconds` since the epoch and a fraction of `fraction`
/// units out of 10^`digits` (`digits` <= 9). Returns `false` (writing nothing) when the year lies outside
/// 0000..=9999, which four digits cannot hold.
#[inline]
pub(crate) fn write_iso(out: &mut Vec<u8>, seconds: i64, fraction: i64, digits: u32) -> bool {
    if !(MIN_EVENT_TIME_SECONDS..=MAX_EVENT_TIME_SECONDS).contains(&seconds) {
        return false;
    }
    // From here on every quantity is non-negative: unsigned division by constants is a multiplication.
    let since_year_zero = (seconds - MIN_EVENT_TIME_SECONDS) as u64;
    let second_of_day = (since_year_zero % SECONDS_PER_DAY as u64) as usize;
    let (year, month, day) = civil_from_days_since_year_zero(since_year_zero / SECONDS_PER_DAY as u64);
    let mut text = [0u8; 32];
    text[..2].copy_from_slice(&DIGIT_PAIRS[year / 100]);
    text[2..4].copy_from_slice(&DIGIT_PAIRS[year % 100]);
    text[4] = b'-';
    text[5..7].copy_from_slice(&DIGIT_PAIRS[month]);
    text[7] = b'-';
    text[8..10].copy_from_slice(&DIGIT_PAIRS[day]);
    text[10] = b'T';
    text[11..13].copy_from_slice(&DIGIT_PAIRS[second_of_day / 3_600]);
    text[13] = b':';
    text[14..16].copy_from_slice(&DIGIT_PAIRS[second_of_day / 60 % 60]);
    text[16] = b':';
    text[17..19].copy_from_slice(&DIGIT_PAIRS[second_of_day % 60]);
    let mut len = 19;
    if digits > 0 {
        text[len] = b'.';
        let digits = (digits as usize).min(9);
        // Right to left, two digits at a time.
        let mut end = len + 1 + digits;
        let mut rest = fraction.unsigned_abs() as usize;
        while end - len > 2 {
            text[end - 2..end].copy_from_slice(&DIGIT_PAIRS[rest % 100]);
            rest /= 100;
            end -= 2;
        }
        if end - len == 2 {
            text[end - 1] = b'0' + (rest % 10) as u8;
        }
        len += 1 + digits;
    }
    text[len] = b'Z';
    extend_window(out, &text, len + 1);
    true
}

/// Year (0..=9999), month and day of a day counted from 0000-01-01, for [`write_iso`]: H. Hinnant's
/// `civil_from_days` counted from -0400-03-01 (one 400-year era earlier), so that it needs no signed
/// arithmetic.
#[inline]
fn civil_from_days_since_year_zero(days: u64) -> (usize, usize, usize) {
    // 0000-01-01 is 60 days before 0000-03-01, which is 146,097 days (one era) after -0400-03-01.
    let z = days + 146_097 - 60;
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era = (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + u64::from(month <= 2) - 400;
    (year as usize, month as usize, day as usize)
}

/// Appends the exact number of seconds since the epoch of `value` units of 1/`units_per_second` s:
/// `1700000000`, `1700000000.25`, `-0.000001`. Trailing zeros of the fraction are dropped. Returns the
/// number of bytes written.
pub(crate) fn write_epoch_seconds(out: &mut Vec<u8>, value: i64, units_per_second: i64) -> usize {
    let start = out.len();
    let magnitude = value.unsigned_abs();
    let per_second = units_per_second.unsigned_abs();
    if value < 0 {
        out.push(b'-');
    }
    let mut digits = itoa::Buffer::new();
    out.extend_from_slice(digits.format(magnitude / per_second).as_bytes());
    let mut fraction = magnitude % per_second;
    if fraction != 0 {
        // The fraction's digits, left-padded to the unit's width, trailing zeros dropped.
        let mut width = per_second.ilog10();
        while fraction.is_multiple_of(10) {
            fraction /= 10;
            width -= 1;
        }
        out.push(b'.');
        let text = digits.format(fraction);
        out.extend(std::iter::repeat_n(b'0', width as usize - text.len()));
        out.extend_from_slice(text.as_bytes());
    }
    out.len() - start
}

/// Whether `text` is in one of the service's event time formats: `yyyy-MM-ddTHH:mm:ssZ` or
/// `yyyy-MM-ddTHH:mm:ss.SSSZ` (CreateFeatureGroup's `EventTimeFeatureName`), a real date and time of day.
pub(crate) fn is_event_time_text(text: &str) -> bool {
    let b = text.as_bytes();
    if !(b.len() == 20 || b.len() == 24) || b[b.len() - 1] != b'Z' {
        return false;
    }
    let shape_ok = b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && (b.len() == 20 || b[19] == b'.');
    let digit_positions: &[usize] = if b.len() == 20 {
        &[0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18]
    } else {
        &[0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18, 20, 21, 22]
    };
    if !shape_ok || !digit_positions.iter().all(|&i| b[i].is_ascii_digit()) {
        return false;
    }
    let number =
        |range: std::ops::Range<usize>| b[range].iter().fold(0u32, |n, d| n * 10 + u32::from(d - b'0'));
    let (year, month, day) = (number(0..4), number(5..7), number(8..10));
    let (hour, minute, second) = (number(11..13), number(14..16), number(17..19));
    (1..=12).contains(&month)
        && (1..=days_in_month(year, month)).contains(&day)
        && hour <= 23
        && minute <= 59
        && second <= 59
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Lenient text of an instant for failed rows: ISO-8601 with an expanded year (`+10000-01-01T...`)
/// when four digits do not suffice.
pub(crate) fn render_iso(seconds: i64, fraction: i64, digits: u32) -> String {
    let mut out = Vec::new();
    if write_iso(&mut out, seconds, fraction, digits) {
        return String::from_utf8_lossy(&out).into_owned();
    }
    let (days, second_of_day) = split_seconds(seconds, SECONDS_PER_DAY);
    let (year, month, day) = civil_from_days(days);
    let fraction = if digits > 0 {
        format!(".{fraction:0width$}", width = digits as usize)
    } else {
        String::new()
    };
    format!(
        "{year:+05}-{month:02}-{day:02}T{:02}:{:02}:{:02}{fraction}Z",
        second_of_day / 3_600,
        second_of_day / 60 % 60,
        second_of_day % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iso(seconds: i64, fraction: i64, digits: u32) -> Option<String> {
        let mut out = Vec::new();
        write_iso(&mut out, seconds, fraction, digits).then(|| String::from_utf8(out).unwrap())
    }

    fn epoch(value: i64, units_per_second: i64) -> String {
        let mut out = Vec::new();
        let written = write_epoch_seconds(&mut out, value, units_per_second);
        assert_eq!(written, out.len());
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn formats_instants_in_utc_across_the_accepted_range() {
        assert_eq!(iso(0, 0, 3).unwrap(), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso(-1, 999, 3).unwrap(), "1969-12-31T23:59:59.999Z");
        assert_eq!(iso(951_782_400, 5, 3).unwrap(), "2000-02-29T00:00:00.005Z");
        assert_eq!(
            iso(1_700_000_000, 123_456, 6).unwrap(),
            "2023-11-14T22:13:20.123456Z"
        );
        assert_eq!(
            iso(1_700_000_000, 7, 9).unwrap(),
            "2023-11-14T22:13:20.000000007Z"
        );
        assert_eq!(iso(1_700_000_000, 0, 0).unwrap(), "2023-11-14T22:13:20Z");
        assert_eq!(
            iso(MIN_EVENT_TIME_SECONDS, 0, 3).unwrap(),
            "0000-01-01T00:00:00.000Z"
        );
        assert_eq!(
            iso(MAX_EVENT_TIME_SECONDS, 999, 3).unwrap(),
            "9999-12-31T23:59:59.999Z"
        );
        assert_eq!(iso(MIN_EVENT_TIME_SECONDS - 1, 0, 3), None);
        assert_eq!(iso(MAX_EVENT_TIME_SECONDS + 1, 0, 3), None);
    }

    #[test]
    fn civil_dates_agree_with_the_time_crate_over_ten_thousand_years() {
        let mut days = MIN_EVENT_TIME_SECONDS / SECONDS_PER_DAY;
        while days <= MAX_EVENT_TIME_SECONDS / SECONDS_PER_DAY {
            let date = time::OffsetDateTime::from_unix_timestamp(days * SECONDS_PER_DAY)
                .unwrap()
                .date();
            let expected_fast = (
                date.year() as usize,
                usize::from(u8::from(date.month())),
                usize::from(date.day()),
            );
            assert_eq!(
                civil_from_days_since_year_zero((days - MIN_EVENT_TIME_SECONDS / SECONDS_PER_DAY) as u64),
                expected_fast,
                "day {days}"
            );
            assert_eq!(
                civil_from_days(days),
                (
                    i64::from(date.year()),
                    u32::from(u8::from(date.month())),
                    u32::from(date.day())
                ),
                "day {days}"
            );
            days += 1;
        }
    }

    #[test]
    fn writes_exact_epoch_seconds() {
        assert_eq!(epoch(0, 1_000_000), "0");
        assert_eq!(epoch(1_700_000_000_000_000, 1_000_000), "1700000000");
        assert_eq!(epoch(1_700_000_000_250_000, 1_000_000), "1700000000.25");
        assert_eq!(epoch(1_700_000_000_000_001, 1_000_000), "1700000000.000001");
        assert_eq!(epoch(-1, 1_000_000), "-0.000001");
        assert_eq!(epoch(-1_500, 1_000), "-1.5");
        assert_eq!(epoch(42, 1), "42");
        assert_eq!(epoch(i64::MIN, 1_000_000_000), "-9223372036.854775808");
        assert_eq!(epoch(i64::MAX, 1_000_000_000), "9223372036.854775807");
    }

    #[test]
    fn accepts_only_the_services_event_time_formats() {
        for good in [
            "2024-01-31T23:59:59Z",
            "2024-02-29T00:00:00.000Z",
            "0000-01-01T00:00:00Z",
            "9999-12-31T23:59:59.999Z",
        ] {
            assert!(is_event_time_text(good), "{good}");
        }
        for bad in [
            "",
            "2024-01-31",
            "2024-01-31 23:59:59Z",
            "2024-01-31T23:59:59",
            "2024-01-31T23:59:59+00:00",
            "2024-01-31T23:59:59.1Z",
            "2024-01-31T23:59:59.123456Z",
            "2023-02-29T00:00:00Z",
            "2024-13-01T00:00:00Z",
            "2024-00-01T00:00:00Z",
            "2024-04-31T00:00:00Z",
            "2024-01-01T24:00:00Z",
            "2024-01-01T00:60:00Z",
            "2024-01-01T00:00:60Z",
            "2024-01-01T00:00:00.00aZ",
            "+2024-01-01T00:00:00Z",
            "2024-01-01T00:00:00z",
        ] {
            assert!(!is_event_time_text(bad), "{bad}");
        }
    }

    #[test]
    fn renders_instants_beyond_four_digit_years_for_failed_rows() {
        assert_eq!(render_iso(0, 0, 3), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            render_iso(MAX_EVENT_TIME_SECONDS + 1, 0, 3),
            "+10000-01-01T00:00:00.000Z"
        );
        assert_eq!(
            render_iso(MIN_EVENT_TIME_SECONDS - 1, 5, 6),
            "-0001-12-31T23:59:59.000005Z"
        );
    }
}
