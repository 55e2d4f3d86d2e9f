//! What a sleep and wake-up, and memory touched right after one, cost on this machine: the same strided work over
//! KB of memory, back to back or with a sleep of GAP_US between calls; prints the thread's CPU time per call.
//! It tells how much of the engine's CPU per record at low call rates (5 ms of added latency, few calls in
//! flight) is the host's rather than ours. Standalone, std only:
//!
//! ```text
//! rustc -O bench/host-wake-cost.rs -o /tmp/host-wake-cost
//! for kb in 0 16 256; do for gap in 0 400; do taskset -c 0 /tmp/host-wake-cost $kb $gap 5000; done; done
//! ```
use std::time::{Duration, Instant};

/// CPU time of the calling thread, in seconds.
fn thread_cpu() -> f64 {
    #[repr(C)]
    struct Timespec {
        sec: i64,
        nsec: i64,
    }
    unsafe extern "C" {
        fn clock_gettime(clock: i32, ts: *mut Timespec) -> i32;
    }
    const CLOCK_THREAD_CPUTIME_ID: i32 = 3;
    let mut ts = Timespec { sec: 0, nsec: 0 };
    // SAFETY: clock_gettime fills a `struct timespec` (two 64-bit fields on x86_64 and aarch64 Linux).
    let rc = unsafe { clock_gettime(CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime");
    ts.sec as f64 + ts.nsec as f64 / 1e9
}

/// Reads and writes one word per cache line of `memory`, as a request's buffers and state would be touched.
fn work(memory: &mut [u64], seed: u64) -> u64 {
    let mut x = seed;
    for i in (0..memory.len()).step_by(8) {
        x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(memory[i]);
        memory[i] = x;
    }
    x
}

fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("usage: host-wake-cost KB GAP_US CALLS"))
        .collect();
    let [kb, gap_us, calls] = args[..] else {
        panic!("usage: host-wake-cost KB GAP_US CALLS");
    };
    let mut memory = vec![1u64; kb as usize * 1024 / 8];
    let mut keep = 0;
    for i in 0..1000 {
        keep ^= work(&mut memory, i);
    }
    let (cpu, wall) = (thread_cpu(), Instant::now());
    for i in 0..calls {
        keep ^= work(&mut memory, i);
        if gap_us > 0 {
            std::thread::sleep(Duration::from_micros(gap_us));
        }
    }
    let per_call = (thread_cpu() - cpu) / calls as f64 * 1e6;
    println!(
        "{kb} KB, gap {gap_us} us: {per_call:.2} us CPU per call over {:.1} s (checksum bit {})",
        wall.elapsed().as_secs_f64(),
        keep & 1
    );
}
