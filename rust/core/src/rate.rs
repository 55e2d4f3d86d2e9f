//! Flow control for one writer: an adaptive cap on calls in flight (AIMD) and a records-per-second ceiling
//! (token bucket).
//!
//! Both are used from the writer's own current-thread runtime, so their locks are never contended; they are
//! `Sync` only so that the caller thread can read the current limit for the metrics.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

/// Caps calls in flight at a limit that adapts to throttling: halved on a throttled answer (at most once per
/// round of calls), grown by one per round of successful calls (additive increase, multiplicative decrease,
/// as TCP does). A round is "the calls started before the last cut": their throttles reflect the old limit
/// and must not cut again, or one burst of 64 throttled answers would take the limit from 64 to 1.
#[derive(Debug)]
pub struct ConcurrencyLimiter {
    state: Mutex<LimiterState>,
    released: Notify,
    max: usize,
}

#[derive(Debug)]
struct LimiterState {
    in_flight: usize,
    limit: f64,
    /// Incremented on every cut; a permit remembers the epoch it started in.
    epoch: u64,
}

/// The right to have one call in flight; gives it back when dropped.
#[derive(Debug)]
pub struct Permit {
    limiter: Arc<ConcurrencyLimiter>,
    epoch: u64,
}

impl ConcurrencyLimiter {
    pub fn new(max: usize) -> Arc<Self> {
        let max = max.max(1);
        Arc::new(Self {
            state: Mutex::new(LimiterState {
                in_flight: 0,
                limit: max as f64,
                epoch: 0,
            }),
            released: Notify::new(),
            max,
        })
    }

    fn state(&self) -> MutexGuard<'_, LimiterState> {
        // A poisoned lock only means a panic elsewhere while holding it; the counters stay meaningful.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The current limit, rounded down (at least 1).
    pub fn limit(&self) -> usize {
        self.state().limit as usize
    }

    pub fn in_flight(&self) -> usize {
        self.state().in_flight
    }

    /// Waits until a call may start.
    pub async fn acquire(self: &Arc<Self>) -> Permit {
        loop {
            let notified = self.released.notified();
            tokio::pin!(notified);
            // Registered before checking, so a release between the check and the await is not missed.
            notified.as_mut().enable();
            if let Some(permit) = self.try_acquire() {
                return permit;
            }
            notified.await;
        }
    }

    pub fn try_acquire(self: &Arc<Self>) -> Option<Permit> {
        let mut state = self.state();
        if state.in_flight < state.limit as usize {
            state.in_flight += 1;
            Some(Permit {
                limiter: Arc::clone(self),
                epoch: state.epoch,
            })
        } else {
            None
        }
    }

    fn release(&self) {
        let wake = {
            let mut state = self.state();
            state.in_flight = state.in_flight.saturating_sub(1);
            state.in_flight < state.limit as usize
        };
        if wake {
            self.released.notify_one();
        }
    }
}

impl Permit {
    /// The call succeeded: grow the limit by 1/limit (one per round of calls), up to the maximum.
    pub fn on_success(&self) {
        let grew = {
            let mut state = self.limiter.state();
            let before = state.limit as usize;
            state.limit = (state.limit + 1.0 / state.limit).min(self.limiter.max as f64);
            state.limit as usize > before
        };
        if grew {
            self.limiter.released.notify_one();
        }
    }

    /// The call was throttled: halve the limit, unless it was already cut since this call started.
    /// Returns whether this call cut it.
    pub fn on_throttled(&self) -> bool {
        let mut state = self.limiter.state();
        if self.epoch != state.epoch {
            return false;
        }
        state.limit = (state.limit / 2.0).max(1.0);
        state.epoch += 1;
        log::debug!(
            "throttled: calls in flight now limited to {}",
            state.limit as usize
        );
        true
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        self.limiter.release();
    }
}

/// Holds a writer under `rate` records per second. Records are taken before waiting (the bucket may go into
/// debt), so concurrent takers queue up behind each other and the long-run rate is exact; the burst allowed
/// after an idle spell is 50 ms worth of records.
#[derive(Debug)]
pub struct TokenBucket {
    rate: f64,
    burst: f64,
    state: Mutex<BucketState>,
}

#[derive(Debug)]
struct BucketState {
    tokens: f64,
    refilled_at: Instant,
}

impl TokenBucket {
    pub fn new(records_per_second: f64) -> Self {
        let burst = (records_per_second * 0.05).max(1.0);
        Self {
            rate: records_per_second,
            burst,
            state: Mutex::new(BucketState {
                tokens: burst,
                refilled_at: Instant::now(),
            }),
        }
    }

