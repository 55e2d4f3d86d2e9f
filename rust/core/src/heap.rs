//! The native library's heap, counted on request: the allocator the JNI library installs wraps the system's and,
//! once [`start_counting`] has been called (the memory benchmark does), keeps the bytes in use and their peak.
//! Until then an allocation pays one relaxed load: crates that count (`cap`, `stats_alloc`) do an atomic
//! read-modify-write on every allocation and free, on the encoder's and the I/O threads' hot paths.
//!
//! Allocations made before counting started and freed after it are subtracted, so "in use" is the growth since
//! counting started (clamped at zero when read); start counting before the first writer opens.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering};

static COUNTING: AtomicBool = AtomicBool::new(false);
static IN_USE: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);

/// The system allocator, counted once [`start_counting`] was called.
#[derive(Debug, Default)]
pub struct CountingAllocator;

impl CountingAllocator {
    #[inline]
    fn grew(size: usize) {
        if COUNTING.load(Ordering::Relaxed) {
            let now = IN_USE.fetch_add(signed(size), Ordering::Relaxed) + signed(size);
            if now > PEAK.load(Ordering::Relaxed) {
                PEAK.fetch_max(now, Ordering::Relaxed);
            }
        }
    }

    #[inline]
    fn shrank(size: usize) {
        if COUNTING.load(Ordering::Relaxed) {
            IN_USE.fetch_sub(signed(size), Ordering::Relaxed);
        }
    }
}

fn signed(size: usize) -> isize {
    isize::try_from(size).unwrap_or(isize::MAX)
}

// SAFETY: every call is forwarded to `System` with the caller's arguments unchanged; the counting only reads
// sizes and touches atomics, it never allocates.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as is (the caller upholds `alloc`'s contract).
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            Self::grew(layout.size());
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as `alloc`.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            Self::grew(layout.size());
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as `alloc`: `ptr` came from this allocator, hence from `System`, with `layout`.
        unsafe { System.dealloc(ptr, layout) };
        Self::shrank(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as `dealloc`.
        let moved = unsafe { System.realloc(ptr, layout, new_size) };
        if !moved.is_null() {
            if new_size >= layout.size() {
                Self::grew(new_size - layout.size());
            } else {
                Self::shrank(layout.size() - new_size);
            }
        }
        moved
    }
}

/// Starts counting (idempotent): from now on, the heap's growth and its peak are kept.
pub fn start_counting() {
    COUNTING.store(true, Ordering::Relaxed);
}

/// What the heap holds, in bytes, since counting started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeapUse {
    pub counting: bool,
    pub in_use: u64,
    /// The most in use at once since counting started, or since the last [`read_and_reset_peak`].
    pub peak: u64,
}

/// The heap's use now; the peak starts again from the bytes in use now.
pub fn read_and_reset_peak() -> HeapUse {
    let in_use = IN_USE.load(Ordering::Relaxed);
    let peak = PEAK.swap(in_use, Ordering::Relaxed);
    HeapUse {
        counting: COUNTING.load(Ordering::Relaxed),
        in_use: u64::try_from(in_use).unwrap_or(0),
        peak: u64::try_from(peak.max(in_use)).unwrap_or(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The counters are process-wide and the test binary's allocator is the system's, so the test drives the
    // allocator directly: the only test touching them.
    #[test]
    fn counts_growth_and_peak_once_started_and_nothing_before() {
        let heap = CountingAllocator;
        let layout = Layout::from_size_align(1000, 8).unwrap();
        // SAFETY: a non-zero layout; every block is freed with the layout it was allocated with.
        unsafe {
            let before = heap.alloc(layout);
            assert_eq!(read_and_reset_peak().in_use, 0, "not counting yet");
            start_counting();
            let a = heap.alloc(layout);
            let b = heap.alloc_zeroed(layout);
            let b = heap.realloc(b, layout, 3000);
            let after = read_and_reset_peak();
            assert_eq!((after.counting, after.in_use, after.peak), (true, 4000, 4000));
            heap.dealloc(a, layout);
            heap.dealloc(b, Layout::from_size_align(3000, 8).unwrap());
            let freed = read_and_reset_peak();
            assert_eq!(
                (freed.in_use, freed.peak),
                (0, 4000),
                "the peak outlives the frees"
            );
            assert_eq!(read_and_reset_peak().peak, 0, "and starts again when read");
            heap.dealloc(before, layout);
            assert_eq!(
                read_and_reset_peak().in_use,
                0,
                "an older block's free is clamped, not negative"
            );
        }
    }
}
