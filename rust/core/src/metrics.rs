//! A writer's counters, read as one `long[]` by the Spark side.
//!
//! [`METRIC_NAMES`] fixes the order; a Scala constant repeats it and a test there checks they agree, so append
//! new metrics at the end and never reorder. Counters are atomics updated by the writer's I/O tasks and read
//! without locks by [`Stats::snapshot`].

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

pub const METRIC_COUNT: usize = 14;

/// Names of [`Stats::snapshot`]'s entries, in order.
pub const METRIC_NAMES: [&str; METRIC_COUNT] = [
    // Rows handed to the writer (encoded or failed by the encoder).
    "rowsAccepted",
    // Rows the service acknowledged (and, in a dry run, rows that encoded: see rowsDryRun).
    "rowsAcknowledged",
    // Rows failed for good: client-side validation, terminal service errors, retries exhausted, abort.
    "rowsFailed",
    // Record attempts beyond each record's first.
    "rowsRetried",
    // Calls answered with throttling (HTTP 429 / ThrottlingException), including BatchWriteRecord calls that
    // returned throttled entries.
    "requestsThrottled",
    // HTTP calls sent (every attempt counts).
    "requests",
    // Request body bytes sent.
    "bytesSent",
    // Rows counted as acknowledged without being sent because the writer runs with dryRun.
    "rowsDryRun",
    // Sum, maximum, median and 99th percentile of call latencies (send to full response), in milliseconds.
    "requestLatencyTotalMs",
    "requestLatencyMaxMs",
    "requestLatencyP50Ms",
    "requestLatencyP99Ms",
    // The adaptive rate of the writer's endpoint and feature group when the snapshot was taken, in records per
    // second (shared by every writer sending there in this process); 0 while the service has not limited it.
    "adaptiveRate",
    // Rows whose record the service deleted (operation=delete); they count as acknowledged too.
    "rowsDeleted",
];

/// Indexes into [`METRIC_NAMES`], for readers in Rust.
pub mod index {
    pub const ROWS_ACCEPTED: usize = 0;
    pub const ROWS_ACKNOWLEDGED: usize = 1;
    pub const ROWS_FAILED: usize = 2;
    pub const ROWS_RETRIED: usize = 3;
    pub const REQUESTS_THROTTLED: usize = 4;
    pub const REQUESTS: usize = 5;
    pub const BYTES_SENT: usize = 6;
    pub const ROWS_DRY_RUN: usize = 7;
    pub const LATENCY_TOTAL_MS: usize = 8;
    pub const LATENCY_MAX_MS: usize = 9;
    pub const LATENCY_P50_MS: usize = 10;
    pub const LATENCY_P99_MS: usize = 11;
    pub const ADAPTIVE_RATE: usize = 12;
    pub const ROWS_DELETED: usize = 13;
}

/// The counters of one writer.
#[derive(Debug, Default)]
pub struct Stats {
    pub rows_accepted: AtomicI64,
    pub rows_acknowledged: AtomicI64,
    pub rows_failed: AtomicI64,
    pub rows_retried: AtomicI64,
    pub requests_throttled: AtomicI64,
    pub requests: AtomicI64,
    pub bytes_sent: AtomicI64,
    pub rows_dry_run: AtomicI64,
    pub rows_deleted: AtomicI64,
    pub latency: LatencyHistogram,
}

impl Stats {
    pub fn add(counter: &AtomicI64, n: usize) {
        counter.fetch_add(i64::try_from(n).unwrap_or(i64::MAX), Ordering::Relaxed);
    }

    pub fn get(counter: &AtomicI64) -> i64 {
        counter.load(Ordering::Relaxed)
    }

    /// Every metric, in [`METRIC_NAMES`] order. `adaptive_rate` comes from the writer's throughput controller.
    pub fn snapshot(&self, adaptive_rate: Option<f64>) -> [i64; METRIC_COUNT] {
        let latency = self.latency.summary();
        let get = Self::get;
        [
            get(&self.rows_accepted),
            get(&self.rows_acknowledged),
            get(&self.rows_failed),
            get(&self.rows_retried),
            get(&self.requests_throttled),
            get(&self.requests),
            get(&self.bytes_sent),
            get(&self.rows_dry_run),
            latency.total_ms,
            latency.max_ms,
            latency.p50_ms,
            latency.p99_ms,
            adaptive_rate.map_or(0, |rate| rate.round().max(1.0) as i64),
            get(&self.rows_deleted),
        ]
    }
}

/// Buckets per power of two: quantiles are exact to within 1/8 (12.5%) of the value.
const SUB_BUCKETS: usize = 8;
/// Powers of two of microseconds covered: up to 2^32 µs (71 minutes), far beyond any request timeout.
const OCTAVES: usize = 32;

/// A log-linear histogram of latencies in microseconds, lock-free to record (one atomic add).
#[derive(Debug)]
pub struct LatencyHistogram {
    buckets: Box<[AtomicU64]>,
    total_us: AtomicU64,
    max_us: AtomicU64,
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        Self {
            buckets: (0..OCTAVES * SUB_BUCKETS).map(|_| AtomicU64::new(0)).collect(),
            total_us: AtomicU64::new(0),
            max_us: AtomicU64::new(0),
        }
    }
}

/// Latency figures in milliseconds (rounded up, so a non-zero latency never shows as 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LatencySummary {
    pub count: u64,
    pub total_ms: i64,
    pub max_ms: i64,
    pub p50_ms: i64,
    pub p99_ms: i64,
}

