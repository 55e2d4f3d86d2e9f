//! Encoding cost per value for each Arrow type, and per record for a 20-feature mixed record.
//!
//! Run: `cargo bench -p featurestore-core --bench encode` (add `-- <filter>` for a subset).
//!
//! `per_value/<type>`: batches of 4,096 rows, each with a record identifier (Int64) and an event time
//! (Timestamp(µs, UTC)) plus 16 columns of the measured type. Each sample encodes that batch and the same
//! rows without the 16 columns, back to back, and reports the difference divided by the 65,536 values:
//! criterion's `time` is the cost of one value of that type (null check, JSON framing, text, limits).
//! Times are the thread's CPU time (CLOCK_THREAD_CPUTIME_ID), not wall time.
//! `record/mixed_20_features`: the cost of a whole record of 20 features (framing included), the unit of
//! the engine's CPU budget (<= 3 µs per record end to end).
// A bench may panic on a broken setup: that is how it fails.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use arrow_array::builder::{FixedSizeListBuilder, Float32Builder, Int64Builder, ListBuilder, StringBuilder};
use arrow_array::types::Int32Type;
use arrow_array::*;
use arrow_schema::{Field, Schema};
use criterion::{Criterion, criterion_group, criterion_main};
use featurestore_core::encode::RecordEncoder;
use featurestore_core::model::FeatureGroup;
use featurestore_core::record::EncodedBatch;
use serde_json::{Value, json};

const ROWS: usize = 4_096;
const TYPED_COLUMNS: usize = 16;

/// SplitMix64, seeded: the same data every run.
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
    fn word(&mut self, len: usize) -> String {
        (0..len).map(|_| (b'a' + self.below(26) as u8) as char).collect()
    }
}

fn group(definitions: Vec<Value>) -> FeatureGroup {
    let mut features = vec![
        json!({"FeatureName": "id", "FeatureType": "Integral"}),
        json!({"FeatureName": "event_time", "FeatureType": "String"}),
    ];
    features.extend(definitions);
    let response = json!({
        "FeatureGroupArn": "arn:aws:sagemaker:us-east-1:123456789012:feature-group/bench",
        "FeatureGroupName": "bench",
        "RecordIdentifierFeatureName": "id",
        "EventTimeFeatureName": "event_time",
        "FeatureDefinitions": features,
        "OnlineStoreConfig": {"EnableOnlineStore": true, "StorageType": "InMemory"},
    });
    FeatureGroup::from_describe_json(&response.to_string()).unwrap()
}

fn batch(columns: Vec<(String, ArrayRef)>) -> RecordBatch {
    let fields: Vec<Field> = columns
        .iter()
        .map(|(name, array)| Field::new(name, array.data_type().clone(), true))
        .collect();
    RecordBatch::try_new(
        Arc::new(Schema::new(fields)),
        columns.into_iter().map(|(_, array)| array).collect(),
    )
    .unwrap()
}

/// The record identifier and event time columns every record has.
fn base_columns(rng: &mut Rng) -> Vec<(String, ArrayRef)> {
    let ids: Vec<i64> = (0..ROWS as i64).map(|i| 1_000_000 + i).collect();
    let times: Vec<i64> = (0..ROWS)
        .map(|_| 1_700_000_000_000_000 + rng.below(100_000_000_000_000) as i64)
        .collect();
    vec![
        ("id".into(), Arc::new(Int64Array::from(ids)) as ArrayRef),
        (
            "event_time".into(),
            Arc::new(TimestampMicrosecondArray::from(times).with_timezone("UTC")),
        ),
    ]
}

