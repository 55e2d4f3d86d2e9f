//! A property test: random batches of every common column type (edge values, nulls, unicode and control
//! characters, time zones, slices) are encoded, and every record must be valid JSON equal to the
//! structure an independent model of the rules expects; every other row must have failed with the rule
//! the model expects. The model uses Rust's own formatting and the `time` crate, not the encoder's code.
// Tests may panic on a broken expectation: that is how they fail.
use std::sync::Arc;

use crate::support::*;
use arrow_array::builder::{Int32Builder, ListBuilder, StringBuilder};
use arrow_array::*;
use featurestore_core::encode::RecordEncoder;
use featurestore_core::record::EncodedBatch;
use serde_json::{Value, json};

/// SplitMix64: a small deterministic generator, so a failure can be replayed from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }
    fn text(&mut self) -> String {
        const PIECES: &[&str] = &[
            "a",
            "Z",
            "0",
            " ",
            "\"",
            "\\",
            "/",
            "\n",
            "\t",
            "\r",
            "\u{0}",
            "\u{1f}",
            "\u{7f}",
            "é",
            "日本",
            "😀",
            "\u{2028}",
            "\u{feff}",
            "word",
            "{\"json\":1}",
        ];
        (0..self.below(12)).map(|_| self.pick(PIECES)).collect()
    }
    fn f64(&mut self) -> f64 {
        match self.below(10) {
            0 => self.pick(&[
                0.0,
                -0.0,
                1e-7,
                1e21,
                5e-324,
                f64::MAX,
                f64::MIN_POSITIVE,
                0.1,
                1.0 / 3.0,
            ]),
            1 => f64::NAN,
            2 => self.pick(&[f64::INFINITY, f64::NEG_INFINITY]),
            3..=5 => f64::from_bits(self.next()), // any bit pattern: subnormals, NaNs, huge, tiny
            _ => (self.next() as i64 as f64) / 1e6,
        }
    }
    fn f32(&mut self) -> f32 {
        match self.below(4) {
            0 => self.pick(&[0.1f32, 1e-45, 3.4028235e38, 16777217.0]),
            _ => f32::from_bits(self.next() as u32),
        }
    }
}

const FEATURES: &[(&str, &str)] = &[
    ("id", "String"),
    ("event_time", "String"),
    ("count", "Integral"),
    ("price", "Fractional"),
    ("ratio", "Fractional"),
    ("name", "String"),
    ("flag", "String"),
    ("amount", "Fractional"),
    ("day", "String"),
];

fn feature_group() -> featurestore_core::model::FeatureGroup {
    let mut definitions: Vec<Value> = FEATURES.iter().map(|(name, t)| feature(name, t)).collect();
    definitions.push(collection("scores", "Integral", "List"));
    definitions.push(collection("labels", "String", "Set"));
    group(&definitions)
}

/// One generated row, as the model sees it.
struct Row {
    id: Option<String>,
    event_time_micros: Option<i64>,
    count: Option<i64>,
    price: Option<f64>,
    ratio: Option<f32>,
    name: Option<String>,
    flag: Option<bool>,
    amount: Option<i128>, // decimal(18, 3)
    day: Option<i32>,
    scores: Option<Vec<Option<i32>>>,
    labels: Option<Vec<String>>,
}

fn generate(rng: &mut Rng, rows: usize) -> Vec<Row> {
    let maybe = |rng: &mut Rng| !rng.chance(8);
    (0..rows)
        .map(|_| Row {
            id: if rng.chance(2) { None } else { Some(rng.text()) },
            event_time_micros: if rng.chance(2) {
                None
            } else {
                // 0000-01-01 .. 9999-12-31, microseconds.
                Some((rng.below(315_569_519_999_999_999) as i64) - 62_167_219_200_000_000)
            },
            count: maybe(rng).then(|| {
                let any = rng.next() as i64;
                rng.pick(&[i64::MIN, i64::MAX, 0, -1, any])
            }),
            price: maybe(rng).then(|| rng.f64()),
            ratio: maybe(rng).then(|| rng.f32()),
            name: maybe(rng).then(|| rng.text()),
            flag: maybe(rng).then(|| rng.chance(50)),
            amount: maybe(rng).then(|| (rng.next() as i64 % 1_000_000_000_000_000_000) as i128),
            day: maybe(rng).then(|| rng.below(3_700_000) as i32 - 719_528),
            scores: maybe(rng).then(|| {
                (0..rng.below(5))
                    .map(|_| {
                        if rng.chance(3) {
                            None
                        } else {
                            Some(rng.next() as i32)
                        }
                    })
                    .collect()
            }),
            labels: maybe(rng).then(|| {
                (0..rng.below(6))
                    .map(|_| rng.pick(&["x", "y", "é\"", "z\n"]).to_string())
                    .collect()
            }),
        })
        .collect()
}

