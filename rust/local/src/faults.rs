//! Fault injection: decides, per request, the latency to add and whether to answer with a fault instead of
//! processing it (denied permission, throttling, server errors, a connection reset, a records-per-second
//! ceiling), from the [`Faults`] currently set.

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
    bucket: Mutex<TokenBucket>,
}

fn read<T: Clone>(lock: &RwLock<T>) -> T {
    lock.read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone()
}

impl FaultInjector {
    pub fn new(faults: Faults) -> Self {
        let bucket = TokenBucket::new(faults.max_records_per_second);
        Self {
            faults: RwLock::new(Arc::new(faults)),
            bucket: Mutex::new(bucket),
        }
    }

    pub fn faults(&self) -> Arc<Faults> {
        read(&self.faults)
    }

    /// Replaces every fault (and refills the rate limiter).
    pub fn set(&self, faults: Faults) {
        *self
            .bucket
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) =
            TokenBucket::new(faults.max_records_per_second);
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
        if !Self::applies(&faults, operation) || (faults.latency_ms == 0 && faults.latency_jitter_ms == 0) {
            return None;
        }
        let jitter = if faults.latency_jitter_ms > 0 {
            rand::random_range(0..=faults.latency_jitter_ms)
        } else {
            0
        };
        Some(Duration::from_millis(faults.latency_ms + jitter))
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

    /// Takes `records` from the records-per-second budget; a throttling error when it is spent.
    pub fn admit_records(&self, operation: Operation, records: usize) -> Result<(), ServiceError> {
        let faults = self.faults();
        if faults.max_records_per_second.is_none() || !Self::applies(&faults, operation) {
            return Ok(());
        }
        let mut bucket = self
            .bucket
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if bucket.take(records as f64, Instant::now()) {
            Ok(())
        } else {
            Err(throttled(
                "Rate exceeded: the records-per-second limit set on featurestore-local was reached",
            ))
        }
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
    probability > 0.0 && (probability >= 1.0 || rand::random::<f64>() < probability)
}

/// A records-per-second budget that refills continuously and holds at most one second's worth.
#[derive(Debug)]
struct TokenBucket {
    rate: Option<f64>,
    tokens: f64,
    refilled: Instant,
}

impl TokenBucket {
    fn new(rate: Option<f64>) -> Self {
        Self {
            rate,
            tokens: rate.unwrap_or(0.0),
            refilled: Instant::now(),
        }
    }

    fn take(&mut self, n: f64, now: Instant) -> bool {
        let Some(rate) = self.rate else { return true };
        let elapsed = now.saturating_duration_since(self.refilled).as_secs_f64();
        self.tokens = (self.tokens + elapsed * rate).min(rate);
        self.refilled = now;
        // A request larger than the whole budget goes through when the bucket is full, then owes the rest.
        if self.tokens >= n || (n > rate && self.tokens >= rate) {
            self.tokens -= n;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bucket_refills_at_the_rate_and_caps_at_one_second() {
        let start = Instant::now();
        let mut bucket = TokenBucket::new(Some(100.0));
        bucket.refilled = start;
        assert!(bucket.take(100.0, start));
        assert!(!bucket.take(1.0, start));
        assert!(bucket.take(50.0, start + Duration::from_millis(500)));
        assert!(!bucket.take(1.0, start + Duration::from_millis(500)));
        // Ten idle seconds still give only one second's worth.
        assert!(bucket.take(100.0, start + Duration::from_secs(10)));
        assert!(!bucket.take(1.0, start + Duration::from_secs(10)));
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
        assert!(injector.admit_records(Operation::BatchWriteRecord, 25).is_ok());
        let error = injector
            .admit_records(Operation::BatchWriteRecord, 25)
            .unwrap_err();
        assert_eq!(error.code, ErrorCode::ThrottlingException);
    }
}
