//! The writer's bounded queue, as a budget of records and bytes queued or in flight: the caller takes from it
//! before handing a batch over (and blocks while it is spent, which is the backpressure on the Spark task),
//! the I/O side gives back as records settle and batches are freed. Memory stays bounded whatever the input.

use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct QueueBudget {
    state: Mutex<State>,
    freed: Condvar,
    max_records: usize,
    max_bytes: usize,
}

/// What is in use, and what the blocked caller waits for: give-backs wake it only when that has come true,
/// not on every settled call (with PutRecord that would be a futex wake-up per record).
#[derive(Debug, Default)]
struct State {
    used: Used,
    /// The taker is blocked until this much fits.
    taker_needs: Option<Used>,
    /// A flush (or abort) is blocked until no record is in use.
    settle_waiter: bool,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Used {
    /// Records accepted and not yet settled (acknowledged or failed).
    pub records: usize,
    /// Bytes of encoded batches not yet freed.
    pub bytes: usize,
}

impl QueueBudget {
    pub fn new(max_records: usize, max_bytes: usize) -> Self {
        Self {
            state: Mutex::new(State::default()),
            freed: Condvar::new(),
            max_records: max_records.max(1),
            max_bytes: max_bytes.max(1),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn fits(&self, used: Used, records: usize, bytes: usize) -> bool {
        (used.records == 0 && used.bytes == 0)
            || (used.records + records <= self.max_records && used.bytes + bytes <= self.max_bytes)
    }

    /// Wakes the blocked caller if what it waits for has come true.
    fn wake_if_ready(&self, state: MutexGuard<'_, State>) {
        let taker_ready = state
            .taker_needs
            .is_some_and(|need| self.fits(state.used, need.records, need.bytes));
        let settled = state.settle_waiter && state.used.records == 0;
        drop(state);
        if taker_ready || settled {
            self.freed.notify_all();
        }
    }

    /// Blocks until `records` and `bytes` fit, then takes them. A batch larger than the whole budget is let
    /// in alone, once everything before it is done, so it cannot wait forever.
    pub fn take(&self, records: usize, bytes: usize) {
        self.take_within(records, bytes, None);
    }

    /// [`Self::take`], giving up after `timeout` (`None`: never); returns whether it took them.
    pub fn take_within(&self, records: usize, bytes: usize, timeout: Option<Duration>) -> bool {
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut state = self.state();
        while !self.fits(state.used, records, bytes) {
            state.taker_needs = Some(Used { records, bytes });
            state = match deadline {
                None => self.freed.wait(state).unwrap_or_else(|p| p.into_inner()),
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        state.taker_needs = None;
                        return false;
                    }
                    self.freed
                        .wait_timeout(state, left)
                        .unwrap_or_else(|p| p.into_inner())
                        .0
                }
            };
        }
        state.taker_needs = None;
        state.used.records += records;
        state.used.bytes += bytes;
        true
    }

    pub fn give_back_records(&self, records: usize) {
        let mut state = self.state();
        state.used.records = state.used.records.saturating_sub(records);
        self.wake_if_ready(state);
    }

    pub fn give_back_bytes(&self, bytes: usize) {
        let mut state = self.state();
        state.used.bytes = state.used.bytes.saturating_sub(bytes);
        self.wake_if_ready(state);
    }

    pub fn in_use(&self) -> Used {
        self.state().used
    }

    /// Blocks until every record taken has been given back, or `timeout` passes; returns whether it emptied.
    pub fn wait_until_settled(&self, timeout: Option<Duration>) -> bool {
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut state = self.state();
        while state.used.records > 0 {
            state.settle_waiter = true;
            state = match deadline {
                None => self.freed.wait(state).unwrap_or_else(|p| p.into_inner()),
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        state.settle_waiter = false;
                        return false;
                    }
                    self.freed
                        .wait_timeout(state, left)
                        .unwrap_or_else(|p| p.into_inner())
                        .0
                }
            };
        }
        state.settle_waiter = false;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn a_full_budget_blocks_until_records_are_given_back() {
        let budget = Arc::new(QueueBudget::new(10, 1000));
        budget.take(8, 100);
        let taker = {
            let budget = Arc::clone(&budget);
            std::thread::spawn(move || budget.take(5, 100))
        };
        std::thread::sleep(Duration::from_millis(50));
        assert!(!taker.is_finished(), "5 more records do not fit");
        budget.give_back_records(4);
        taker.join().unwrap();
        assert_eq!(
            budget.in_use(),
            Used {
                records: 9,
                bytes: 200
            }
        );
    }

    #[test]
    fn bytes_bound_too_and_an_oversized_batch_goes_alone() {
        let budget = QueueBudget::new(100, 1000);
        budget.take(1, 900);
        assert!(!budget.wait_until_settled(Some(Duration::from_millis(10))));
        budget.give_back_records(1);
        assert!(budget.wait_until_settled(Some(Duration::from_millis(10))));
        budget.give_back_bytes(900);
        budget.take(1, 5000); // larger than the budget, admitted into an empty queue
        assert_eq!(
            budget.in_use(),
            Used {
                records: 1,
                bytes: 5000
            }
        );
    }
}
