//! Fault injection: decides, per request, the latency to add and whether to answer with a fault instead of
//! processing it (denied permission, throttling, server errors, a connection reset, records-per-second
//! ceilings for the store and per feature group), from the [`Faults`] currently set.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use crate::config::Faults;
use crate::error::{ErrorCode, Plane, ServiceError};
use crate::model::operation::Operation;

/// What to do with a request instead of, or before, processing it.
#[derive(Debug, PartialEq)]
pub(crate) enum Verdict {
    Proceed,
    Fail(ServiceError),
    /// Drop the connection with a TCP reset, no response.
    ResetConnection,
}

#[derive(Debug)]
pub(crate) struct FaultInjector {
    faults: RwLock<Arc<Faults>>,
    budgets: Mutex<Budgets>,
}

fn read<T: Clone>(lock: &RwLock<T>) -> T {
    lock.read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone()
}

impl FaultInjector {
    pub fn new(faults: Faults) -> Self {
        Self::starting_at(faults, Instant::now())
    }

    fn starting_at(faults: Faults, now: Instant) -> Self {
        let mut budgets = Budgets::default();
        budgets.update(&faults, now);
        Self {
            faults: RwLock::new(Arc::new(faults)),
            budgets: Mutex::new(budgets),
        }
    }

    pub fn faults(&self) -> Arc<Faults> {
        read(&self.faults)
    }

    /// Replaces every fault. The records-per-second budgets change as a step: see [`Budgets::update`].
    pub fn set(&self, faults: Faults) {
        self.set_at(faults, Instant::now());
    }

    fn set_at(&self, faults: Faults, now: Instant) {
        // Budgets first, under their lock, so that a write never sees new faults with old budgets for long.
        let mut budgets = self
            .budgets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        budgets.update(&faults, now);
        *self
            .faults
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(faults);
    }

    /// Whether the latency, error, reset and rate faults apply to `operation`.
    fn applies(faults: &Faults, operation: Operation) -> bool {
        if faults.operations.is_empty() {
            operation.is_runtime()
        } else {
            faults.operations.iter().any(|name| name == operation.name())
        }
    }

    /// The latency to add before answering `operation`.
    pub fn latency(&self, operation: Operation) -> Option<Duration> {
        let faults = self.faults();
        let spikes = faults.latency_spike_probability > 0.0 && faults.latency_spike_ms > 0;
        if !Self::applies(&faults, operation)
            || (faults.latency_ms == 0 && faults.latency_jitter_ms == 0 && !spikes)
        {
            return None;
        }
        let jitter = if faults.latency_jitter_ms > 0 {
            fastrand::u64(0..=faults.latency_jitter_ms)
        } else {
            0
        };
        let spike = if spikes && chance(faults.latency_spike_probability) {
            faults.latency_spike_ms
        } else {
            0
        };
        Some(Duration::from_millis(faults.latency_ms + jitter + spike))
    }

    /// Denied permissions, injected throttling, server errors and resets, decided before the request is
    /// processed.
    pub fn before(&self, operation: Operation, plane: Plane) -> Verdict {
        let faults = self.faults();
        if faults
            .denied_operations
            .iter()
            .any(|name| name == operation.name())
        {
            let (code, action) = match plane {
                Plane::Runtime => (ErrorCode::AccessForbidden, "sagemaker"),
                Plane::Control => (ErrorCode::AccessDeniedException, "sagemaker"),
            };
            return Verdict::Fail(ServiceError::new(
                code,
                format!(
                    "User: arn:aws:sts::123456789012:assumed-role/featurestore-local/session is not authorized to \
                     perform: {action}:{} because no identity-based policy allows the {action}:{} action \
                     (denied by featurestore-local fault injection)",
                    operation.name(),
                    operation.name()
                ),
            ));
        }
        if !Self::applies(&faults, operation) {
            return Verdict::Proceed;
        }
        if chance(faults.connection_reset_probability) {
            return Verdict::ResetConnection;
        }
        if chance(faults.throttle_probability) {
            return Verdict::Fail(throttled("Rate exceeded"));
        }
        if chance(faults.server_error_probability) {
            return Verdict::Fail(ServiceError::new(
                ErrorCode::InternalFailure,
                "An internal failure occurred (injected by featurestore-local). Try your request again.",
            ));
        }
        if chance(faults.unavailable_probability) {
            return Verdict::Fail(ServiceError::new(
                ErrorCode::ServiceUnavailable,
                "The service is unavailable (injected by featurestore-local). Try your request again.",
            ));
        }
        Verdict::Proceed
    }

