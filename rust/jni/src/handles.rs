//! The handle table: native objects the JVM refers to by a `long`.
//!
//! Ownership: [`HandleTable::insert`] moves the object into the table and returns its handle; the Java object
//! that receives the handle (`NativeWriter`, an `AutoCloseable`) owns it and calls `close` exactly once in
//! effect (its `close()` is idempotent, and a task-completion listener calls it too), which
//! [`HandleTable::remove`]s and drops the object. Handles are table keys, never addresses: a stale or
//! forged handle is an error, not a dangling pointer, and handles are never reused within a process.
//!
//! Each object sits behind its own mutex: calls on one writer are serialized (Spark calls a writer from its
//! task thread only; `close` may come from a listener), calls on different writers run in parallel.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard};

use crate::call::{BridgeError, BridgeResult};

pub(crate) struct HandleTable<T> {
    /// What the table holds, for messages.
    kind: &'static str,
    next: AtomicI64,
    entries: LazyLock<Mutex<HashMap<i64, Arc<Mutex<T>>>>>,
}

impl<T> HandleTable<T> {
    pub(crate) const fn new(kind: &'static str) -> Self {
        Self {
            kind,
            next: AtomicI64::new(1),
            entries: LazyLock::new(|| Mutex::new(HashMap::new())),
        }
    }

    fn entries(&self) -> MutexGuard<'_, HashMap<i64, Arc<Mutex<T>>>> {
        // The map is only ever inserted into or removed from under this lock; a panic elsewhere cannot leave it
        // half-updated, so a poisoned lock is safe to reuse.
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Moves `value` into the table; the caller hands the returned handle to its Java owner.
    pub(crate) fn insert(&self, value: T) -> i64 {
        let handle = self.next.fetch_add(1, Ordering::Relaxed);
        self.entries().insert(handle, Arc::new(Mutex::new(value)));
        handle
    }

    /// Runs `f` on the object behind `handle`, holding its lock for the call.
    pub(crate) fn with<R>(&self, handle: i64, f: impl FnOnce(&mut T) -> BridgeResult<R>) -> BridgeResult<R> {
        let entry = self.entries().get(&handle).cloned().ok_or_else(|| {
            BridgeError::Contract(format!("{} handle {handle} is closed or unknown", self.kind))
        })?;
        let mut object = entry.lock().map_err(|_| {
            BridgeError::Contract(format!(
                "{} handle {handle} is unusable: an earlier call on it panicked",
                self.kind
            ))
        })?;
        f(&mut object)
    }

    /// Takes the object out of the table (dropping it once no call holds it). Unknown handles are ignored, so
    /// that closing twice is harmless.
    pub(crate) fn remove(&self, handle: i64) -> Option<Arc<Mutex<T>>> {
        self.entries().remove(&handle)
    }

    /// Handles currently open (for tests of the close paths).
    pub(crate) fn len(&self) -> usize {
        self.entries().len()
    }
}
