//! What the server counts (requests, records, errors by code, throttling, writes by feature group), read by tests
//! and benchmarks through `Server::stats` or `GET /_local/stats`.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::error::ErrorCode;
use crate::model::operation::Operation;

/// A snapshot of the counters since the server started or since the last reset.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Stats {
    pub seconds_since_reset: f64,
    /// Every request, admin API excluded.
    pub requests: u64,
    pub requests_by_operation: BTreeMap<String, u64>,
    /// Records accepted, by operation (PutRecord, BatchWriteRecord).
    pub records_written: BTreeMap<String, u64>,
    /// Records refused: a PutRecord answered with an error, a BatchWriteRecord entry in `Errors`.
    pub records_rejected: u64,
    /// BatchWriteRecord entries returned in `UnprocessedEntries`.
    pub records_unprocessed: u64,
    /// Records returned by GetRecord and BatchGetRecord.
    pub records_read: u64,
    /// DeleteRecord calls that were applied.
    pub records_deleted: u64,
    /// Whole requests answered with an error, by code (injected faults included).
    pub errors_by_code: BTreeMap<String, u64>,
    /// Per-entry errors inside successful BatchWriteRecord and BatchGetRecord responses, by code.
    pub entry_errors_by_code: BTreeMap<String, u64>,
    /// Requests answered ThrottlingException (injected or over the records-per-second ceiling).
    pub throttled: u64,
    /// Connections reset by fault injection.
    pub connection_resets: u64,
    /// Latency added by fault injection, summed over requests, in milliseconds (as requested; timers add a
    /// little more).
    pub injected_latency_ms: u64,
    /// Rows written to the offline store's Parquet files, and the files.
    pub offline_rows_written: u64,
    pub offline_files_written: u64,
    /// Writes by feature group name, e.g. `{"customers": {"requests": 4, "records_written": 75, "throttled": 1}}`.
    pub by_group: BTreeMap<String, GroupStats>,
    /// Requests by the access key id their SigV4 `Authorization` header names, whether or not signatures are
    /// checked: which credentials a client signed with (temporary ones from STS included).
    pub requests_by_access_key: BTreeMap<String, u64>,
}

/// What the writes to one feature group did, in [`Stats::by_group`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct GroupStats {
    /// PutRecord and BatchWriteRecord calls with records of the group that were processed or throttled (calls
    /// refused before their records were looked at, or failed by other injected faults, are not counted).
    pub requests: u64,
    /// Records of the group accepted.
    pub records_written: u64,
    /// Those calls answered ThrottlingException: a records-per-second limit or injected throttling.
    pub throttled: u64,
}

const OPERATIONS: usize = Operation::ALL.len();

/// The live counters behind [`Stats`]: atomics on the hot path, a mutex for errors and one lock per write
/// request for the counts by feature group.
#[derive(Debug)]
pub(crate) struct StatsCollector {
    since: Mutex<Instant>,
    requests: [AtomicU64; OPERATIONS],
    unknown_requests: AtomicU64,
    records_written: [AtomicU64; OPERATIONS],
    records_rejected: AtomicU64,
    records_unprocessed: AtomicU64,
    records_read: AtomicU64,
    records_deleted: AtomicU64,
    throttled: AtomicU64,
    connection_resets: AtomicU64,
    injected_latency_ms: AtomicU64,
    offline_rows_written: AtomicU64,
    offline_files_written: AtomicU64,
    errors: Mutex<BTreeMap<ErrorCode, u64>>,
    entry_errors: Mutex<BTreeMap<String, u64>>,
    by_group: Mutex<HashMap<String, GroupStats>>,
    by_access_key: Mutex<HashMap<String, u64>>,
}