    /// Admits a write of `records` records, of which each feature group in `groups` (each named once, with its
    /// share of the records) holds some, if the store's budget and every capped group's budget have room for
    /// their share; then charges them all. Otherwise charges none and answers a throttling error.
    pub fn admit_records<'a, G>(
        &self,
        operation: Operation,
        records: usize,
        groups: G,
    ) -> Result<(), ServiceError>
    where
        G: IntoIterator<Item = (&'a str, usize)> + Clone,
    {
        self.admit_records_at(operation, records, groups, Instant::now())
    }

    fn admit_records_at<'a, G>(
        &self,
        operation: Operation,
        records: usize,
        groups: G,
        now: Instant,
    ) -> Result<(), ServiceError>
    where
        G: IntoIterator<Item = (&'a str, usize)> + Clone,
    {
        let faults = self.faults();
        if (faults.max_records_per_second.is_none() && faults.max_records_per_second_by_group.is_empty())
            || !Self::applies(&faults, operation)
        {
            return Ok(());
        }
        let mut budgets = self
            .budgets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let Budgets {
            store,
            groups: capped,
        } = &mut *budgets;
        if let Some(bucket) = store.as_mut() {
            bucket.refill(now);
            if !bucket.has_room(records as f64) {
                return Err(throttled(
                    "Rate exceeded: the records-per-second limit set on featurestore-local was reached",
                ));
            }
        }
        if !capped.is_empty() {
            for (name, n) in groups.clone() {
                if let Some(bucket) = capped.get_mut(budget_key(name).as_ref()) {
                    bucket.refill(now);
                    if !bucket.has_room(n as f64) {
                        return Err(throttled(&format!(
                            "Rate exceeded: the records-per-second limit set on featurestore-local for feature \
                             group {name} was reached"
                        )));
                    }
                }
            }
            for (name, n) in groups {
                if let Some(bucket) = capped.get_mut(budget_key(name).as_ref()) {
                    bucket.take(n as f64);
                }
            }
        }
        if let Some(bucket) = store.as_mut() {
            bucket.take(records as f64);
        }
        Ok(())
    }

    /// Whether accepted writes are answered without being stored.
    pub fn discards_writes(&self) -> bool {
        self.faults().discard_writes
    }

    /// The share of BatchWriteRecord entries to return unprocessed.
    pub fn unprocessed_entry_probability(&self, operation: Operation) -> f64 {
        let faults = self.faults();
        if Self::applies(&faults, operation) {
            faults.unprocessed_entry_probability
        } else {
            0.0
        }
    }
}

fn throttled(message: &str) -> ServiceError {
    ServiceError::new(ErrorCode::ThrottlingException, message)
}

fn chance(probability: f64) -> bool {
    probability > 0.0 && (probability >= 1.0 || fastrand::f64() < probability)
}

/// The records-per-second budgets in force: the store's, and one per capped feature group, by lower-cased name
/// (feature group names match regardless of case).
#[derive(Debug, Default)]
struct Budgets {
    store: Option<TokenBucket>,
    groups: HashMap<String, TokenBucket>,
}

/// The key of a group's budget; borrowed for the usual lower-case names, to keep allocations off the write path.
fn budget_key(name: &str) -> Cow<'_, str> {
    if name.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(name.to_ascii_lowercase())
    } else {
        Cow::Borrowed(name)
    }
}

impl Budgets {
    /// Takes the rates of `faults` as a step, so that a job running across the change sees the new limit at
    /// once and no free second of burst: a budget whose rate is unchanged is left as it is, one whose rate
    /// changed keeps its tokens (up to one second of the new rate), a new one starts full, and the budgets of
    /// groups no longer capped are dropped.
    fn update(&mut self, faults: &Faults, now: Instant) {
        self.store = retune(self.store.take(), faults.max_records_per_second, now);
        let mut groups = HashMap::with_capacity(faults.max_records_per_second_by_group.len());
        for (name, &rate) in &faults.max_records_per_second_by_group {
            let key = name.to_ascii_lowercase();
            if let Some(bucket) = retune(self.groups.remove(&key), Some(rate), now) {
                groups.insert(key, bucket);
            }
        }
        self.groups = groups;
    }
}

