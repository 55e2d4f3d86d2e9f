//! Pacing: holds senders to a records-per-second rate that may change while they wait.
//!
//! A [`Pacer`] is shared by the call tasks of many writers, on several I/O runtimes: the writers of one write in
//! this process (a job's ceiling, `sink::ceiling`) or of one endpoint and feature group (the adaptive rate,
//! `throughput`). Waiters are served first come, first served; only the head of the line sleeps, and it
//! re-reads the rate at least every [`RECHECK`], so a rate cut takes effect within that time instead of after
//! a queue of reservations made at the old rate.

use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The longest the head of the line sleeps before it looks at the rate again.
const RECHECK: Duration = Duration::from_millis(20);

/// Tokens that accumulate while nobody sends, in seconds of the rate: enough to cover tokio's 1 ms timer
/// granularity many times over at any rate, small enough that an idle spell does not become a burst the
/// service would throttle.
const BURST_SECONDS: f64 = 0.01;

#[derive(Debug)]
pub struct Pacer {
    state: Mutex<PacerState>,
    /// The line: held by the waiter at its head while it waits for tokens (tokio's mutex is fair, FIFO).
    line: tokio::sync::Mutex<()>,
}

#[derive(Debug)]
struct PacerState {
    /// `None`: no limit, senders pass at once.
    rate: Option<f64>,
    tokens: f64,
    refilled_at: Instant,
}

impl PacerState {
    fn refill(&mut self, now: Instant) {
        if let Some(rate) = self.rate {
            let elapsed = now.saturating_duration_since(self.refilled_at).as_secs_f64();
            self.tokens = (self.tokens + elapsed * rate).min(burst(rate));
        }
        self.refilled_at = now;
    }

    /// Takes `records` tokens if the bucket has enough (or is full, for a take larger than the burst, which
    /// then leaves a debt); otherwise returns how long until it will.
    fn try_take(&mut self, records: usize, now: Instant) -> Result<(), Duration> {
        self.refill(now);
        let Some(rate) = self.rate else { return Ok(()) };
        let needed = (records as f64).min(burst(rate));
        if self.tokens >= needed {
            self.tokens -= records as f64;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((needed - self.tokens) / rate))
        }
    }
}

fn burst(rate: f64) -> f64 {
    (rate * BURST_SECONDS).max(1.0)
}

impl Pacer {
    /// A pacer at `rate` records per second (`None`: no limit), starting with a full burst.
    pub fn new(rate: Option<f64>) -> Self {
        Self {
            state: Mutex::new(PacerState {
                rate,
                tokens: rate.map_or(0.0, burst),
                refilled_at: Instant::now(),
            }),
            line: tokio::sync::Mutex::new(()),
        }
    }

    fn state(&self) -> MutexGuard<'_, PacerState> {
        // A poisoned lock only means a panic elsewhere while holding it; the numbers stay meaningful.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn rate(&self) -> Option<f64> {
        self.state().rate
    }

    /// Changes the rate from now on; tokens earned so far are kept, up to the new burst.
    pub fn set_rate(&self, rate: Option<f64>) {
        self.set_rate_at(rate, Instant::now());
    }

    /// [`Self::set_rate`] at `now` (a simulated clock's, in tests).
    pub fn set_rate_at(&self, rate: Option<f64>, now: Instant) {
        let mut state = self.state();
        state.refill(now);
        state.rate = rate;
        if let Some(rate) = rate {
            state.tokens = state.tokens.min(burst(rate));
        }
    }

    /// Takes `records` tokens if they are there now: the senders' fast path, and the simulation's.
    pub fn try_take(&self, records: usize, now: Instant) -> Result<(), Duration> {
        self.state().try_take(records, now)
    }

    /// Waits until `records` may be sent at the current rate.
    pub async fn acquire(&self, records: usize) {
        if self.rate().is_none() {
            return;
        }
        let _head = self.line.lock().await;
        loop {
            match self.try_take(records, Instant::now()) {
                Ok(()) => return,
                Err(wait) => tokio::time::sleep(wait.min(RECHECK)).await,
            }
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
    fn the_bucket_holds_the_long_run_rate_and_a_small_burst() {
        let pacer = Pacer::new(Some(1000.0));
        let start = Instant::now();
        // 10 records of burst, then a record per millisecond.
        assert_eq!(pacer.try_take(10, start), Ok(()));
        let wait = pacer.try_take(5, start).unwrap_err();
        assert!((wait.as_secs_f64() * 1e3 - 5.0).abs() < 0.1, "{wait:?}");
        let later = start + Duration::from_millis(5);
        assert_eq!(pacer.try_take(5, later), Ok(()));
        // An idle second earns only the burst back.
        let idle = later + Duration::from_secs(1);
        assert_eq!(pacer.try_take(10, idle), Ok(()));
        assert!(pacer.try_take(1, idle).is_err());
    }

    #[test]
    fn a_take_larger_than_the_burst_waits_for_a_full_bucket_and_leaves_a_debt() {
        let pacer = Pacer::new(Some(100.0)); // burst 1
        let start = Instant::now();
        assert_eq!(pacer.try_take(25, start), Ok(()));
        // 24 owed plus 1 to fill the bucket again: 250 ms.
        let wait = pacer.try_take(25, start).unwrap_err();
        assert!((wait.as_secs_f64() - 0.25).abs() < 0.01, "{wait:?}");
    }

    #[test]
    fn a_new_rate_keeps_the_tokens_up_to_its_burst_and_none_lifts_the_limit() {
        let pacer = Pacer::new(Some(10_000.0)); // burst 100
        pacer.set_rate(Some(1_000.0)); // burst 10
        let now = Instant::now();
        assert_eq!(pacer.try_take(10, now), Ok(()));
        assert!(pacer.try_take(1, now).is_err());
        pacer.set_rate(None);
        assert_eq!(pacer.try_take(1_000_000, now), Ok(()));
        assert_eq!(pacer.rate(), None);
    }

    #[test]
    fn waiters_are_paced_and_served_in_turn() {
        runtime().block_on(async {
            let pacer = std::sync::Arc::new(Pacer::new(Some(200.0)));
            let start = Instant::now();
            let mut tasks = Vec::new();
            for _ in 0..4 {
                let pacer = std::sync::Arc::clone(&pacer);
                tasks.push(tokio::spawn(async move { pacer.acquire(10).await }));
            }
            for task in tasks {
                task.await.unwrap();
            }
            // Each take of 10 finds the bucket's 2 and owes 8: the three after the first wait 50 ms each.
            let elapsed = start.elapsed();
            assert!(elapsed >= Duration::from_millis(140), "{elapsed:?}");
        });
    }

    #[test]
    fn a_cut_reaches_the_head_of_the_line_while_it_waits() {
        runtime().block_on(async {
            let pacer = std::sync::Arc::new(Pacer::new(Some(1.0))); // a record a second
            assert_eq!(pacer.try_take(1, Instant::now()), Ok(()));
            let waiter = {
                let pacer = std::sync::Arc::clone(&pacer);
                tokio::spawn(async move { pacer.acquire(25).await })
            };
            tokio::time::sleep(Duration::from_millis(30)).await;
            assert!(!waiter.is_finished());
            pacer.set_rate(Some(1_000_000.0));
            tokio::time::timeout(Duration::from_secs(5), waiter)
                .await
                .expect("the new rate was seen")
                .unwrap();
        });
    }
}
