//! Event times: the two text formats a String event time feature accepts, fractional epoch seconds for a
//! Fractional one, and the UTC calendar arithmetic the offline store's hourly partitions need.
//!
//! Event times are kept as seconds since the epoch in an `f64`: ISO times carry at most milliseconds, which
//! an `f64` holds exactly enough for ordering, and Fractional event times are `f64`s to begin with.

/// Parses `yyyy-MM-dd'T'HH:mm:ss'Z'` or `yyyy-MM-dd'T'HH:mm:ss.SSS'Z'` (exactly three fraction digits), the
/// formats the service accepts for String event times. `None` for anything else, including impossible dates.
pub fn parse_iso(text: &str) -> Option<f64> {
    let b = text.as_bytes();
    let millis = match b.len() {
        20 => 0,
        24 if b[19] == b'.' => digits(&b[20..23])?,
        _ => return None,
    };
    if b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[b.len() - 1] != b'Z'
    {
        return None;
    }
    let year = digits(&b[0..4])? as i64;
    let month = digits(&b[5..7])?;
    let day = digits(&b[8..10])?;
    let hour = digits(&b[11..13])?;
    let minute = digits(&b[14..16])?;
    let second = digits(&b[17..19])?;
    if !(1..=12).contains(&month)
        || day == 0
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + i64::from(hour * 3600 + minute * 60 + second);
    Some(seconds as f64 + f64::from(millis) / 1000.0)
}

/// Formats epoch seconds as `yyyy-MM-ddTHH:mm:ss.SSSZ` (UTC), how ExpiresAt is returned.
pub fn format_iso_millis(seconds: f64) -> String {
    let total_millis = (seconds * 1000.0).round() as i64;
    let millis = total_millis.rem_euclid(1000);
    let total_seconds = total_millis.div_euclid(1000);
    let (year, month, day) = civil_from_days(total_seconds.div_euclid(86_400));
    let second_of_day = total_seconds.rem_euclid(86_400);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        second_of_day / 3600,
        second_of_day % 3600 / 60,
        second_of_day % 60
    )
}

/// The hour since the epoch an event time falls in: the offline store's partition.
pub fn hour_of(seconds: f64) -> i64 {
    (seconds / 3600.0).floor() as i64
}

/// Year, month, day and hour of an hour since the epoch (UTC), for `year=/month=/day=/hour=` paths.
pub fn civil_hour(hour_since_epoch: i64) -> (i64, u32, u32, u32) {
    let (year, month, day) = civil_from_days(hour_since_epoch.div_euclid(24));
    (year, month, day, hour_since_epoch.rem_euclid(24) as u32)
}

fn digits(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |acc, &c| {
        c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
    })
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (the era-based method: 400-year eras of 146,097 days).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = i64::from((month + 9) % 12);
    let day_of_year = (153 * month_from_march + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_from_march + 2) / 5 + 1) as u32;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(text: &str) -> f64 {
        let format = time::format_description::well_known::Rfc3339;
        let parsed = time::OffsetDateTime::parse(text, &format).unwrap();
        parsed.unix_timestamp_nanos() as f64 / 1e9
    }

    #[test]
    fn both_iso_formats_parse_to_epoch_seconds() {
        for text in [
            "1970-01-01T00:00:00Z",
            "2024-02-29T23:59:59Z",
            "2023-11-14T22:13:20.123Z",
            "1969-12-31T23:59:59.999Z",
            "2000-03-01T00:00:00Z",
            "2100-12-31T12:00:00.500Z",
        ] {
            let parsed = parse_iso(text).unwrap();
            assert!((parsed - reference(text)).abs() < 1e-6, "{text}: {parsed}");
        }
    }

    #[test]
    fn other_shapes_and_impossible_dates_are_refused() {
        for text in [
            "2024-01-01",
            "2024-01-01T00:00:00",
            "2024-01-01T00:00:00+00:00",
            "2024-01-01T00:00:00.12Z",
            "2024-01-01T00:00:00.1234Z",
            "2024-01-01 00:00:00Z",
            "2023-02-29T00:00:00Z",
            "2024-13-01T00:00:00Z",
            "2024-01-01T24:00:00Z",
            "2024-01-01T00:60:00Z",
            "1700000000",
            "2024-01-01t00:00:00z",
        ] {
            assert_eq!(parse_iso(text), None, "{text}");
        }
    }

    #[test]
    fn calendar_round_trips_across_eras() {
        for days in [-800_000i64, -1, 0, 1, 11_016, 19_782, 47_541, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
            let date = time::Date::from_julian_day((days + 2_440_588) as i32).unwrap();
            assert_eq!(
                (y, m, d),
                (
                    i64::from(date.year()),
                    u8::from(date.month()) as u32,
                    u32::from(date.day())
                )
            );
        }
    }

    #[test]
    fn expiry_formats_with_milliseconds_and_hours_partition() {
        assert_eq!(format_iso_millis(1_700_000_000.123), "2023-11-14T22:13:20.123Z");
        assert_eq!(format_iso_millis(0.0), "1970-01-01T00:00:00.000Z");
        let hour = hour_of(1_700_000_000.123);
        assert_eq!(civil_hour(hour), (2023, 11, 14, 22));
        assert_eq!(civil_hour(hour_of(-0.5)), (1969, 12, 31, 23));
    }
}