fn to_batch(rows: &[Row], time_zone: Option<&str>) -> RecordBatch {
    let mut scores = ListBuilder::new(Int32Builder::new());
    let mut labels = ListBuilder::new(StringBuilder::new());
    for row in rows {
        match &row.scores {
            Some(values) => scores.append_value(values.iter().copied()),
            None => scores.append_null(),
        }
        match &row.labels {
            Some(values) => labels.append_value(values.iter().map(|v| Some(v.as_str()))),
            None => labels.append_null(),
        }
    }
    batch(vec![
        (
            "id",
            Arc::new(StringArray::from(
                rows.iter().map(|r| r.id.clone()).collect::<Vec<_>>(),
            )) as ArrayRef,
        ),
        (
            "event_time",
            Arc::new(
                TimestampMicrosecondArray::from(rows.iter().map(|r| r.event_time_micros).collect::<Vec<_>>())
                    .with_timezone_opt(time_zone),
            ),
        ),
        (
            "count",
            Arc::new(Int64Array::from(rows.iter().map(|r| r.count).collect::<Vec<_>>())),
        ),
        (
            "price",
            Arc::new(Float64Array::from(
                rows.iter().map(|r| r.price).collect::<Vec<_>>(),
            )),
        ),
        (
            "ratio",
            Arc::new(Float32Array::from(
                rows.iter().map(|r| r.ratio).collect::<Vec<_>>(),
            )),
        ),
        (
            "name",
            Arc::new(StringArray::from(
                rows.iter().map(|r| r.name.clone()).collect::<Vec<_>>(),
            )),
        ),
        (
            "flag",
            Arc::new(BooleanArray::from(
                rows.iter().map(|r| r.flag).collect::<Vec<_>>(),
            )),
        ),
        (
            "amount",
            Arc::new(
                Decimal128Array::from(rows.iter().map(|r| r.amount).collect::<Vec<_>>())
                    .with_precision_and_scale(18, 3)
                    .unwrap(),
            ),
        ),
        (
            "day",
            Arc::new(Date32Array::from(rows.iter().map(|r| r.day).collect::<Vec<_>>())),
        ),
        ("scores", Arc::new(scores.finish())),
        ("labels", Arc::new(labels.finish())),
    ])
}

/// The decimal text of `unscaled` / 1000, by string manipulation of Rust's own integer formatting.
fn decimal_text(unscaled: i128) -> String {
    let digits = format!("{:04}", unscaled.unsigned_abs());
    let (whole, fraction) = digits.split_at(digits.len() - 3);
    format!("{}{whole}.{fraction}", if unscaled < 0 { "-" } else { "" })
}

fn iso_millis(micros: i64) -> String {
    let nanos = i128::from(micros.div_euclid(1_000)) * 1_000_000;
    let instant = time::OffsetDateTime::from_unix_timestamp_nanos(nanos).unwrap();
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    instant.format(&format).unwrap()
}

fn date_text(days: i32) -> Option<String> {
    let date = time::Date::from_julian_day(2_440_588 + days).ok()?;
    (0..=9999).contains(&date.year()).then(|| {
        date.format(time::macros::format_description!("[year]-[month]-[day]"))
            .unwrap()
    })
}

/// Whether `text` has as few significant digits as Rust's own shortest formatting (`{:e}`) of the value.
/// (The digits themselves may differ when two shortest texts are equally near: 1145866.25f32 is
/// `1145866.2` or `1145866.3`, and both read back as the same f32.)
fn has_shortest_digits(text: &str, shortest_sci: &str) -> bool {
    let significant = |s: &str| {
        let mantissa = s.split(['e', 'E']).next().unwrap();
        let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
        digits.trim_start_matches('0').trim_end_matches('0').to_string()
    };
    significant(text).len() == significant(shortest_sci).len()
}