fn retune(bucket: Option<TokenBucket>, rate: Option<f64>, now: Instant) -> Option<TokenBucket> {
    match (bucket, rate) {
        (_, None) => None,
        (Some(mut bucket), Some(rate)) => {
            bucket.set_rate(rate, now);
            Some(bucket)
        }
        (None, Some(rate)) => Some(TokenBucket::full(rate, now)),
    }
}

/// A records-per-second budget that refills continuously and holds at most one second's worth. Its tokens go
/// below zero when a request larger than the whole budget is let through: that debt is paid back first.
#[derive(Debug)]
struct TokenBucket {
    rate: f64,
    tokens: f64,
    refilled: Instant,
}

impl TokenBucket {
    fn full(rate: f64, now: Instant) -> Self {
        Self {
            rate,
            tokens: rate,
            refilled: now,
        }
    }

    fn refill(&mut self, now: Instant) {
        if now > self.refilled {
            let elapsed = (now - self.refilled).as_secs_f64();
            self.tokens = (self.tokens + elapsed * self.rate).min(self.rate);
            self.refilled = now;
        }
    }

    /// Whether `n` records fit (after a refill). A request larger than the whole budget goes through when the
    /// bucket is full, then owes the rest.
    fn has_room(&self, n: f64) -> bool {
        self.tokens >= n || (n > self.rate && self.tokens >= self.rate)
    }

    fn take(&mut self, n: f64) {
        self.tokens -= n;
    }