impl LatencyHistogram {
    pub fn record(&self, latency: Duration) {
        let us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        self.buckets[bucket_of(us)].fetch_add(1, Ordering::Relaxed);
        self.total_us.fetch_add(us, Ordering::Relaxed);
        self.max_us.fetch_max(us, Ordering::Relaxed);
    }

    pub fn summary(&self) -> LatencySummary {
        let counts: Vec<u64> = self.buckets.iter().map(|b| b.load(Ordering::Relaxed)).collect();
        let count: u64 = counts.iter().sum();
        let quantile_us = |q: f64| -> u64 {
            if count == 0 {
                return 0;
            }
            // The rank of the q-quantile, 1-based; the bucket holding it reports its upper bound.
            let rank = ((count as f64) * q).ceil().max(1.0) as u64;
            let mut seen = 0;
            for (bucket, n) in counts.iter().enumerate() {
                seen += n;
                if seen >= rank {
                    return bucket_upper_bound(bucket);
                }
            }
            self.max_us.load(Ordering::Relaxed)
        };
        let max_us = self.max_us.load(Ordering::Relaxed);
        // A bucket's upper bound may exceed the largest value seen: never report a quantile above the max.
        let ms = |us: u64| i64::try_from(us.div_ceil(1000)).unwrap_or(i64::MAX);
        LatencySummary {
            count,
            total_ms: ms(self.total_us.load(Ordering::Relaxed)),
            max_ms: ms(max_us),
            p50_ms: ms(quantile_us(0.50).min(max_us)),
            p99_ms: ms(quantile_us(0.99).min(max_us)),
        }
    }
}

/// Values below `SUB_BUCKETS` get a bucket each; above, each power of two is split in `SUB_BUCKETS` parts.
fn bucket_of(us: u64) -> usize {
    if us < SUB_BUCKETS as u64 {
        return us as usize;
    }
    let octave = 63 - us.leading_zeros() as usize; // floor(log2(us)) >= 3
    let shift = octave - 3; // SUB_BUCKETS = 2^3
    let sub = ((us >> shift) as usize) & (SUB_BUCKETS - 1);
    let bucket = (octave - 2) * SUB_BUCKETS + sub;
    bucket.min(OCTAVES * SUB_BUCKETS - 1)
}

/// The largest value that falls in `bucket`.
fn bucket_upper_bound(bucket: usize) -> u64 {
    if bucket < SUB_BUCKETS {
        return bucket as u64;
    }
    let octave = bucket / SUB_BUCKETS + 2;
    let sub = (bucket % SUB_BUCKETS) as u64;
    let shift = octave - 3;
    ((SUB_BUCKETS as u64 + sub + 1) << shift) - 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_indexes_point_at_them() {
        let mut names = METRIC_NAMES.to_vec();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), METRIC_COUNT);
        assert_eq!(METRIC_NAMES[index::ROWS_ACCEPTED], "rowsAccepted");
        assert_eq!(METRIC_NAMES[index::ROWS_DRY_RUN], "rowsDryRun");
        assert_eq!(METRIC_NAMES[index::LATENCY_P99_MS], "requestLatencyP99Ms");
        assert_eq!(METRIC_NAMES[index::ADAPTIVE_RATE], "adaptiveRate");
    }

    #[test]
    fn every_value_lands_in_a_bucket_whose_bounds_hold_it() {
        let mut previous_upper = None;
        for bucket in 0..OCTAVES * SUB_BUCKETS - 1 {
            let upper = bucket_upper_bound(bucket);
            assert_eq!(bucket_of(upper), bucket, "upper bound of {bucket}");
            assert_eq!(bucket_of(upper + 1), bucket + 1, "value after {bucket}");
            if let Some(previous) = previous_upper {
                assert!(upper > previous);
            }
            previous_upper = Some(upper);
        }
        // Bucket width stays within 1/8 of its values.
        let b = bucket_of(1_000_000);
        let width = bucket_upper_bound(b) - bucket_upper_bound(b - 1);
        assert!(width as f64 / 1_000_000.0 <= 0.125);
    }

    #[test]
    fn summary_reports_total_max_and_quantiles_in_ms() {
        let histogram = LatencyHistogram::default();
        for ms in 1..=100u64 {
            histogram.record(Duration::from_millis(ms));
        }
        let summary = histogram.summary();
        assert_eq!(summary.count, 100);
        assert_eq!(summary.total_ms, 5050);
        assert_eq!(summary.max_ms, 100);
        assert!((50..=57).contains(&summary.p50_ms), "{summary:?}");
        assert!((99..=100).contains(&summary.p99_ms), "{summary:?}");
        assert_eq!(LatencyHistogram::default().summary().p99_ms, 0);
    }

    #[test]
    fn snapshot_follows_the_names_order() {
        let stats = Stats::default();
        Stats::add(&stats.rows_accepted, 10);
        Stats::add(&stats.rows_acknowledged, 7);
        Stats::add(&stats.rows_failed, 3);
        Stats::add(&stats.bytes_sent, 1234);
        stats.latency.record(Duration::from_micros(2500));
        let snapshot = stats.snapshot(Some(1_999.6));
        assert_eq!(snapshot[index::ROWS_ACCEPTED], 10);
        assert_eq!(snapshot[index::ROWS_ACKNOWLEDGED], 7);
        assert_eq!(snapshot[index::ROWS_FAILED], 3);
        assert_eq!(snapshot[index::BYTES_SENT], 1234);
        assert_eq!(snapshot[index::LATENCY_TOTAL_MS], 3);
        assert_eq!(snapshot[index::LATENCY_MAX_MS], 3);
        assert_eq!(snapshot[index::ADAPTIVE_RATE], 2_000);
        assert_eq!(stats.snapshot(None)[index::ADAPTIVE_RATE], 0);
    }
}
