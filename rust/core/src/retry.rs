//! What to do with an error: retry it (and how long to wait), or fail the record for good.
//!
//! Classification follows the service's error shapes (botocore `sagemaker-featurestore-runtime`): throttling
//! (`ThrottlingException`, HTTP 429) and faults (`InternalFailure` 500, `ServiceUnavailable` 503, any 5xx) are
//! retried, as are timeouts and connection errors; `ValidationError` (400), `AccessForbidden` (403) and
//! `ResourceNotFound` (404) fail the record at once with the service's code and message; a refused signature or
//! credentials fail it too, and every later call would fail the same way.

use std::time::Duration;

use crate::config::RetryConfig;

/// How the sink reacts to one error, for a whole call or for one BatchWriteRecord entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// Slow down (the concurrency limit is cut) and retry.
    Throttled,
    /// A transient fault, timeout or connection error: retry.
    Retryable,
    /// The call's operation is not permitted or not known: the `auto` API falls back to PutRecord.
    NotPermitted,
    /// The signature or the credentials were refused: no call passes until the user fixes them.
    Credentials,
    /// Fail the record with this error.
    Terminal,
}

const THROTTLING_CODES: &[&str] = &[
    "ThrottlingException",
    "Throttling",
    "ThrottledException",
    "RequestThrottled",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "SlowDown",
];

const TRANSIENT_CODES: &[&str] = &[
    "InternalFailure",
    "InternalServerError",
    "InternalError",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "RequestTimeout",
    "RequestTimeoutException",
];

/// The AWS front end's answers to a bad signature or unusable credentials (HTTP 403 on the runtime).
const CREDENTIAL_CODES: &[&str] = &[
    "InvalidSignatureException",
    "SignatureDoesNotMatch",
    "IncompleteSignature",
    "IncompleteSignatureException",
    "MissingAuthenticationToken",
    "MissingAuthenticationTokenException",
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "ExpiredToken",
    "ExpiredTokenException",
];

/// What to check when a call's signature or credentials were refused with `code`.
pub fn credentials_hint(code: &str) -> &'static str {
    match code {
        "UnrecognizedClientException" | "InvalidClientTokenId" => {
            "check the access key id and the session token (they must belong together, to this account and \
             partition)"
        }
        "ExpiredToken" | "ExpiredTokenException" => {
            "the session token expired: check the credentials source refreshes it, or issue new credentials"
        }
        "MissingAuthenticationToken" | "MissingAuthenticationTokenException" => {
            "the request was not signed: check that credentials are configured"
        }
        _ => {
            "check the secret access key, the region the requests are signed for, and this machine's clock \
             (a signature more than 5 minutes off is refused)"
        }
    }
}

const NOT_PERMITTED_CODES: &[&str] = &[
    "AccessForbidden",
    "AccessDeniedException",
    "AccessDenied",
    "UnknownOperationException",
    "UnknownOperation",
];

/// Classifies an error answer to a whole call, from its HTTP status and error code.
pub fn classify_call(status: u16, code: &str) -> ErrorClass {
    if status == 429 || THROTTLING_CODES.contains(&code) {
        ErrorClass::Throttled
    } else if status >= 500 || TRANSIENT_CODES.contains(&code) {
        ErrorClass::Retryable
    } else if CREDENTIAL_CODES.contains(&code) {
        ErrorClass::Credentials
    } else if status == 403 || NOT_PERMITTED_CODES.contains(&code) {
        ErrorClass::NotPermitted
    } else {
        ErrorClass::Terminal
    }
}

/// Classifies one BatchWriteRecord entry's `ErrorCode` (no HTTP status there). A per-entry access error is
/// about that record's group, not the operation, so it is terminal rather than a reason to fall back.
pub fn classify_entry(code: &str) -> ErrorClass {
    if THROTTLING_CODES.contains(&code) {
        ErrorClass::Throttled
    } else if TRANSIENT_CODES.contains(&code) {
        ErrorClass::Retryable
    } else {
        ErrorClass::Terminal
    }
}

/// Exponential backoff with full jitter (the AWS Architecture Blog's "full jitter"): the wait before retry
/// `n` (1-based) is uniform in `[0, min(max_delay, base_delay * 2^(n-1))]`. Spreading retries over the whole
/// window is what keeps many writers from hammering a throttled service in lock step.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    config: RetryConfig,
}

impl Backoff {
    pub fn new(config: RetryConfig) -> Self {
        Self { config }
    }

    /// The ceiling of the wait before retry `retry` (1-based).
    pub fn ceiling(&self, retry: u32) -> Duration {
        let doublings = retry.saturating_sub(1).min(40);
        let ms = self
            .config
            .base_delay_ms
            .saturating_mul(1u64 << doublings)
            .min(self.config.max_delay_ms);
        Duration::from_millis(ms)
    }