    /// A new rate from `now` on: the tokens earned so far at the old rate are kept, up to one second of the new.
    fn set_rate(&mut self, rate: f64, now: Instant) {
        if rate != self.rate {
            self.refill(now);
            self.rate = rate;
            self.tokens = self.tokens.min(rate);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn try_take(bucket: &mut TokenBucket, n: f64, now: Instant) -> bool {
        bucket.refill(now);
        let room = bucket.has_room(n);
        if room {
            bucket.take(n);
        }
        room
    }

    #[test]
    fn the_bucket_refills_at_the_rate_and_caps_at_one_second() {
        let start = Instant::now();
        let mut bucket = TokenBucket::full(100.0, start);
        assert!(try_take(&mut bucket, 100.0, start));
        assert!(!try_take(&mut bucket, 1.0, start));
        assert!(try_take(&mut bucket, 50.0, start + Duration::from_millis(500)));
        assert!(!try_take(&mut bucket, 1.0, start + Duration::from_millis(500)));
        // Ten idle seconds still give only one second's worth.
        assert!(try_take(&mut bucket, 100.0, start + Duration::from_secs(10)));
        assert!(!try_take(&mut bucket, 1.0, start + Duration::from_secs(10)));
    }

    #[test]
    fn a_request_larger_than_the_bucket_goes_through_when_full_and_owes_the_rest() {
        let start = Instant::now();
        let mut bucket = TokenBucket::full(10.0, start);
        assert!(try_take(&mut bucket, 25.0, start));
        // 15 owed: a second later the bucket is still 5 short.
        assert!(!try_take(&mut bucket, 1.0, start + Duration::from_secs(1)));
        assert!(try_take(&mut bucket, 10.0, start + Duration::from_millis(2500)));
    }

    const BATCH: Operation = Operation::BatchWriteRecord;

    fn caps(groups: &[(&str, f64)]) -> Faults {
        Faults {
            max_records_per_second_by_group: groups.iter().map(|(g, r)| ((*g).to_owned(), *r)).collect(),
            ..Faults::default()
        }
    }

    /// Admits a write of the given groups' records, at `now`.
    fn admit(injector: &FaultInjector, groups: &[(&str, usize)], now: Instant) -> Result<(), ServiceError> {
        let records = groups.iter().map(|(_, n)| n).sum();
        injector.admit_records_at(BATCH, records, groups.iter().copied(), now)
    }

    #[test]
    fn a_group_cap_throttles_only_that_group_and_names_it() {
        let start = Instant::now();
        let injector = FaultInjector::starting_at(caps(&[("customers", 10.0)]), start);
        assert!(admit(&injector, &[("customers", 10)], start).is_ok());
        let error = admit(&injector, &[("customers", 1)], start).unwrap_err();
        assert_eq!(error.code, ErrorCode::ThrottlingException);
        assert!(
            error.message.contains("feature group customers"),
            "{}",
            error.message
        );
        for _ in 0..10 {
            assert!(admit(&injector, &[("orders", 25)], start).is_ok());
        }
        assert!(admit(&injector, &[("customers", 5)], start + Duration::from_millis(500)).is_ok());
    }

    #[test]
    fn group_caps_match_names_regardless_of_case() {
        let start = Instant::now();
        let injector = FaultInjector::starting_at(caps(&[("Customers", 10.0)]), start);
        assert!(admit(&injector, &[("customers", 10)], start).is_ok());
        assert!(admit(&injector, &[("CUSTOMERS", 1)], start).is_err());
    }

    #[test]
    fn a_mixed_write_needs_room_in_every_budget_and_a_refused_one_charges_none() {
        let start = Instant::now();
        let injector = FaultInjector::starting_at(
            Faults {
                max_records_per_second: Some(100.0),
                ..caps(&[("a", 10.0), ("b", 50.0)])
            },
            start,
        );
        assert!(admit(&injector, &[("a", 2), ("b", 10), ("c", 10)], start).is_ok());
        // a has 8 left: refused because of a alone, and nothing is taken from b or the store.
        let error = admit(&injector, &[("a", 9), ("b", 1)], start).unwrap_err();
        assert!(error.message.contains("feature group a"), "{}", error.message);
        assert!(admit(&injector, &[("b", 40)], start).is_ok());
        assert!(admit(&injector, &[("a", 8), ("c", 30)], start).is_ok());
        // The store's budget is spent: its limit is named.
        let error = admit(&injector, &[("c", 1)], start).unwrap_err();
        assert!(
            error
                .message
                .contains("records-per-second limit set on featurestore-local was")
        );
    }

    #[test]
    fn changing_one_groups_cap_leaves_the_other_budgets_as_they_are() {
        let start = Instant::now();
        let injector = FaultInjector::starting_at(
            Faults {
                max_records_per_second: Some(1000.0),
                ..caps(&[("a", 10.0), ("b", 10.0)])
            },
            start,
        );
        assert!(admit(&injector, &[("a", 10), ("b", 10)], start).is_ok());
        injector.set_at(
            Faults {
                max_records_per_second: Some(1000.0),
                latency_ms: 1,
                ..caps(&[("a", 10.0), ("b", 20.0)])
            },
            start,
        );
        // Neither a's nor b's budget was refilled, nor the store's (980 left).
        assert!(admit(&injector, &[("a", 1)], start).is_err());
        assert!(admit(&injector, &[("b", 1)], start).is_err());
        assert!(admit(&injector, &[("c", 981)], start).is_err());
        assert!(admit(&injector, &[("c", 980)], start).is_ok());
        // Half a second on, a earned 5 and b, at its new rate, 10.
        let later = start + Duration::from_millis(500);
        assert!(admit(&injector, &[("a", 6)], later).is_err());
        assert!(admit(&injector, &[("a", 5), ("b", 10)], later).is_ok());
    }

    #[test]
    fn a_halved_cap_keeps_its_tokens_clamped_to_the_new_burst_and_a_doubled_one_is_not_refilled() {
        let start = Instant::now();
        let injector = FaultInjector::starting_at(caps(&[("a", 100.0), ("b", 100.0)]), start);
        assert!(admit(&injector, &[("a", 30), ("b", 80)], start).is_ok());
        injector.set_at(caps(&[("a", 50.0), ("b", 50.0)]), start);
        // a had 70: clamped to 50, so nothing is left after 50. b had 20: still 20, not a fresh second of 50.
        assert!(admit(&injector, &[("a", 50)], start).is_ok());
        assert!(admit(&injector, &[("a", 1)], start).is_err());
        assert!(admit(&injector, &[("b", 21)], start).is_err());
        assert!(admit(&injector, &[("b", 20)], start).is_ok());
        injector.set_at(caps(&[("a", 100.0), ("b", 100.0)]), start);
        assert!(admit(&injector, &[("a", 1)], start).is_err());
        let later = start + Duration::from_millis(250);
        assert!(admit(&injector, &[("a", 26)], later).is_err());
        assert!(admit(&injector, &[("a", 25)], later).is_ok());
    }

    #[test]
    fn the_store_budget_is_also_a_step_and_dropped_caps_lift_their_limit() {
        let start = Instant::now();
        let injector = FaultInjector::starting_at(
            Faults {
                max_records_per_second: Some(100.0),
                ..caps(&[("a", 10.0)])
            },
            start,
        );
        assert!(admit(&injector, &[("a", 10), ("b", 90)], start).is_ok());
        injector.set_at(
            Faults {
                max_records_per_second: Some(100.0),
                ..Faults::default()
            },
            start,
        );
        assert!(admit(&injector, &[("b", 1)], start).is_err());
        injector.set_at(caps(&[("a", 10.0)]), start);
        // No store-wide limit any more, and a's budget was dropped with its cap, so a new cap starts full.
        assert!(admit(&injector, &[("a", 10), ("b", 500)], start).is_ok());
        assert!(admit(&injector, &[("a", 1)], start).is_err());
    }

    #[test]
    fn group_caps_apply_only_to_the_operations_faults_apply_to() {
        let start = Instant::now();
        let injector = FaultInjector::starting_at(
            Faults {
                operations: vec!["GetRecord".into()],
                ..caps(&[("a", 1.0)])
            },
            start,
        );
        for _ in 0..3 {
            assert!(admit(&injector, &[("a", 25)], start).is_ok());
        }
    }

    #[test]
    fn faults_apply_to_runtime_operations_unless_narrowed() {
        let injector = FaultInjector::new(Faults {
            throttle_probability: 1.0,
            ..Faults::default()
        });
        assert!(matches!(
            injector.before(Operation::PutRecord, Plane::Runtime),
            Verdict::Fail(ServiceError {
                code: ErrorCode::ThrottlingException,
                ..
            })
        ));
        assert_eq!(
            injector.before(Operation::DescribeFeatureGroup, Plane::Control),
            Verdict::Proceed
        );
        injector.set(Faults {
            throttle_probability: 1.0,
            operations: vec!["GetRecord".into()],
            ..Faults::default()
        });
        assert_eq!(
            injector.before(Operation::PutRecord, Plane::Runtime),
            Verdict::Proceed
        );
        assert!(matches!(
            injector.before(Operation::GetRecord, Plane::Runtime),
            Verdict::Fail(_)
        ));
    }

    #[test]
    fn denied_operations_answer_each_planes_code() {
        let injector = FaultInjector::new(Faults {
            denied_operations: vec!["BatchWriteRecord".into(), "CreateFeatureGroup".into()],
            ..Faults::default()
        });
        let Verdict::Fail(error) = injector.before(Operation::BatchWriteRecord, Plane::Runtime) else {
            panic!("not denied")
        };
        assert_eq!(error.code, ErrorCode::AccessForbidden);
        let Verdict::Fail(error) = injector.before(Operation::CreateFeatureGroup, Plane::Control) else {
            panic!("not denied")
        };
        assert_eq!(error.code, ErrorCode::AccessDeniedException);
        assert_eq!(
            injector.before(Operation::PutRecord, Plane::Runtime),
            Verdict::Proceed
        );
    }

    #[test]
    fn the_rate_ceiling_throttles_writes_beyond_it() {
        let injector = FaultInjector::new(Faults {
            max_records_per_second: Some(30.0),
            ..Faults::default()
        });
        assert!(
            injector
                .admit_records(Operation::BatchWriteRecord, 25, [("g", 25)])
                .is_ok()
        );
        let error = injector
            .admit_records(Operation::BatchWriteRecord, 25, [("g", 25)])
            .unwrap_err();
        assert_eq!(error.code, ErrorCode::ThrottlingException);
    }
}
