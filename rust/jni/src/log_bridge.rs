//! Native log records go to the JVM's logger (log4j on executors), never to stderr.
//!
//! A `log::Log` that only queues: records come from any thread (the engine's I/O threads included), and a JNI
//! call from those threads is not allowed, so the Java side drains the queue itself (after each of its native
//! calls) and hands each record to slf4j. The queue is bounded: when the JVM does not drain fast
//! enough the oldest records are dropped and counted, and the count is reported with the next drain.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Records kept between two drains; beyond this the oldest are dropped (a log flood must not grow memory).
const CAPACITY: usize = 10_000;

/// One queued record, ready for the Java side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LogLine {
    pub level: log::Level,
    pub target: String,
    pub message: String,
}

struct QueueLogger {
    queue: Mutex<VecDeque<LogLine>>,
    dropped: AtomicU64,
}

static LOGGER: QueueLogger = QueueLogger {
    queue: Mutex::new(VecDeque::new()),
    dropped: AtomicU64::new(0),
};

impl log::Log for QueueLogger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &log::Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let line = LogLine {
            level: record.level(),
            target: record.target().to_string(),
            message: record.args().to_string(),
        };
        // A poisoned lock only means another thread panicked while pushing; the queue is still usable.
        let mut queue = self.queue.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if queue.len() >= CAPACITY {
            queue.pop_front();
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
        queue.push_back(line);
    }

    fn flush(&self) {}
}

/// Makes the bridge the process's logger (once; a logger installed earlier by someone else wins, and then
/// native records go wherever it sends them). Starts at `Info`, until the Java side says what it wants.
pub(crate) fn install() {
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(log::LevelFilter::Info);
    }
}

/// Sets the most verbose level that is queued: 0 off, 1 error, 2 warn, 3 info, 4 debug, 5 trace.
pub(crate) fn set_level(level: i32) {
    let filter = match level {
        i32::MIN..=0 => log::LevelFilter::Off,
        1 => log::LevelFilter::Error,
        2 => log::LevelFilter::Warn,
        3 => log::LevelFilter::Info,
        4 => log::LevelFilter::Debug,
        _ => log::LevelFilter::Trace,
    };
    log::set_max_level(filter);
}

/// Takes up to `max` queued records, oldest first. When records were dropped since the last drain, a
/// warning saying how many comes first.
pub(crate) fn drain(max: usize) -> Vec<LogLine> {
    let mut lines = Vec::new();
    let dropped = LOGGER.dropped.swap(0, Ordering::Relaxed);
    if dropped > 0 {
        lines.push(LogLine {
            level: log::Level::Warn,
            target: "featurestore_jni".into(),
            message: format!("{dropped} native log records were dropped: the JVM did not drain them in time"),
        });
    }
    let mut queue = LOGGER
        .queue
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let n = queue.len().min(max);
    lines.extend(queue.drain(..n));
    lines
}

/// The number slf4j-side code switches on: 1 error .. 5 trace.
pub(crate) fn level_number(level: log::Level) -> i32 {
    match level {
        log::Level::Error => 1,
        log::Level::Warn => 2,
        log::Level::Info => 3,
        log::Level::Debug => 4,
        log::Level::Trace => 5,
    }
}
