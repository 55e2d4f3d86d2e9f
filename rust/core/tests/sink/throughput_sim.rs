//! The adaptive rate against a simulated service, on a simulated clock (no sleeps, no sockets): writers send
//! calls of 25 records through the real `RateControl` and `Pacer`; the service admits them from a token bucket
//! of one second's burst, as featurestore-local's cap does, and may also throttle at random. What is checked is
//! where the controller goes, not how fast the machine is.
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::{Duration, Instant};

use featurestore_core::rate::Pacer;
use featurestore_core::throughput::RateControl;

const RECORDS_PER_CALL: usize = 25;
/// tokio's timer wakes a sleeper no sooner than this.
const TIMER_GRANULARITY: f64 = 0.001;

/// A service with a records-per-second cap (one second of burst) that can change over time, and random throttling.
struct Service {
    /// (from second, cap) steps, in order; `None`: no cap.
    caps: Vec<(f64, Option<f64>)>,
    tokens: f64,
    refilled_at: f64,
    cap_now: Option<f64>,
    throttle_probability: f64,
    rng: fastrand::Rng,
}

impl Service {
    fn new(caps: Vec<(f64, Option<f64>)>, throttle_probability: f64, seed: u64) -> Self {
        let cap_now = caps[0].1;
        Self {
            caps,
            tokens: cap_now.unwrap_or(0.0),
            refilled_at: 0.0,
            cap_now,
            throttle_probability,
            rng: fastrand::Rng::with_seed(seed),
        }
    }

    fn cap_at(&self, t: f64) -> Option<f64> {
        self.caps
            .iter()
            .rev()
            .find(|(from, _)| *from <= t)
            .and_then(|(_, cap)| *cap)
    }

    /// Whether a call of `records` arriving at `t` is written (else throttled).
    fn admit(&mut self, t: f64, records: usize) -> bool {
        if self.rng.f64() < self.throttle_probability {
            return false;
        }
        let cap = self.cap_at(t);
        if cap != self.cap_now {
            // A cap that changes keeps the tokens it has, up to its new burst: a step, not a free second.
            self.cap_now = cap;
            self.tokens = self.tokens.min(cap.unwrap_or(0.0));
        }
        let Some(cap) = cap else { return true };
        self.tokens = (self.tokens + (t - self.refilled_at) * cap).min(cap);
        self.refilled_at = t;
        if self.tokens >= records as f64 {
            self.tokens -= records as f64;
            true
        } else {
            false
        }
    }
}

/// One executor: its controller, its pacer and its calls in flight.
struct Executor {
    control: RateControl,
    pacer: Pacer,
    in_flight: usize,
    max_in_flight: usize,
    latency: f64,
    /// Records per second the writers have to send; `None`: always more.
    demand: Option<f64>,
    sent: f64,
    waiting: bool,
    /// When the executor starts sending.
    starts: f64,
}

#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Event {
    TrySend {
        executor: usize,
    },
    Answer {
        executor: usize,
        generation: u64,
        written: bool,
    },
}

/// Per-second counts of one executor.
#[derive(Debug, Default, Clone, Copy)]
struct Second {
    written: u64,
    requests: u64,
    throttled: u64,
}

struct Run {
    /// seconds[executor][second]
    seconds: Vec<Vec<Second>>,
}

impl Run {
    fn total(&self, from: usize, to: usize) -> Second {
        let mut total = Second::default();
        for executor in &self.seconds {
            for s in &executor[from..to] {
                total.written += s.written;
                total.requests += s.requests;
                total.throttled += s.throttled;
            }
        }
        total
    }

    fn written_per_second(&self, from: usize, to: usize) -> f64 {
        self.total(from, to).written as f64 / (to - from) as f64
    }

    fn throttled_share(&self, from: usize, to: usize) -> f64 {
        let total = self.total(from, to);
        total.throttled as f64 / total.requests.max(1) as f64
    }

    fn executor_written(&self, executor: usize, from: usize, to: usize) -> f64 {
        self.seconds[executor][from..to]
            .iter()
            .map(|s| s.written as f64)
            .sum::<f64>()
            / (to - from) as f64
    }

    /// The first second from which every rolling `SETTLE_WINDOW` seconds until `to` wrote at least `share` of
    /// `cap` a second and had at most `max_throttled` of its requests throttled. (Rolling, because at a few dozen
    /// calls a second a single second's count is quantized by whole calls.)
    fn settled_from(
        &self,
        from: usize,
        to: usize,
        cap: f64,
        share: f64,
        max_throttled: f64,
    ) -> Option<usize> {
        (from..=to - SETTLE_WINDOW).find(|&start| {
            (start..=to - SETTLE_WINDOW).all(|s| {
                let total = self.total(s, s + SETTLE_WINDOW);
                total.written as f64 >= share * cap * SETTLE_WINDOW as f64
                    && total.throttled as f64 <= max_throttled * total.requests.max(1) as f64
            })
        })
    }
}

