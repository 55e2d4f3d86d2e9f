//! Fault points that only tests switch on: a panic in a writer's I/O tasks, to prove that its records are
//! failed with an internal error and that the caller gets that error instead of waiting forever.
//!
//! Nothing in the connector arms them; the JNI library's test variant and this crate's tests do. A point is
//! armed for one feature group (tests running side by side do not hit each other's) and a number of hits.
//! Unarmed, a hit is one relaxed atomic load.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

/// Where an armed fault fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultPoint {
    /// A call task, before it sends its call.
    CallTask,
    /// The writer's dispatcher, after it takes a batch off the queue.
    Dispatcher,
}

impl FaultPoint {
    /// The point named `name` (`call-task`, `dispatcher`).
    pub fn named(name: &str) -> Option<FaultPoint> {
        match name {
            "call-task" => Some(FaultPoint::CallTask),
            "dispatcher" => Some(FaultPoint::Dispatcher),
            _ => None,
        }
    }
}

#[derive(Debug)]
struct Armed {
    point: FaultPoint,
    feature_group: String,
    hits_left: u32,
}

static ANY_ARMED: AtomicBool = AtomicBool::new(false);
static ARMED: Mutex<Vec<Armed>> = Mutex::new(Vec::new());

/// Arms `point` to panic in the next `hits` tasks of writers to `feature_group`.
pub fn arm_panic(point: FaultPoint, feature_group: &str, hits: u32) {
    let mut armed = ARMED.lock().unwrap_or_else(|p| p.into_inner());
    armed.retain(|a| !(a.point == point && a.feature_group == feature_group));
    if hits > 0 {
        armed.push(Armed {
            point,
            feature_group: feature_group.to_owned(),
            hits_left: hits,
        });
    }
    ANY_ARMED.store(!armed.is_empty(), Ordering::Release);
}

/// Panics if `point` is armed for `feature_group`.
pub(crate) fn hit(point: FaultPoint, feature_group: &str) {
    if !ANY_ARMED.load(Ordering::Relaxed) {
        return;
    }
    let fire = {
        let mut armed = ARMED.lock().unwrap_or_else(|p| p.into_inner());
        let found = armed
            .iter_mut()
            .find(|a| a.point == point && a.feature_group == feature_group);
        let fire = match found {
            Some(a) => {
                a.hits_left -= 1;
                true
            }
            None => false,
        };
        armed.retain(|a| a.hits_left > 0);
        ANY_ARMED.store(!armed.is_empty(), Ordering::Release);
        fire
    };
    if fire {
        #[allow(clippy::panic)] // the point of an armed fault
        {
            panic!("fault point {point:?} armed by a test for feature group {feature_group}");
        }
    }
}