fn add(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Ordering::Relaxed);
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl StatsCollector {
    pub fn new() -> Self {
        Self {
            since: Mutex::new(Instant::now()),
            requests: std::array::from_fn(|_| AtomicU64::new(0)),
            unknown_requests: AtomicU64::new(0),
            records_written: std::array::from_fn(|_| AtomicU64::new(0)),
            records_rejected: AtomicU64::new(0),
            records_unprocessed: AtomicU64::new(0),
            records_read: AtomicU64::new(0),
            records_deleted: AtomicU64::new(0),
            throttled: AtomicU64::new(0),
            connection_resets: AtomicU64::new(0),
            injected_latency_ms: AtomicU64::new(0),
            offline_rows_written: AtomicU64::new(0),
            offline_files_written: AtomicU64::new(0),
            errors: Mutex::new(BTreeMap::new()),
            entry_errors: Mutex::new(BTreeMap::new()),
            by_group: Mutex::new(HashMap::new()),
            by_access_key: Mutex::new(HashMap::new()),
        }
    }

    /// A request signed with `access_key_id`.
    pub fn signed_by(&self, access_key_id: &str) {
        let mut by_key = lock(&self.by_access_key);
        match by_key.get_mut(access_key_id) {
            Some(count) => *count += 1,
            None => {
                by_key.insert(access_key_id.to_owned(), 1);
            }
        }
    }

    pub fn request(&self, operation: Option<Operation>) {
        match operation {
            Some(op) => add(&self.requests[op.index()], 1),
            None => add(&self.unknown_requests, 1),
        }
    }

    pub fn records_written(&self, operation: Operation, n: u64) {
        add(&self.records_written[operation.index()], n);
    }

    pub fn records_rejected(&self, n: u64) {
        add(&self.records_rejected, n);
    }

    pub fn records_unprocessed(&self, n: u64) {
        add(&self.records_unprocessed, n);
    }

    pub fn records_read(&self, n: u64) {
        add(&self.records_read, n);
    }

    pub fn record_deleted(&self) {
        add(&self.records_deleted, 1);
    }

    pub fn connection_reset(&self) {
        add(&self.connection_resets, 1);
    }

    pub fn injected_latency(&self, ms: u64) {
        add(&self.injected_latency_ms, ms);
    }

    pub fn offline_flushed(&self, rows: u64, files: u64) {
        add(&self.offline_rows_written, rows);
        add(&self.offline_files_written, files);
    }

    /// A whole request answered with an error.
    pub fn error(&self, code: ErrorCode) {
        if code == ErrorCode::ThrottlingException {
            add(&self.throttled, 1);
        }
        *lock(&self.errors).entry(code).or_insert(0) += 1;
    }

    /// Per-entry errors of a batch response, by code.
    pub fn entry_errors<'a>(&self, codes: impl IntoIterator<Item = &'a str>) {
        let mut entry_errors = lock(&self.entry_errors);
        for code in codes {
            match entry_errors.get_mut(code) {
                Some(count) => *count += 1,
                None => {
                    entry_errors.insert(code.to_owned(), 1);
                }
            }
        }
    }

    /// One write request, for each feature group it had records of: the group's name and how many of its
    /// records were written; `throttled` when the request was answered ThrottlingException.
    pub fn write_by_group<'a>(&self, groups: impl IntoIterator<Item = (&'a str, u64)>, throttled: bool) {
        let mut by_group = lock(&self.by_group);
        for (name, written) in groups {
            let counts = match by_group.get_mut(name) {
                Some(counts) => counts,
                None => by_group.entry(name.to_owned()).or_default(),
            };
            counts.requests += 1;
            counts.records_written += written;
            counts.throttled += u64::from(throttled);
        }
    }

    pub fn snapshot(&self) -> Stats {
        let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        let by_operation = |counters: &[AtomicU64; OPERATIONS]| -> BTreeMap<String, u64> {
            Operation::ALL
                .iter()
                .map(|op| (op.name().to_owned(), load(&counters[op.index()])))
                .filter(|(_, n)| *n > 0)
                .collect()
        };
        let requests_by_operation = by_operation(&self.requests);
        Stats {
            seconds_since_reset: lock(&self.since).elapsed().as_secs_f64(),
            requests: requests_by_operation.values().sum::<u64>() + load(&self.unknown_requests),
            requests_by_operation,
            records_written: by_operation(&self.records_written),
            records_rejected: load(&self.records_rejected),
            records_unprocessed: load(&self.records_unprocessed),
            records_read: load(&self.records_read),
            records_deleted: load(&self.records_deleted),
            errors_by_code: lock(&self.errors)
                .iter()
                .map(|(code, n)| (code.as_str().to_owned(), *n))
                .collect(),
            entry_errors_by_code: lock(&self.entry_errors).clone(),
            throttled: load(&self.throttled),
            connection_resets: load(&self.connection_resets),
            injected_latency_ms: load(&self.injected_latency_ms),
            offline_rows_written: load(&self.offline_rows_written),
            offline_files_written: load(&self.offline_files_written),
            by_group: lock(&self.by_group)
                .iter()
                .map(|(name, counts)| (name.clone(), *counts))
                .collect(),
            requests_by_access_key: lock(&self.by_access_key)
                .iter()
                .map(|(key, count)| (key.clone(), *count))
                .collect(),
        }
    }

    pub fn reset(&self) {
        let zero = |counter: &AtomicU64| counter.store(0, Ordering::Relaxed);
        self.requests.iter().chain(&self.records_written).for_each(zero);
        for counter in [
            &self.unknown_requests,
            &self.records_rejected,
            &self.records_unprocessed,
            &self.records_read,
            &self.records_deleted,
            &self.throttled,
            &self.connection_resets,
            &self.injected_latency_ms,
            &self.offline_rows_written,
            &self.offline_files_written,
        ] {
            zero(counter);
        }
        lock(&self.errors).clear();
        lock(&self.entry_errors).clear();
        lock(&self.by_group).clear();
        lock(&self.by_access_key).clear();
        *lock(&self.since) = Instant::now();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_by_operation_and_code_then_resets() {
        let stats = StatsCollector::new();
        stats.request(Some(Operation::BatchWriteRecord));
        stats.request(Some(Operation::BatchWriteRecord));
        stats.request(None);
        stats.records_written(Operation::BatchWriteRecord, 50);
        stats.error(ErrorCode::ThrottlingException);
        stats.entry_errors(["ValidationError", "ValidationError"]);
        stats.write_by_group([("customers", 20), ("orders", 5)], false);
        stats.write_by_group([("customers", 0)], true);
        let snapshot = stats.snapshot();
        assert_eq!(snapshot.requests, 3);
        assert_eq!(snapshot.requests_by_operation["BatchWriteRecord"], 2);
        assert_eq!(snapshot.records_written["BatchWriteRecord"], 50);
        assert_eq!(snapshot.throttled, 1);
        assert_eq!(snapshot.errors_by_code["ThrottlingException"], 1);
        assert_eq!(snapshot.entry_errors_by_code["ValidationError"], 2);
        let group = |requests, records_written, throttled| GroupStats {
            requests,
            records_written,
            throttled,
        };
        assert_eq!(
            snapshot.by_group,
            BTreeMap::from([
                ("customers".to_owned(), group(2, 20, 1)),
                ("orders".to_owned(), group(1, 5, 0)),
            ])
        );
        assert_eq!(
            serde_json::to_value(&snapshot).unwrap()["by_group"],
            serde_json::json!({
                "customers": {"requests": 2, "records_written": 20, "throttled": 1},
                "orders": {"requests": 1, "records_written": 5, "throttled": 0},
            })
        );
        stats.reset();
        let after = stats.snapshot();
        assert_eq!(
            Stats {
                seconds_since_reset: 0.0,
                ..after
            },
            Stats::default()
        );
    }
}