    /// Takes `records` tokens and returns how long the taker must wait before sending them.
    pub fn reserve(&self, records: usize, now: Instant) -> Duration {
        let mut state = self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let elapsed = now.saturating_duration_since(state.refilled_at).as_secs_f64();
        state.tokens = (state.tokens + elapsed * self.rate).min(self.burst);
        state.refilled_at = now;
        state.tokens -= records as f64;
        if state.tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-state.tokens / self.rate)
        }
    }

    /// Waits until `records` may be sent.
    pub async fn acquire(&self, records: usize) {
        let wait = self.reserve(records, Instant::now());
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    #[test]
    fn permits_are_capped_and_given_back() {
        let limiter = ConcurrencyLimiter::new(2);
        let a = limiter.try_acquire().unwrap();
        let _b = limiter.try_acquire().unwrap();
        assert!(limiter.try_acquire().is_none());
        drop(a);
        assert!(limiter.try_acquire().is_some());
    }

    #[test]
    fn a_waiter_is_woken_when_a_permit_is_released() {
        runtime().block_on(async {
            let limiter = ConcurrencyLimiter::new(1);
            let held = limiter.try_acquire().unwrap();
            let waiter = {
                let limiter = Arc::clone(&limiter);
                tokio::spawn(async move {
                    let _permit = limiter.acquire().await;
                })
            };
            tokio::task::yield_now().await;
            assert!(!waiter.is_finished());
            drop(held);
            tokio::time::timeout(Duration::from_secs(5), waiter)
                .await
                .expect("woken")
                .unwrap();
        });
    }

    #[test]
    fn throttling_halves_once_per_round_and_success_grows_it_back() {
        let limiter = ConcurrencyLimiter::new(64);
        let round: Vec<Permit> = (0..64).map(|_| limiter.try_acquire().unwrap()).collect();
        // The whole round is throttled: only the first answer cuts.
        let cuts = round.iter().filter(|p| p.on_throttled()).count();
        assert_eq!(cuts, 1);
        assert_eq!(limiter.limit(), 32);
        drop(round);
        // A call started after the cut may cut again.
        let next = limiter.try_acquire().unwrap();
        assert!(next.on_throttled());
        assert_eq!(limiter.limit(), 16);
        drop(next);
        for _ in 0..10 {
            let p = limiter.try_acquire().unwrap();
            assert!(p.on_throttled() || limiter.limit() == 1);
        }
        assert_eq!(limiter.limit(), 1, "never below one");
        // Additive increase: about one per round of `limit` successes.
        let mut successes = 0;
        while limiter.limit() < 8 {
            limiter.try_acquire().unwrap().on_success();
            successes += 1;
        }
        assert!(
            (20..=40).contains(&successes),
            "{successes} successes to grow from 1 to 8"
        );
        while limiter.limit() < 64 {
            limiter.try_acquire().unwrap().on_success();
        }
        for _ in 0..100 {
            limiter.try_acquire().unwrap().on_success();
        }
        assert_eq!(limiter.limit(), 64, "never above the maximum");
    }

    #[test]
    fn the_bucket_holds_the_long_run_rate() {
        let bucket = TokenBucket::new(1000.0);
        let start = Instant::now();
        // 50 records of burst, then every further record costs 1 ms.
        assert_eq!(bucket.reserve(50, start), Duration::ZERO);
        let about = |wait: Duration, ms: f64| (wait.as_secs_f64() * 1e3 - ms).abs() < 0.01;
        assert!(about(bucket.reserve(25, start), 25.0));
        assert!(
            about(bucket.reserve(25, start), 50.0),
            "takers queue behind each other"
        );
        // 100 ms later the debt (50) is paid and 50 more accrued, capped by the burst.
        let later = start + Duration::from_millis(100);
        assert_eq!(bucket.reserve(50, later), Duration::ZERO);
        assert!(about(bucket.reserve(1, later), 1.0));
    }

    #[test]
    fn acquire_waits_for_the_debt() {
        runtime().block_on(async {
            let bucket = TokenBucket::new(200.0);
            let start = Instant::now();
            bucket.acquire(10).await; // the burst
            bucket.acquire(20).await; // 100 ms at 200/s
            let elapsed = start.elapsed();
            assert!(elapsed >= Duration::from_millis(95), "{elapsed:?}");
        });
    }
}