    /// A random wait for retry `retry`, drawn from `rng`.
    pub fn delay(&self, retry: u32, rng: &mut fastrand::Rng) -> Duration {
        let ceiling = u64::try_from(self.ceiling(retry).as_micros()).unwrap_or(u64::MAX);
        Duration::from_micros(rng.u64(0..=ceiling))
    }

    /// Whether a record that has had `attempts` attempts, the first `elapsed` ago, may be retried after
    /// waiting `delay`: not past its delivery deadline once the wait is over, and within the attempt count if
    /// one is set.
    pub fn may_retry(&self, attempts: u32, elapsed: Duration, delay: Duration) -> bool {
        self.config.max_attempts.is_none_or(|max| attempts < max)
            && elapsed + delay <= Duration::from_millis(self.config.max_elapsed_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_are_classified_by_status_and_code() {
        assert_eq!(classify_call(400, "ThrottlingException"), ErrorClass::Throttled);
        assert_eq!(classify_call(429, "Whatever"), ErrorClass::Throttled);
        assert_eq!(classify_call(500, "InternalFailure"), ErrorClass::Retryable);
        assert_eq!(classify_call(503, "ServiceUnavailable"), ErrorClass::Retryable);
        assert_eq!(classify_call(502, ""), ErrorClass::Retryable);
        assert_eq!(classify_call(403, "AccessForbidden"), ErrorClass::NotPermitted);
        assert_eq!(
            classify_call(403, "InvalidSignatureException"),
            ErrorClass::Credentials
        );
        assert_eq!(
            classify_call(400, "UnrecognizedClientException"),
            ErrorClass::Credentials
        );
        assert!(credentials_hint("InvalidSignatureException").contains("clock"));
        assert_eq!(
            classify_call(400, "UnknownOperationException"),
            ErrorClass::NotPermitted
        );
        assert_eq!(classify_call(400, "ValidationError"), ErrorClass::Terminal);
        assert_eq!(classify_call(404, "ResourceNotFound"), ErrorClass::Terminal);
    }

    #[test]
    fn entries_are_classified_by_code() {
        assert_eq!(classify_entry("ThrottlingException"), ErrorClass::Throttled);
        assert_eq!(classify_entry("InternalFailure"), ErrorClass::Retryable);
        assert_eq!(classify_entry("ServiceUnavailable"), ErrorClass::Retryable);
        assert_eq!(classify_entry("ValidationError"), ErrorClass::Terminal);
        assert_eq!(classify_entry("AccessForbidden"), ErrorClass::Terminal);
        assert_eq!(classify_entry("ResourceNotFound"), ErrorClass::Terminal);
    }

    fn backoff() -> Backoff {
        Backoff::new(RetryConfig {
            max_attempts: Some(4),
            max_elapsed_ms: 1_000,
            base_delay_ms: 50,
            max_delay_ms: 300,
        })
    }

    #[test]
    fn the_ceiling_doubles_up_to_the_maximum() {
        let b = backoff();
        let ceilings: Vec<u64> = (1..=6).map(|n| b.ceiling(n).as_millis() as u64).collect();
        assert_eq!(ceilings, vec![50, 100, 200, 300, 300, 300]);
        assert_eq!(b.ceiling(u32::MAX).as_millis(), 300);
    }

    #[test]
    fn delays_are_spread_over_the_whole_window() {
        let b = backoff();
        let mut rng = fastrand::Rng::with_seed(7);
        let delays: Vec<Duration> = (0..2000).map(|_| b.delay(3, &mut rng)).collect();
        assert!(delays.iter().all(|d| *d <= Duration::from_millis(200)));
        let mean_ms = delays.iter().map(|d| d.as_secs_f64() * 1e3).sum::<f64>() / delays.len() as f64;
        assert!((90.0..110.0).contains(&mean_ms), "mean {mean_ms}");
        assert!(delays.iter().any(|d| *d < Duration::from_millis(20)));
        assert!(delays.iter().any(|d| *d > Duration::from_millis(180)));
    }

    #[test]
    fn retries_stop_at_the_attempt_and_time_bounds() {
        let b = backoff();
        let short = Duration::from_millis(10);
        assert!(b.may_retry(1, Duration::ZERO, short));
        assert!(b.may_retry(3, Duration::from_millis(500), short));
        assert!(!b.may_retry(4, Duration::ZERO, short), "4 attempts is the bound");
        assert!(
            !b.may_retry(2, Duration::from_millis(995), short),
            "past the time bound"
        );
        let unbounded = Backoff::new(RetryConfig {
            max_attempts: None,
            ..b.config
        });
        assert!(unbounded.may_retry(1_000_000, Duration::from_millis(500), short));
        assert!(!unbounded.may_retry(2, Duration::from_millis(995), short));
    }
}