/// CPU time of the calling thread: what the engine's budget counts, and steady on a machine shared with
/// other work (wall time is not).
fn thread_cpu_time() -> Duration {
    #[repr(C)]
    struct Timespec {
        seconds: i64,
        nanoseconds: i64,
    }
    unsafe extern "C" {
        fn clock_gettime(clock: i32, time: *mut Timespec) -> i32;
    }
    const CLOCK_THREAD_CPUTIME_ID: i32 = 3;
    let mut time = Timespec {
        seconds: 0,
        nanoseconds: 0,
    };
    // SAFETY: clock_gettime is the C library's (linked by std on Linux); it writes one timespec, which on
    // 64-bit Linux is two i64s, into the valid, exclusively borrowed `time`.
    let status = unsafe { clock_gettime(CLOCK_THREAD_CPUTIME_ID, &mut time) };
    assert_eq!(status, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
    Duration::new(time.seconds as u64, time.nanoseconds as u32)
}

fn encode(encoder: &RecordEncoder, batch: &RecordBatch) -> Duration {
    let mut out = EncodedBatch::with_capacity(batch.num_rows(), 0);
    let start = thread_cpu_time();
    encoder.encode(batch, 0, &mut out);
    let elapsed = thread_cpu_time() - start;
    assert_eq!(out.failed().len(), 0, "{:?}", out.failed().first());
    black_box(out);
    elapsed
}

/// One benchmark of a column type: `make` builds one column of ROWS values.
struct TypeCase {
    name: &'static str,
    feature: fn(&str) -> Value,
    make: fn(&mut Rng) -> ArrayRef,
}

fn scalar(feature_type: &'static str) -> impl Fn(&str) -> Value {
    move |name| json!({"FeatureName": name, "FeatureType": feature_type})
}

fn bench_per_value(c: &mut Criterion) {
    let cases = [
        TypeCase {
            name: "int8_integral",
            feature: |n| scalar("Integral")(n),
            make: |rng| Arc::new(Int8Array::from_iter_values((0..ROWS).map(|_| rng.next() as i8))),
        },
        TypeCase {
            name: "int16_integral",
            feature: |n| scalar("Integral")(n),
            make: |rng| Arc::new(Int16Array::from_iter_values((0..ROWS).map(|_| rng.next() as i16))),
        },
        TypeCase {
            name: "int32_integral",
            feature: |n| scalar("Integral")(n),
            make: |rng| Arc::new(Int32Array::from_iter_values((0..ROWS).map(|_| rng.next() as i32))),
        },
        TypeCase {
            name: "int64_integral",
            feature: |n| scalar("Integral")(n),
            make: |rng| Arc::new(Int64Array::from_iter_values((0..ROWS).map(|_| rng.next() as i64))),
        },
        TypeCase {
            name: "int64_integral_half_null",
            feature: |n| scalar("Integral")(n),
            make: |rng| {
                Arc::new(Int64Array::from_iter(
                    (0..ROWS)
                        .map(|_| rng.next())
                        .map(|v| (v & 1 == 0).then_some(v as i64 >> 1)),
                ))
            },
        },
        TypeCase {
            name: "uint64_integral",
            feature: |n| scalar("Integral")(n),
            make: |rng| Arc::new(UInt64Array::from_iter_values((0..ROWS).map(|_| rng.next() >> 1))),
        },
        TypeCase {
            name: "float32_fractional",
            feature: |n| scalar("Fractional")(n),
            make: |rng| {
                Arc::new(Float32Array::from_iter_values(
                    (0..ROWS).map(|_| rng.below(100_000_000) as f32 / 1_000.0),
                ))
            },
        },
        TypeCase {
            name: "float64_fractional",
            feature: |n| scalar("Fractional")(n),
            make: |rng| {
                Arc::new(Float64Array::from_iter_values(
                    (0..ROWS).map(|_| rng.below(1 << 53) as f64 / 1_000_000.0),
                ))
            },
        },
        TypeCase {
            name: "float64_string",
            feature: |n| scalar("String")(n),
            make: |rng| {
                Arc::new(Float64Array::from_iter_values(
                    (0..ROWS).map(|_| rng.below(1 << 53) as f64 / 1_000_000.0),
                ))
            },
        },
        TypeCase {
            name: "decimal128_fractional",
            feature: |n| scalar("Fractional")(n),
            make: |rng| {
                Arc::new(
                    Decimal128Array::from_iter_values((0..ROWS).map(|_| rng.below(1 << 50) as i128))
                        .with_precision_and_scale(18, 4)
                        .unwrap(),
                )
            },
        },
        TypeCase {
            name: "decimal128_integral",
            feature: |n| scalar("Integral")(n),
            make: |rng| {
                Arc::new(
                    Decimal128Array::from_iter_values((0..ROWS).map(|_| rng.below(1 << 50) as i128))
                        .with_precision_and_scale(18, 0)
                        .unwrap(),
                )
            },
        },
        TypeCase {
            name: "bool_string",
            feature: |n| scalar("String")(n),
            make: |rng| {
                Arc::new(BooleanArray::from_iter(
                    (0..ROWS).map(|_| Some(rng.next() & 1 == 0)),
                ))
            },
        },
        TypeCase {
            name: "utf8_12_chars_string",
            feature: |n| scalar("String")(n),
            make: |rng| Arc::new(StringArray::from_iter_values((0..ROWS).map(|_| rng.word(12)))),
        },
        TypeCase {
            name: "utf8_64_chars_escapes_unicode_string",
            feature: |n| scalar("String")(n),
            make: |rng| {
                Arc::new(StringArray::from_iter_values(
                    (0..ROWS).map(|_| format!("{} \"q\" é\n{}", rng.word(27), rng.word(27))),
                ))
            },
        },
        TypeCase {
            name: "large_utf8_12_chars_string",
            feature: |n| scalar("String")(n),
            make: |rng| {
                Arc::new(LargeStringArray::from_iter_values(
                    (0..ROWS).map(|_| rng.word(12)),
                ))
            },
        },
        TypeCase {
            name: "utf8_view_12_chars_string",
            feature: |n| scalar("String")(n),
            make: |rng| Arc::new(StringViewArray::from_iter_values((0..ROWS).map(|_| rng.word(12)))),
        },
        TypeCase {
            name: "dictionary_utf8_string",
            feature: |n| scalar("String")(n),
            make: |rng| {
                let words: Vec<String> = (0..16).map(|_| rng.word(10)).collect();
                let column: DictionaryArray<Int32Type> = (0..ROWS)
                    .map(|_| words[rng.below(16) as usize].as_str())
                    .collect();
                Arc::new(column)
            },
        },
        TypeCase {
            name: "timestamp_ms_iso_string",
            feature: |n| scalar("String")(n),
            make: |rng| {
                Arc::new(TimestampMillisecondArray::from_iter_values(
                    (0..ROWS).map(|_| 1_700_000_000_000 + rng.below(100_000_000_000) as i64),
                ))
            },
        },
        TypeCase {
            name: "timestamp_us_tz_iso_string",
            feature: |n| scalar("String")(n),
            make: |rng| {
                Arc::new(
                    TimestampMicrosecondArray::from_iter_values(
                        (0..ROWS).map(|_| 1_700_000_000_000_000 + rng.below(100_000_000_000_000) as i64),
                    )
                    .with_timezone("America/New_York"),
                )
            },
        },
        TypeCase {
            name: "timestamp_us_epoch_fractional",
            feature: |n| scalar("Fractional")(n),
            make: |rng| {
                Arc::new(TimestampMicrosecondArray::from_iter_values((0..ROWS).map(|_| {
                    1_700_000_000_000_000 + rng.below(100_000_000_000_000) as i64
                })))
            },
        },
        TypeCase {
            name: "date32_string",
            feature: |n| scalar("String")(n),
            make: |rng| {
                Arc::new(Date32Array::from_iter_values(
                    (0..ROWS).map(|_| rng.below(30_000) as i32),
                ))
            },
        },
        TypeCase {
            name: "list_int64_x4_list",
            feature: |n| json!({"FeatureName": n, "FeatureType": "Integral", "CollectionType": "List"}),
            make: |rng| {
                let mut builder = ListBuilder::new(Int64Builder::new());
                for _ in 0..ROWS {
                    builder.append_value((0..4).map(|_| Some(rng.below(1_000_000) as i64)));
                }
                Arc::new(builder.finish())
            },
        },
        TypeCase {
            name: "list_utf8_x4_set",
            feature: |n| json!({"FeatureName": n, "FeatureType": "String", "CollectionType": "Set"}),
            make: |rng| {
                let mut builder = ListBuilder::new(StringBuilder::new());
                for _ in 0..ROWS {
                    builder.append_value((0..4).map(|_| Some(rng.word(8))));
                }
                Arc::new(builder.finish())
            },
        },
        TypeCase {
            name: "fixed_size_list_float32_x16_vector",
            feature: |n| {
                json!({"FeatureName": n, "FeatureType": "Fractional", "CollectionType": "Vector",
                       "CollectionConfig": {"VectorConfig": {"Dimension": 16}}})
            },
            make: |rng| {
                let mut builder = FixedSizeListBuilder::new(Float32Builder::new(), 16);
                for _ in 0..ROWS {
                    for _ in 0..16 {
                        builder
                            .values()
                            .append_value(rng.below(2_000_000) as f32 / 1_000_000.0 - 1.0);
                    }
                    builder.append(true);
                }
                Arc::new(builder.finish())
            },
        },
    ];

    let mut benches = c.benchmark_group("per_value");
    benches
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    for case in cases {
        let mut rng = Rng(0x00be_ac4e);
        let base_columns = base_columns(&mut rng);
        let base_batch = batch(base_columns.clone());
        let mut columns = base_columns;
        let mut definitions = Vec::new();
        for i in 0..TYPED_COLUMNS {
            let name = format!("c{i}");
            definitions.push((case.feature)(&name));
            columns.push((name, (case.make)(&mut rng)));
        }
        let group = group(definitions);
        let typed_batch = batch(columns);
        let typed = RecordEncoder::new(&group, typed_batch.schema_ref(), false).unwrap();
        let base = RecordEncoder::new(&group, base_batch.schema_ref(), false).unwrap();
        let values_per_batch = (ROWS * TYPED_COLUMNS) as u64;
        benches.bench_function(case.name, |b| {
            b.iter_custom(|iters| {
                // One criterion iteration is one value: encode enough batches to cover `iters` values.
                let batches = iters.div_ceil(values_per_batch).max(1);
                let (mut with_type, mut without) = (Duration::ZERO, Duration::ZERO);
                for _ in 0..batches {
                    with_type += encode(&typed, &typed_batch);
                    without += encode(&base, &base_batch);
                }
                let extra = with_type.saturating_sub(without);
                extra.mul_f64(iters as f64 / (batches * values_per_batch) as f64)
            })
        });
    }
    benches.finish();
}

/// A typical record of 20 features: identifier, event time, 6 integers, 6 doubles, 4 short strings, a
/// date and a decimal.
fn bench_mixed_record(c: &mut Criterion) {
    let mut rng = Rng(0x2020_2020);
    let mut columns: Vec<(String, ArrayRef)> = vec![
        (
            "id".into(),
            Arc::new(StringArray::from_iter_values(
                (0..ROWS).map(|i| format!("customer-{i:08}")),
            )),
        ),
        base_columns(&mut rng).remove(1),
    ];
    let mut definitions = vec![
        json!({"FeatureName": "id", "FeatureType": "String"}),
        json!({"FeatureName": "event_time", "FeatureType": "String"}),
    ];
    for i in 0..6 {
        definitions.push(scalar("Integral")(&format!("count_{i}")));
        columns.push((
            format!("count_{i}"),
            Arc::new(Int64Array::from_iter_values(
                (0..ROWS).map(|_| rng.below(10_000_000) as i64),
            )),
        ));
    }
    for i in 0..6 {
        definitions.push(scalar("Fractional")(&format!("score_{i}")));
        columns.push((
            format!("score_{i}"),
            Arc::new(Float64Array::from_iter_values(
                (0..ROWS).map(|_| rng.below(1 << 40) as f64 / 65_536.0),
            )),
        ));
    }
    for i in 0..4 {
        definitions.push(scalar("String")(&format!("label_{i}")));
        columns.push((
            format!("label_{i}"),
            Arc::new(StringArray::from_iter_values((0..ROWS).map(|_| rng.word(10)))),
        ));
    }
    definitions.push(scalar("String")("signup_date"));
    columns.push((
        "signup_date".into(),
        Arc::new(Date32Array::from_iter_values(
            (0..ROWS).map(|_| 15_000 + rng.below(5_000) as i32),
        )),
    ));
    definitions.push(scalar("Fractional")("balance"));
    columns.push((
        "balance".into(),
        Arc::new(
            Decimal128Array::from_iter_values((0..ROWS).map(|_| rng.below(100_000_000) as i128))
                .with_precision_and_scale(12, 2)
                .unwrap(),
        ),
    ));
    let describe = json!({
        "FeatureGroupArn": "arn:aws:sagemaker:us-east-1:123456789012:feature-group/mixed",
        "FeatureGroupName": "mixed",
        "RecordIdentifierFeatureName": "id",
        "EventTimeFeatureName": "event_time",
        "FeatureDefinitions": definitions,
    });
    let group = FeatureGroup::from_describe_json(&describe.to_string()).unwrap();
    let mixed = batch(columns);
    assert_eq!(mixed.num_columns(), 20);
    let encoder = RecordEncoder::new(&group, mixed.schema_ref(), false).unwrap();

    let mut benches = c.benchmark_group("record");
    benches
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    benches.bench_function("mixed_20_features", |b| {
        b.iter_custom(|iters| {
            // One criterion iteration is one record.
            let batches = iters.div_ceil(ROWS as u64).max(1);
            let mut total = Duration::ZERO;
            for _ in 0..batches {
                total += encode(&encoder, &mixed);
            }
            total.mul_f64(iters as f64 / (batches * ROWS as u64) as f64)
        })
    });
    benches.finish();
}

criterion_group!(benches, bench_per_value, bench_mixed_record);
criterion_main!(benches);
