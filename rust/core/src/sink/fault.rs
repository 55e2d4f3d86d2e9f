//! Fault points that only tests switch on: a panic in a writer's I/O tasks, to prove that its records are
//! failed with an internal error and that the caller gets that error instead of waiting forever; a call task
//! that stalls (until the writer is aborted), to prove that the Spark task gives up on a writer that settles
//! nothing.
//!
//! Nothing in the connector arms them; the JNI library's test variant and this crate's tests do. A point is
//! armed for one feature group (tests running side by side do not hit each other's) and a number of hits.
//! Unarmed, a hit is one relaxed atomic load.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

/// Where an armed fault fires, and what it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultPoint {
    /// A call task panics before it sends its call.
    CallTask,
    /// The writer's dispatcher panics after it takes a batch off the queue.
    Dispatcher,
    /// A call task waits, before it sends its call, until the writer is aborted.
    CallTaskStall,
}

impl FaultPoint {
    /// The point named `name` (`call-task`, `dispatcher`, `call-task-stall`).
    pub fn named(name: &str) -> Option<FaultPoint> {
        match name {
            "call-task" => Some(FaultPoint::CallTask),
            "dispatcher" => Some(FaultPoint::Dispatcher),
            "call-task-stall" => Some(FaultPoint::CallTaskStall),
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

/// Arms `point` for the next `hits` tasks of writers to `feature_group`.
pub fn arm(point: FaultPoint, feature_group: &str, hits: u32) {
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

/// Whether `point` is armed for `feature_group` (and takes one hit); a panic point panics instead.
pub(crate) fn hit(point: FaultPoint, feature_group: &str) -> bool {
    if !ANY_ARMED.load(Ordering::Relaxed) {
        return false;
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
    if fire && point != FaultPoint::CallTaskStall {
        #[allow(clippy::panic)] // the point of an armed fault
        {
            panic!("fault point {point:?} armed by a test for feature group {feature_group}");
        }
    }
    fire
}
