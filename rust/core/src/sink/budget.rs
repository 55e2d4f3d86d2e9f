//! The writer's bounded queue, as a budget of records and bytes queued or in flight: the caller takes from it
//! before handing a batch over (and blocks while it is spent, which is the backpressure on the Spark task),
//! the I/O side gives back as records settle and batches are freed. Memory stays bounded whatever the input.

use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct QueueBudget {
    used: Mutex<Used>,
    freed: Condvar,
    max_records: usize,
    max_bytes: usize,
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
            used: Mutex::new(Used::default()),
            freed: Condvar::new(),
            max_records: max_records.max(1),
            max_bytes: max_bytes.max(1),
        }
    }

    fn used(&self) -> MutexGuard<'_, Used> {
        self.used.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Blocks until `records` and `bytes` fit, then takes them. A batch larger than the whole budget is let
    /// in alone, once everything before it is done, so it cannot wait forever.
    pub fn take(&self, records: usize, bytes: usize) {
        let mut used = self.used();
        while !(used.records == 0 && used.bytes == 0
            || used.records + records <= self.max_records && used.bytes + bytes <= self.max_bytes)
        {
            used = self.freed.wait(used).unwrap_or_else(|p| p.into_inner());
        }
        used.records += records;
        used.bytes += bytes;
    }

    pub fn give_back_records(&self, records: usize) {
        let mut used = self.used();
        used.records = used.records.saturating_sub(records);
        drop(used);
        self.freed.notify_all();
    }

    pub fn give_back_bytes(&self, bytes: usize) {
        let mut used = self.used();
        used.bytes = used.bytes.saturating_sub(bytes);
        drop(used);
        self.freed.notify_all();
    }

    pub fn in_use(&self) -> Used {
        *self.used()
    }

    /// Blocks until every record taken has been given back, or `timeout` passes; returns whether it emptied.
    pub fn wait_until_settled(&self, timeout: Option<Duration>) -> bool {
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut used = self.used();
        while used.records > 0 {
            used = match deadline {
                None => self.freed.wait(used).unwrap_or_else(|p| p.into_inner()),
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return false;
                    }
                    self.freed
                        .wait_timeout(used, left)
                        .unwrap_or_else(|p| p.into_inner())
                        .0
                }
            };
        }
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
