//! The process-wide I/O runtimes: a few current-thread tokio runtimes, each on its own thread, built lazily on
//! first use and never shut down (the JVM loads this library once per executor).
//!
//! Why not one multi-thread runtime: it measured at 1.5-1.9x the CPU per record of a current-thread one, even
//! with a single worker (work stealing and cross-thread wake-ups). Writers are spread over the
//! runtimes round-robin and each writer stays on its runtime, so its tasks, connection pool and flow control
//! live on one thread. Callers (the JNI thread) never run on these threads: they hand work over and block on
//! channels; nothing here calls back into the caller.
//!
//! The number of runtimes is `FEATURESTORE_IO_THREADS` (1..=64) when set, else 1 per 4 available cores, at
//! least 1 and at most 4: one thread keeps up with several encoding callers (sending costs ~2 µs per record,
//! encoding several times that).

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};

use tokio::runtime::Handle;

use crate::error::{ConfigProblem, Error, Result};

pub const THREADS_ENV: &str = "FEATURESTORE_IO_THREADS";

/// One runtime of the set: its index (part of cache keys of things bound to it) and its handle.
#[derive(Debug, Clone)]
pub struct IoRuntime {
    pub index: usize,
    pub handle: Handle,
}

#[derive(Debug)]
struct IoRuntimes {
    runtimes: Vec<IoRuntime>,
    next: AtomicUsize,
}

static RUNTIMES: OnceLock<IoRuntimes> = OnceLock::new();
/// Held while the runtimes start: a second set of threads would run, unused, for the life of the process.
static STARTING: Mutex<()> = Mutex::new(());

/// The number of runtimes to start, from the environment variable's value and the core count.
fn thread_count(env_value: Option<&str>, cores: usize) -> std::result::Result<usize, String> {
    match env_value {
        Some(text) => match text.trim().parse::<usize>() {
            Ok(n) if (1..=64).contains(&n) => Ok(n),
            _ => Err(format!("must be a whole number from 1 to 64, not {text:?}")),
        },
        None => Ok((cores / 4).clamp(1, 4)),
    }
}

fn start() -> Result<IoRuntimes> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let count = thread_count(std::env::var(THREADS_ENV).ok().as_deref(), cores)
        .map_err(|problem| Error::InvalidConfig(vec![ConfigProblem::new(THREADS_ENV, problem)]))?;
    let mut runtimes = Vec::with_capacity(count);
    for index in 0..count {
        let (handle_tx, handle_rx) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name(format!("featurestore-io-{index}"))
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                    Ok(runtime) => runtime,
                    Err(e) => {
                        let _ = handle_tx.send(Err(e.to_string()));
                        return;
                    }
                };
                let _ = handle_tx.send(Ok(runtime.handle().clone()));
                // Drives every task spawned onto this runtime, for the life of the process.
                runtime.block_on(std::future::pending::<()>());
            })
            .map_err(|e| Error::Internal(format!("cannot start an I/O thread: {e}")))?;
        let handle = handle_rx
            .recv()
            .map_err(|_| Error::Internal("an I/O thread died while starting".into()))?
            .map_err(|e| Error::Internal(format!("cannot build an I/O runtime: {e}")))?;
        runtimes.push(IoRuntime { index, handle });
    }
    log::debug!("started {count} I/O runtime thread(s)");
    Ok(IoRuntimes {
        runtimes,
        next: AtomicUsize::new(0),
    })
}

fn runtimes() -> Result<&'static IoRuntimes> {
    if let Some(all) = RUNTIMES.get() {
        return Ok(all);
    }
    let _one_at_a_time = STARTING.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(all) = RUNTIMES.get() {
        return Ok(all);
    }
    let started = start()?;
    Ok(RUNTIMES.get_or_init(|| started))
}

/// The runtime for the next writer (round-robin).
pub fn next_runtime() -> Result<IoRuntime> {
    let all = runtimes()?;
    let i = all.next.fetch_add(1, Ordering::Relaxed) % all.runtimes.len();
    Ok(all.runtimes[i].clone())
}

/// The number of runtimes (starts them if needed).
pub fn runtime_count() -> Result<usize> {
    Ok(runtimes()?.runtimes.len())
}

impl IoRuntime {
    /// Runs `future` on this runtime and blocks the calling thread until it is done. Must not be called from a
    /// runtime thread (it would block the runtime it waits for).
    pub fn block_on<F>(&self, future: F) -> Result<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        if Handle::try_current().is_ok() {
            return Err(Error::Internal(
                "a blocking featurestore call was made from inside an async runtime".into(),
            ));
        }
        let (done_tx, done_rx) = tokio::sync::oneshot::channel();
        self.handle.spawn(async move {
            let _ = done_tx.send(future.await);
        });
        done_rx
            .blocking_recv()
            .map_err(|_| Error::Internal("an I/O task ended without an answer (it panicked)".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_count_comes_from_the_environment_or_the_cores() {
        assert_eq!(thread_count(None, 2), Ok(1));
        assert_eq!(thread_count(None, 8), Ok(2));
        assert_eq!(thread_count(None, 96), Ok(4));
        assert_eq!(thread_count(Some(" 3 "), 2), Ok(3));
        assert!(thread_count(Some("0"), 2).is_err());
        assert!(thread_count(Some("many"), 2).is_err());
    }

    #[test]
    fn work_runs_on_the_io_threads_and_writers_go_round_robin() {
        let count = runtime_count().unwrap();
        let first = next_runtime().unwrap();
        let name = first
            .block_on(async { std::thread::current().name().map(str::to_owned) })
            .unwrap();
        assert!(name.unwrap().starts_with("featurestore-io-"));
        // Other tests take runtimes concurrently, so only the range is checked here.
        assert!((0..count * 3).all(|_| next_runtime().unwrap().index < count));
    }

    #[test]
    fn blocking_from_inside_a_runtime_is_refused() {
        let io = next_runtime().unwrap();
        let inner = io.clone();
        let nested = io
            .block_on(async move { inner.block_on(async {}).is_err() })
            .unwrap();
        assert!(nested);
    }
}