const SETTLE_WINDOW: usize = 2;

struct Simulation {
    start: Instant,
    service: Service,
    executors: Vec<Executor>,
}

impl Simulation {
    fn new(service: Service) -> Self {
        Self {
            start: Instant::now(),
            service,
            executors: Vec::new(),
        }
    }

    fn executor(mut self, max_in_flight: usize, latency_ms: f64, demand: Option<f64>) -> Self {
        self.executors.push(Executor {
            control: RateControl::new(self.start),
            pacer: Pacer::new(None),
            in_flight: 0,
            max_in_flight,
            latency: latency_ms / 1e3,
            demand,
            sent: 0.0,
            waiting: false,
            starts: 0.0,
        });
        self
    }

    fn starting_at(mut self, seconds: f64) -> Self {
        if let Some(last) = self.executors.last_mut() {
            last.starts = seconds;
        }
        self
    }

    fn at(&self, t: f64) -> Instant {
        self.start + Duration::from_secs_f64(t)
    }

    fn run(mut self, seconds: usize) -> Run {
        let mut run = Run {
            seconds: vec![vec![Second::default(); seconds]; self.executors.len()],
        };
        let nanos = |t: f64| (t * 1e9).ceil() as u64;
        let mut events = BinaryHeap::new();
        let mut sequence = 0u64;
        for executor in 0..self.executors.len() {
            let starts = nanos(self.executors[executor].starts);
            events.push(Reverse((starts, sequence, Event::TrySend { executor })));
            sequence += 1;
        }
        let end = seconds as f64;
        while let Some(Reverse((time, _, event))) = events.pop() {
            let t = time as f64 / 1e9;
            if t >= end {
                break;
            }
            let now = self.at(t);
            match event {
                Event::Answer {
                    executor,
                    generation,
                    written,
                } => {
                    let e = &mut self.executors[executor];
                    e.in_flight -= 1;
                    let accepted = if written { RECORDS_PER_CALL } else { 0 };
                    e.control.on_answer(now, generation, accepted, !written);
                    e.pacer.set_rate_at(e.control.rate(), now);
                    let second = &mut run.seconds[executor][t as usize];
                    second.requests += 1;
                    second.written += accepted as u64;
                    second.throttled += u64::from(!written);
                    if !e.waiting {
                        e.waiting = true;
                        events.push(Reverse((time, sequence, Event::TrySend { executor })));
                        sequence += 1;
                    }
                }
                Event::TrySend { executor } => {
                    self.executors[executor].waiting = false;
                    loop {
                        let e = &mut self.executors[executor];
                        if e.in_flight >= e.max_in_flight {
                            break; // an answer will try again
                        }
                        if let Some(demand) = e.demand
                            && e.sent + RECORDS_PER_CALL as f64 > demand * (t - e.starts) + 1e-6
                        {
                            let ready = e.starts + (e.sent + RECORDS_PER_CALL as f64) / demand + 1e-6;
                            e.waiting = true;
                            events.push(Reverse((nanos(ready), sequence, Event::TrySend { executor })));
                            sequence += 1;
                            break;
                        }
                        match e.pacer.try_take(RECORDS_PER_CALL, now) {
                            Ok(()) => {
                                let generation = e.control.on_send(now, RECORDS_PER_CALL);
                                e.in_flight += 1;
                                e.sent += RECORDS_PER_CALL as f64;
                                let arrives = t + e.latency / 2.0;
                                let answered = t + e.latency;
                                let written = self.service.admit(arrives, RECORDS_PER_CALL);
                                events.push(Reverse((
                                    nanos(answered),
                                    sequence,
                                    Event::Answer {
                                        executor,
                                        generation,
                                        written,
                                    },
                                )));
                                sequence += 1;
                            }
                            Err(wait) => {
                                let retry = t + wait.as_secs_f64().max(TIMER_GRANULARITY);
                                e.waiting = true;
                                events.push(Reverse((nanos(retry), sequence, Event::TrySend { executor })));
                                sequence += 1;
                                break;
                            }
                        }
                    }
                }
            }
        }
        run
    }
}

fn capped(cap: f64) -> Service {
    Service::new(vec![(0.0, Some(cap))], 0.0, 7)
}