/// The model: what the record of `row` must be, or the rule it must fail with.
fn expected(row: &Row) -> Result<Vec<Value>, &'static str> {
    let Some(id) = &row.id else {
        return Err("null_record_identifier");
    };
    // The record identifier is the first column: its own rules come before the event time's.
    if id.is_empty() {
        return Err("empty_record_identifier");
    }
    let Some(event_time) = row.event_time_micros else {
        return Err("null_event_time");
    };
    let mut record = vec![
        json!({"FeatureName": "id", "ValueAsString": id}),
        json!({"FeatureName": "event_time", "ValueAsString": iso_millis(event_time)}),
    ];
    let mut put = |name: &str, value: Value| {
        let member = if value.is_array() {
            "ValueAsStringList"
        } else {
            "ValueAsString"
        };
        record.push(json!({"FeatureName": name, member: value}));
    };
    if let Some(count) = row.count {
        put("count", json!(count.to_string()));
    }
    if let Some(price) = row.price {
        if !price.is_finite() {
            return Err("non_finite_fractional");
        }
        put("price", json!("<float>"));
    }
    if let Some(ratio) = row.ratio {
        if !ratio.is_finite() {
            return Err("non_finite_fractional");
        }
        put("ratio", json!("<float>"));
    }
    if let Some(name) = &row.name {
        put("name", json!(name));
    }
    if let Some(flag) = row.flag {
        put("flag", json!(flag.to_string()));
    }
    if let Some(amount) = row.amount {
        put("amount", json!(decimal_text(amount)));
    }
    if let Some(day) = row.day {
        match date_text(day) {
            Some(text) => put("day", json!(text)),
            None => return Err("timestamp_out_of_range"),
        }
    }
    if let Some(scores) = &row.scores {
        let mut texts = Vec::new();
        for score in scores {
            texts.push(json!(score.ok_or("null_collection_element")?.to_string()));
        }
        put("scores", Value::Array(texts));
    }
    if let Some(labels) = &row.labels {
        let mut unique: Vec<&String> = Vec::new();
        for label in labels {
            if !unique.contains(&label) {
                unique.push(label);
            }
        }
        put("labels", json!(unique));
    }
    Ok(record)
}

#[test]
fn every_record_is_valid_json_equal_to_the_model_and_every_other_row_fails_as_the_model_says() {
    let group = feature_group();
    let mut rng = Rng(0x5eed_2024);
    let mut checked = (0, 0);
    for round in 0..40 {
        let rows = generate(&mut rng, 500);
        let time_zone = rng.pick(&[Some("UTC"), Some("Asia/Tokyo"), Some("-08:00"), None]);
        let full = to_batch(&rows, time_zone);
        // Half the rounds encode a slice, so offsets into Arrow buffers are exercised too.
        let (first, len) = if round % 2 == 0 {
            (0, rows.len())
        } else {
            (37, 400)
        };
        let b = full.slice(first, len);
        let encoder = RecordEncoder::new(&group, b.schema_ref(), false).unwrap();
        let mut out = EncodedBatch::default();
        encoder.encode(&b, 0, &mut out);
        assert_eq!(out.row_count(), len);

        let mut outcome: Vec<Option<Result<Value, String>>> = vec![None; len];
        for span in out.records() {
            let record: Value = serde_json::from_slice(out.record_json(span)).expect("valid JSON");
            outcome[span.row as usize] = Some(Ok(record));
        }
        for failed in out.failed() {
            outcome[failed.row as usize] = Some(Err(failed.reason.code.clone()));
        }
        for (index, actual) in outcome.into_iter().enumerate() {
            let row = &rows[first + index];
            match (expected(row), actual.expect("every row accounted for")) {
                (Ok(expected), Ok(Value::Array(mut actual))) => {
                    for entry in &mut actual {
                        let name = entry["FeatureName"].as_str().unwrap().to_string();
                        let text = entry["ValueAsString"].as_str().map(str::to_string);
                        match (name.as_str(), text) {
                            // Floats: the text must read back as the same value with the fewest digits;
                            // then it is replaced by the model's marker to compare the rest structurally.
                            ("price", Some(text)) => {
                                let price = row.price.unwrap();
                                let parsed: f64 = text.parse().unwrap();
                                assert_eq!(parsed.to_bits(), price.to_bits(), "'{text}' is not {price:e}");
                                assert!(
                                    has_shortest_digits(&text, &format!("{price:e}")),
                                    "'{text}' vs {price:e}"
                                );
                                entry["ValueAsString"] = json!("<float>");
                            }
                            ("ratio", Some(text)) => {
                                let ratio = row.ratio.unwrap();
                                let parsed: f32 = text.parse().unwrap();
                                assert_eq!(parsed.to_bits(), ratio.to_bits(), "'{text}' is not {ratio:e}");
                                assert!(
                                    has_shortest_digits(&text, &format!("{ratio:e}")),
                                    "'{text}' vs {ratio:e}"
                                );
                                entry["ValueAsString"] = json!("<float>");
                            }
                            _ => {}
                        }
                    }
                    assert_eq!(
                        Value::Array(actual),
                        Value::Array(expected),
                        "round {round}, row {index}"
                    );
                    checked.0 += 1;
                }
                (Err(rule), Err(code)) => {
                    assert_eq!(code, rule, "round {round}, row {index}");
                    checked.1 += 1;
                }
                (expected, actual) => {
                    panic!("round {round}, row {index}: expected {expected:?}, got {actual:?}")
                }
            }
        }
    }
    // Both paths were exercised broadly.
    assert!(checked.0 > 3_000 && checked.1 > 3_000, "{checked:?}");
}
