//! `maxRecordsPerSecond`: a ceiling shared by the writers of one write in this process.
//!
//! The Spark driver shares a job's ceiling among the executors by the tasks each is running, and moves each
//! executor's share as tasks start and end and executors come and go; an executor sets its share here by the
//! write's id. Writers of one write get the same [`Pacer`] while any of them is open; the registry keeps it only
//! as long as a writer does.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, Weak};

use crate::rate::Pacer;

static CEILINGS: LazyLock<Mutex<HashMap<String, Weak<Pacer>>>> = LazyLock::new(|| Mutex::new(HashMap::new()));

/// The ceiling of a writer: shared with the other writers of `write_id` in this process (the first one sets the
/// rate, later ones find it), or its own without a write id.
pub fn ceiling_for(write_id: Option<&str>, records_per_second: f64) -> Arc<Pacer> {
    let Some(write_id) = write_id else {
        return Arc::new(Pacer::new(Some(records_per_second)));
    };
    let mut ceilings = CEILINGS.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(pacer) = ceilings.get(write_id).and_then(Weak::upgrade) {
        return pacer;
    }
    // Entries of writes whose writers are all gone are dropped here, so the map stays as small as the writes open.
    ceilings.retain(|_, pacer| pacer.strong_count() > 0);
    let pacer = Arc::new(Pacer::new(Some(records_per_second)));
    ceilings.insert(write_id.to_owned(), Arc::downgrade(&pacer));
    pacer
}

/// Sets the ceiling of `write_id` in this process; false when no writer of it is open here.
pub fn set_write_ceiling(write_id: &str, records_per_second: f64) -> bool {
    let ceilings = CEILINGS.lock().unwrap_or_else(|p| p.into_inner());
    match ceilings.get(write_id).and_then(Weak::upgrade) {
        Some(pacer) => {
            pacer.set_rate(Some(records_per_second));
            true
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writers_of_one_write_share_its_ceiling_while_one_is_open() {
        let first = ceiling_for(Some("ceiling-test-a"), 100.0);
        let second = ceiling_for(Some("ceiling-test-a"), 999.0);
        assert!(Arc::ptr_eq(&first, &second));
        assert_eq!(second.rate(), Some(100.0), "the first writer's rate holds");
        assert!(set_write_ceiling("ceiling-test-a", 50.0));
        assert_eq!(first.rate(), Some(50.0));
        drop((first, second));
        assert!(
            !set_write_ceiling("ceiling-test-a", 50.0),
            "gone with its last writer"
        );
        assert!(!set_write_ceiling("ceiling-test-unknown", 50.0));
    }

    #[test]
    fn a_writer_without_a_write_id_has_its_own() {
        let a = ceiling_for(None, 10.0);
        let b = ceiling_for(None, 10.0);
        assert!(!Arc::ptr_eq(&a, &b));
    }
}