#[test]
fn one_executor_settles_at_the_cap_with_few_requests_throttled() {
    for cap in [2_000.0, 20_000.0, 100_000.0] {
        for latency_ms in [0.5, 5.0] {
            for max_in_flight in [128, 512] {
                let run = Simulation::new(capped(cap))
                    .executor(max_in_flight, latency_ms, None)
                    .run(60);
                let share = run.written_per_second(10, 60) / cap;
                let throttled = run.throttled_share(10, 60);
                let start = run.total(0, 10);
                println!(
                    "  first 10 s: {} of {} requests throttled",
                    start.throttled, start.requests
                );
                // Starting unlimited, the calls in flight when the limit is found are lost, and a few rounds of
                // them while the rate comes down; not seconds' worth.
                assert!(
                    start.throttled as f64 <= 3.0 * max_in_flight as f64 + 0.05 * start.requests as f64,
                    "cap {cap}, {latency_ms} ms, {max_in_flight} in flight: {} of {} throttled at the start",
                    start.throttled,
                    start.requests
                );
                println!(
                    "cap {cap} latency {latency_ms} ms, {max_in_flight} in flight: {:.1}% of the cap, {:.2}% throttled",
                    share * 100.0,
                    throttled * 100.0
                );
                assert!(share >= 0.95, "cap {cap}, {latency_ms} ms: {share:.3} of the cap");
                assert!(
                    throttled <= 0.05,
                    "cap {cap}, {latency_ms} ms: {throttled:.3} throttled"
                );
            }
        }
    }
}

#[test]
fn a_cap_that_halves_then_doubles_is_followed_within_five_seconds() {
    for cap in [2_000.0, 20_000.0, 100_000.0] {
        let service = Service::new(
            vec![(0.0, Some(cap)), (30.0, Some(cap / 2.0)), (60.0, Some(cap))],
            0.0,
            11,
        );
        let run = Simulation::new(service).executor(256, 1.0, None).run(90);
        let down = run
            .settled_from(30, 60, cap / 2.0, 0.95, 0.05)
            .expect("settled after halving");
        let up = run
            .settled_from(60, 90, cap, 0.95, 0.05)
            .expect("settled after doubling");
        println!(
            "cap {cap}: settled {} s after halving, {} s after doubling",
            down - 30,
            up - 60
        );
        assert!(
            down - 30 <= 5,
            "cap {cap}: {} s to settle after halving",
            down - 30
        );
        assert!(up - 60 <= 5, "cap {cap}: {} s to settle after doubling", up - 60);
    }
}

#[test]
fn random_throttling_is_not_taken_for_a_limit() {
    // 16 calls in flight of 1 ms: 400,000 records/s offered, 30% throttled whatever the rate.
    let free = Simulation::new(Service::new(vec![(0.0, None)], 0.0, 3))
        .executor(16, 1.0, None)
        .run(20);
    let noisy = Simulation::new(Service::new(vec![(0.0, None)], 0.3, 3))
        .executor(16, 1.0, None)
        .run(20);
    let ratio = noisy.written_per_second(5, 20) / free.written_per_second(5, 20);
    println!(
        "with 30% random throttling: {:.0}% of the writes of a clean run",
        ratio * 100.0
    );
    assert!(
        ratio >= 0.5,
        "the rate collapsed under random throttling: {ratio:.3}"
    );
}

#[test]
fn a_cap_is_still_found_under_random_throttling() {
    let run = Simulation::new(Service::new(vec![(0.0, Some(20_000.0))], 0.05, 5))
        .executor(256, 1.0, None)
        .run(60);
    let share = run.written_per_second(10, 60) / 20_000.0;
    let throttled = run.throttled_share(10, 60);
    println!(
        "cap and 5% random throttling: {:.1}% of the cap, {:.1}% throttled",
        share * 100.0,
        throttled * 100.0
    );
    assert!(share >= 0.85, "{share:.3}");
    assert!(throttled <= 0.15, "{throttled:.3}");
}

#[test]
fn below_the_cap_nothing_is_paced() {
    let run = Simulation::new(capped(20_000.0))
        .executor(64, 1.0, Some(5_000.0))
        .run(20);
    assert_eq!(run.total(0, 20).throttled, 0);
    let written = run.written_per_second(2, 20);
    assert!((written - 5_000.0).abs() < 100.0, "{written}");
}

#[test]
fn two_executors_sharing_a_cap_converge_to_fair_shares() {
    // One starts alone and takes the whole cap; the second joins at 10 s.
    let run = Simulation::new(capped(20_000.0))
        .executor(256, 1.0, None)
        .executor(256, 1.0, None)
        .starting_at(10.0)
        .run(70);
    let first = run.executor_written(0, 50, 70);
    let second = run.executor_written(1, 50, 70);
    let total = first + second;
    println!(
        "shares over 50-70 s: {:.0}% and {:.0}% of {total:.0} records/s",
        100.0 * first / total,
        100.0 * second / total
    );
    assert!(total >= 0.95 * 20_000.0, "{total}");
    assert!((0.35..=0.65).contains(&(first / total)), "{first} vs {second}");
}
