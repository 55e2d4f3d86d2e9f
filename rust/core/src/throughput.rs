//! Adaptive throughput control: the send rate that the service grants, found and followed.
//!
//! A feature group takes far fewer records per second than one executor can send, so a writer spends most of a
//! production job at the service's limit. A cap on calls in flight cannot hold a small rate when a call takes a
//! millisecond, so the rate itself is controlled: one [`Throughput`] per process for each (endpoint, feature
//! group), shared by every writer sending there, paces calls at a rate that
//!
//! - starts unlimited (below the limit nothing is paced) and is cut on the first throttled answer;
//! - is cut to `BETA` of where the limit most likely is: what the service accepted when many answers were
//!   throttled (it was saturated), else between the last plateau and the rate sent (the limit was just crossed);
//!   at most once per measurement window, and only for calls sent at the current rate (answers to calls sent
//!   before a cut say nothing about the new rate);
//! - then grows along CUBIC's curve on the time spent sending at the limit: back to that estimate in
//!   `RECOVERY` seconds, flat around it, then faster and faster above it to find a limit that rose;
//! - tells throttling caused by its rate from throttling it cannot help (another writer's burst, a service
//!   that throttles at random): a cut after which the throttled share stayed and the accepted rate fell with the
//!   sent rate is undone, and that share becomes a noise floor that later windows must exceed to cut.
//!
//! Executors need no coordinator: each converges to the rate its own share of the limit allows, since a
//! throttled answer reaches writers in proportion to what they send. [`RateControl`] is the arithmetic, fed
//! explicit instants so that tests drive it with a simulated clock; [`Throughput`] adds the [`Pacer`] and the
//! lock that writers on several I/O threads share.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::rate::Pacer;

/// Multiplicative decrease for a small excess (CUBIC's and the AWS SDKs' adaptive mode use 0.7; a smaller cut
/// wastes less of the grant in each cycle, and the curve's plateau keeps cycles long).
const BETA: f64 = 0.8;
/// The deepest single cut, as a share of the rate cut: bounds the damage of a measurement taken too early.
const DEEPEST_CUT: f64 = 0.25;
/// Seconds of sending at the limit to grow from a `BETA` cut back to the estimate of the limit (CUBIC's K):
/// shorter would probe more often (more throttled calls); longer would follow a limit that rose more slowly.
const RECOVERY: f64 = 1.0;
/// The cubic's scale, relative to the rate of the last cut: from `RECOVERY` it doubles in cbrt(1/GROWTH) s.
const GROWTH: f64 = (1.0 - BETA) / (RECOVERY * RECOVERY * RECOVERY);
/// Answers are judged in windows of at least this long and `WINDOW_MIN_ANSWERS` answers, or `WINDOW_MAX`.
const WINDOW: Duration = Duration::from_millis(250);
const WINDOW_MIN_ANSWERS: u64 = 16;
const WINDOW_MAX: Duration = Duration::from_secs(2);
/// A window sent at least this share of the rate: the rate, not the writers' demand, was the limit, so the
/// curve's clock runs.
const BUSY_SHARE: f64 = 0.85;
/// A window with at least this share of its answers throttled had the service saturated: what it accepted is
/// what the service grants.
const SATURATED_SHARE: f64 = 0.1;
/// A throttled share under this is never taken for noise (it is what a well-tuned cycle costs).
const NOISE_MIN_SHARE: f64 = 0.02;
/// A cut did not help when the throttled share after it is at least this share of the share before it...
const NOISE_STAYED: f64 = 0.7;
/// ...and the accepted rate fell with the sent rate, within this factor.
const NOISE_RATIO_BAND: f64 = 0.15;
/// A window must be this long to measure a rate at a cut; a shorter one (the first answers after a window
/// opened) is drowned by chance, or by the service draining its burst.
const MEASURE_MIN: Duration = Duration::from_millis(100);
/// The lowest rate is one call a second (of the largest call seen): a writer must keep probing, and a call
/// must never wait for more than a second's worth of tokens.
const MIN_CALLS_PER_SECOND: f64 = 1.0;

/// Counts of one measurement window.
#[derive(Debug, Clone, Copy)]
struct Window {
    started: Instant,
    answers: u64,
    throttled: u64,
    sent_records: u64,
    accepted_records: u64,
}

impl Window {
    fn new(started: Instant) -> Self {
        Self {
            started,
            answers: 0,
            throttled: 0,
            sent_records: 0,
            accepted_records: 0,
        }
    }
}

/// A closed window's rates.
#[derive(Debug, Clone, Copy)]
struct Measured {
    seconds: f64,
    answers: u64,
    throttled_share: f64,
    sent_rate: f64,
    accepted_rate: f64,
}

impl Measured {
    fn of(window: &Window, now: Instant) -> Self {
        let seconds = now
            .saturating_duration_since(window.started)
            .as_secs_f64()
            .max(1e-3);
        Self {
            seconds,
            answers: window.answers,
            throttled_share: window.throttled as f64 / window.answers.max(1) as f64,
            sent_rate: window.sent_records as f64 / seconds,
            accepted_rate: window.accepted_records as f64 / seconds,
        }
    }
}

/// CUBIC's curve: the rate `busy` seconds of sending at the limit after a cut.
#[derive(Debug, Clone, Copy)]
struct Curve {
    /// Where the last cut estimated the limit: where the curve flattens.
    peak: f64,
    /// Seconds from the cut back to `peak`.
    recovery: f64,
    /// Seconds of sending at the limit since the cut.
    busy: f64,
    /// The lowest rate.
    floor: f64,
}

impl Curve {
    fn after_cut(peak: f64, rate: f64, floor: f64) -> Self {
        let recovery = ((1.0 - rate / peak).max(0.0) / GROWTH).cbrt();
        Self {
            peak,
            recovery,
            busy: 0.0,
            floor,
        }
    }

    fn rate(&self) -> f64 {
        let t = self.busy - self.recovery;
        (self.peak * (1.0 + GROWTH * t * t * t)).max(self.floor)
    }
}

/// What a cut replaced, to undo it when the window after shows it did not help.
#[derive(Debug, Clone, Copy)]
struct Cut {
    /// The curve (`None`: no limit) before the cut.
    before: Option<Curve>,
    /// The last whole window before the cut.
    reference: Measured,
}

/// The controller's arithmetic, driven by explicit instants.
#[derive(Debug)]
pub struct RateControl {
    /// `None` until the first throttled answer: nothing is paced.
    curve: Option<Curve>,
    /// Incremented by every cut, and again once the calls sent before it are all answered; a call carries the
    /// generation it was sent in.
    generation: u64,
    /// The generation the last cut started.
    cut_generation: u64,
    /// Calls sent and not yet answered.
    in_flight: u64,
    /// Of those, calls sent before the last cut.
    in_flight_before_cut: u64,
    /// This generation's calls were all sent after the calls before the cut were answered.
    clean: bool,
    window: Window,
    last: Option<Measured>,
    cut_in_window: bool,
    /// A cut awaiting the window that shows whether it helped.
    pending: Option<Cut>,
    /// The throttled share that cutting the rate did not reduce: throttling beyond this is the rate's doing.
    noise: f64,
    /// Records of the largest call sent.
    largest_call: usize,
    last_send: Instant,
    /// Answers, and throttled ones, to calls sent since the last cut once the calls sent before it were all
    /// answered: until then those drew on the same grant, and the new rate's calls were throttled for them.
    since_cut: (u64, u64),
    /// The last cut was a [`Self::descend`]: the service is known to be saturated, its burst spent.
    descended: bool,
}

impl RateControl {
    pub fn new(now: Instant) -> Self {
        Self {
            curve: None,
            generation: 0,
            cut_generation: 0,
            in_flight: 0,
            in_flight_before_cut: 0,
            clean: true,
            window: Window::new(now),
            last: None,
            cut_in_window: false,
            pending: None,
            noise: 0.0,
            largest_call: 1,
            last_send: now,
            since_cut: (0, 0),
            descended: false,
        }
    }

    /// The rate to pace at (`None`: no limit).
    pub fn rate(&self) -> Option<f64> {
        self.curve.as_ref().map(Curve::rate)
    }

    /// How long since the last call was sent.
    pub fn idle_for(&self, now: Instant) -> Duration {
        now.saturating_duration_since(self.last_send)
    }

    /// Counts a call of `records` about to be sent; returns its generation for [`Self::on_answer`].
    pub fn on_send(&mut self, now: Instant, records: usize) -> u64 {
        self.roll(now);
        self.window.sent_records += records as u64;
        self.largest_call = self.largest_call.max(records);
        self.last_send = now;
        self.in_flight += 1;
        self.generation
    }

    /// Takes the answer to a call of generation `generation`: `accepted` of its records were written, and
    /// whether the service throttled it (the whole call or some of its entries).
    pub fn on_answer(&mut self, now: Instant, generation: u64, accepted: usize, throttled: bool) {
        self.roll(now);
        self.window.answers += 1;
        self.window.accepted_records += accepted as u64;
        self.call_over(generation);
        if generation == self.generation && self.clean {
            self.since_cut.0 += 1;
            self.since_cut.1 += u64::from(throttled);
        }
        if throttled && self.cut_far_too_small() {
            self.descend();
        } else if throttled {
            self.window.throttled += 1;
            // One answer is enough to cut unless there is background throttling (then the window decides), a
            // cut already made in this window or still to be judged, or the call was sent before the last cut.
            if self.noise == 0.0
                && self.pending.is_none()
                && !self.cut_in_window
                && generation == self.generation
            {
                self.cut(now);
            }
        }
    }

    /// A call of generation `generation` that failed on the way (no answer from the service): it tells nothing
    /// about the rate, but it is no longer in flight.
    pub fn on_unanswered(&mut self, generation: u64) {
        self.call_over(generation);
    }

    fn call_over(&mut self, generation: u64) {
        self.in_flight = self.in_flight.saturating_sub(1);
        if generation < self.cut_generation && self.in_flight_before_cut > 0 {
            self.in_flight_before_cut -= 1;
            if self.in_flight_before_cut == 0 {
                // The calls sent from now on are the first to have the grant to themselves.
                self.generation += 1;
                self.clean = true;
                self.since_cut = (0, 0);
            }
        }
    }

    /// Nearly every call sent since the last cut was throttled (after a descent, most of them): the rate is
    /// still far above the limit (a job's start, a limit that fell a long way). Waiting for a window to measure
    /// it would waste every call meanwhile. Right after a measured cut, the service's burst and the calls sent
    /// before the cut still skew the share, so it must be overwhelming; once descending, the burst is spent.
    fn cut_far_too_small(&self) -> bool {
        let (answers, throttled) = self.since_cut;
        let far = if self.descended {
            2 * throttled >= answers
        } else {
            4 * throttled >= 3 * answers
        };
        self.pending.is_some() && answers >= WINDOW_MIN_ANSWERS && far
    }

    /// Cuts to the share of calls accepted since the last cut (at most by the deepest step) without measuring
    /// rates: rates over the few milliseconds since the last cut would be chance, a share of answers is not. The
    /// share is taken one standard deviation high: the window that closes next corrects a rate too high at the
    /// cost of a few calls, while one too low costs seconds of growing back. That window judges the cuts together.
    fn descend(&mut self) {
        let Some(curve) = self.curve else { return };
        let (answers, throttled) = self.since_cut;
        let answers = answers.max(1) as f64;
        let accepted = 1.0 - throttled as f64 / answers;
        let accepted_high = accepted + (accepted * (1.0 - accepted) / answers).sqrt();
        let peak = (curve.rate() * accepted_high.clamp(DEEPEST_CUT, 1.0)).max(curve.floor);
        self.curve = Some(Curve::after_cut(
            peak,
            (BETA * peak).max(curve.floor),
            curve.floor,
        ));
        self.start_generation();
        self.descended = true;
        // This window holds the answers that called for the descent: the next whole one judges it.
        self.cut_in_window = true;
        log::debug!(
            "throughput: still nearly all throttled: rate cut to {:.0}",
            BETA * peak
        );
    }

    /// A cut's generation: answers to calls sent from now on are the new rate's, once those in flight are in.
    fn start_generation(&mut self) {
        self.generation += 1;
        self.cut_generation = self.generation;
        self.in_flight_before_cut = self.in_flight;
        self.clean = self.in_flight == 0;
        self.since_cut = (0, 0);
    }

    /// Closes the window when it is long enough, and acts on what it measured.
    fn roll(&mut self, now: Instant) {
        let age = now.saturating_duration_since(self.window.started);
        let full = age >= WINDOW && self.window.answers >= WINDOW_MIN_ANSWERS;
        if !full && age < WINDOW_MAX {
            return;
        }
        let measured = Measured::of(&self.window, now);
        let cut_in_this_window = self.cut_in_window;
        self.window = Window::new(now);
        self.cut_in_window = false;
        if measured.answers == 0 {
            return; // idle: nothing learned, and the curve's clock stands still
        }
        if let Some(curve) = &mut self.curve
            && measured.sent_rate >= BUSY_SHARE * curve.rate()
        {
            curve.busy += measured.seconds;
        }
        let over_noise = measured.throttled_share > self.noise + tolerance(self.noise, measured.answers);
        let cut_now = if cut_in_this_window {
            false // judged by the next window, which is the first whole one after the cut
        } else if let Some(cut) = self.pending.take() {
            // Still throttled beyond the noise after a cut that did help: the rate is still too high.
            !self.undo_if_noise(cut, &measured) && over_noise
        } else if self.noise > 0.0 {
            if measured.throttled_share < self.noise {
                // The background throttling eased: follow it down, slowly.
                self.noise = (0.8 * self.noise).max(measured.throttled_share);
                if self.noise < NOISE_MIN_SHARE {
                    self.noise = 0.0;
                }
            }
            over_noise
        } else {
            false
        };
        self.last = Some(measured);
        if cut_now {
            self.cut(now);
            // The new window starts with the cut: it is the one that judges it.
            self.cut_in_window = false;
        }
    }

    /// The first whole window after a cut: if throttling stayed and what was accepted fell with what was sent,
    /// the rate was not the cause. Undoes the cut and learns the share as noise; returns whether it did.
    fn undo_if_noise(&mut self, cut: Cut, after: &Measured) -> bool {
        let reference = cut.reference;
        let throttling_stayed = reference.throttled_share >= NOISE_MIN_SHARE
            && after.throttled_share >= NOISE_STAYED * reference.throttled_share;
        if !throttling_stayed || reference.sent_rate <= 0.0 || reference.accepted_rate <= 0.0 {
            return false;
        }
        let sent_ratio = after.sent_rate / reference.sent_rate;
        let accepted_ratio = after.accepted_rate / reference.accepted_rate;
        if (accepted_ratio / sent_ratio - 1.0).abs() > NOISE_RATIO_BAND {
            return false;
        }
        self.noise = self.noise.max(after.throttled_share);
        self.curve = cut.before;
        log::debug!(
            "throughput: {:.1}% of calls stay throttled whatever the rate: taken as noise, cut undone",
            after.throttled_share * 100.0
        );
        true
    }

    fn cut(&mut self, now: Instant) {
        let floor = MIN_CALLS_PER_SECOND * self.largest_call as f64;
        let current = Measured::of(&self.window, now);
        // This window once it is long enough to measure; the last whole one before that (or at a job's first
        // throttling, when there is none, this one anyway).
        let reference = self.last.unwrap_or(current);
        let basis = if current.answers >= WINDOW_MIN_ANSWERS && current.seconds >= MEASURE_MIN.as_secs_f64() {
            current
        } else {
            reference
        };
        let sending = match self.rate() {
            Some(rate) => rate.min(basis.sent_rate),
            None => basis.sent_rate,
        }
        .max(floor);
        let accepted = basis.accepted_rate;
        // Where the limit most likely is, for the curve to flatten there. A window with many throttled answers
        // had the service saturated: what it accepted is the limit. Otherwise the limit was crossed just now,
        // somewhere between the last plateau and the rate sent (the service's burst may have hidden the
        // crossing for a while, and what it accepted then includes that burst).
        let estimate = if basis.throttled_share >= SATURATED_SHARE {
            accepted
        } else {
            match self.curve {
                Some(curve) => curve.peak.max(BETA * sending),
                None => sending,
            }
        };
        let peak = estimate.min(sending).max(DEEPEST_CUT * sending).max(floor);
        let rate = (BETA * peak).max(floor);
        self.pending = Some(Cut {
            before: self.curve,
            reference,
        });
        self.curve = Some(Curve::after_cut(peak, rate, floor));
        self.start_generation();
        self.descended = false;
        self.cut_in_window = true;
        log::debug!(
            "throughput: throttled sending {sending:.0} records/s ({accepted:.0} accepted): rate cut to {rate:.0}, \
             plateau at {peak:.0}"
        );
    }
}

/// The share above the noise floor that a window of `answers` must show before it counts: two and a half
/// standard deviations of a binomial share (taken at one answer in the window at least, so that a lone throttled
/// answer among few does not count), and at least 2 points.
fn tolerance(noise: f64, answers: u64) -> f64 {
    let answers = answers.max(1) as f64;
    let p = noise.max(1.0 / answers);
    (2.5 * (p * (1.0 - p) / answers).sqrt()).max(0.02)
}

/// One controller with its pacer, shared by the writers of one (endpoint, feature group) in this process.
#[derive(Debug)]
pub struct Throughput {
    control: Mutex<RateControl>,
    pacer: Pacer,
}

/// A call's ticket: which generation of the rate it was sent at.
#[derive(Debug, Clone, Copy)]
pub struct Ticket(u64);

impl Throughput {
    pub fn new() -> Self {
        Self {
            control: Mutex::new(RateControl::new(Instant::now())),
            pacer: Pacer::new(None),
        }
    }

    fn control(&self) -> MutexGuard<'_, RateControl> {
        self.control
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Waits for the pacer, then counts the call as sent.
    pub async fn before_send(&self, records: usize) -> Ticket {
        self.pacer.acquire(records).await;
        Ticket(self.control().on_send(Instant::now(), records))
    }

    /// Takes a call's answer and passes the resulting rate to the pacer.
    pub fn after_answer(&self, ticket: Ticket, accepted: usize, throttled: bool) {
        let rate = {
            let mut control = self.control();
            control.on_answer(Instant::now(), ticket.0, accepted, throttled);
            control.rate()
        };
        self.pacer.set_rate(rate);
    }

    /// Takes the end of a call the service never answered (it failed on the way, or the writer was aborted).
    pub fn after_no_answer(&self, ticket: Ticket) {
        self.control().on_unanswered(ticket.0);
    }

    /// The rate calls are paced at now, in records per second (`None`: not limited).
    pub fn rate(&self) -> Option<f64> {
        self.pacer.rate()
    }

    fn idle_for(&self, now: Instant) -> Duration {
        self.control().idle_for(now)
    }
}

impl Default for Throughput {
    fn default() -> Self {
        Self::new()
    }
}

/// A controller unused this long is forgotten: the grant it learned may be stale, and the map stays small.
const FORGET_AFTER: Duration = Duration::from_secs(15 * 60);

/// (runtime endpoint, feature group name).
type ControllerKey = (String, String);

static CONTROLLERS: LazyLock<Mutex<HashMap<ControllerKey, Arc<Throughput>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// The controller of `feature_group` (a name or an ARN) at `endpoint`, shared by every writer of this process
/// sending there. It outlives its writers (a streaming query's next micro-batch starts at the rate learned).
pub fn controller_for(endpoint: &str, feature_group: &str) -> Arc<Throughput> {
    let name = feature_group
        .rsplit_once(":feature-group/")
        .map_or(feature_group, |(_, name)| name);
    let key = (endpoint.to_owned(), name.to_owned());
    let mut controllers = CONTROLLERS.lock().unwrap_or_else(|p| p.into_inner());
    let now = Instant::now();
    controllers.retain(|k, c| *k == key || Arc::strong_count(c) > 1 || c.idle_for(now) < FORGET_AFTER);
    Arc::clone(controllers.entry(key).or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_curve_returns_to_its_peak_in_the_recovery_time_then_grows_faster() {
        let mut curve = Curve::after_cut(1000.0, 800.0, 1.0);
        assert!((curve.rate() - 800.0).abs() < 1e-6);
        curve.busy = RECOVERY;
        assert!((curve.rate() - 1000.0).abs() < 1e-6);
        curve.busy = RECOVERY + 0.25;
        assert!(curve.rate() < 1010.0, "flat around the peak: {}", curve.rate());
        curve.busy = RECOVERY + (1.0 / GROWTH).cbrt();
        assert!((curve.rate() - 2000.0).abs() < 1.0, "doubles: {}", curve.rate());
    }

    #[test]
    fn the_first_throttle_cuts_to_what_was_accepted_when_the_excess_is_large() {
        let start = Instant::now();
        let mut control = RateControl::new(start);
        let at = |ms: u64| start + Duration::from_millis(ms);
        // 100 calls of 25 records in 100 ms (25,000 records/s), of which 8 were accepted.
        for i in 0..100 {
            control.on_send(at(i), 25);
        }
        for i in 0..8 {
            control.on_answer(at(100 + i), 0, 25, false);
        }
        assert_eq!(control.rate(), None);
        control.on_answer(at(108), 0, 0, true);
        let rate = control.rate().expect("cut");
        // Accepted 200 records in ~108 ms is below DEEPEST_CUT of what was sent: the cut stops there.
        assert!(
            (rate - BETA * DEEPEST_CUT * 25_000.0).abs() / rate < 0.1,
            "{rate}"
        );
        // Answers to calls sent before the cut do not cut again.
        control.on_answer(at(109), 0, 0, true);
        assert!((control.rate().unwrap() - rate).abs() < 1e-6);
    }

    #[test]
    fn answers_count_towards_a_descent_only_once_the_calls_sent_before_the_cut_are_in() {
        let start = Instant::now();
        let mut control = RateControl::new(start);
        let at = |ms: u64| start + Duration::from_millis(ms);
        for i in 0..100 {
            control.on_send(at(i), 25);
        }
        for i in 0..8 {
            control.on_answer(at(100 + i), 0, 25, false);
        }
        control.on_answer(at(108), 0, 0, true);
        let cut = control.rate().expect("cut");
        // 91 calls from before the cut are still in flight: the new rate's calls meet them at the service.
        let collided: Vec<u64> = (0..20).map(|i| control.on_send(at(110 + i), 25)).collect();
        for generation in collided {
            control.on_answer(at(130), generation, 0, true);
        }
        assert_eq!(
            control.rate(),
            Some(cut),
            "no descent on answers skewed by older calls"
        );
        for _ in 0..90 {
            control.on_answer(at(131), 0, 0, true);
        }
        // The last one is lost on the way: no longer in flight all the same.
        control.on_unanswered(0);
        let clean: Vec<u64> = (0..20).map(|i| control.on_send(at(140 + i), 25)).collect();
        for generation in clean {
            control.on_answer(at(160), generation, 0, true);
        }
        assert!(
            control.rate().unwrap() < cut,
            "the new rate's own calls, nearly all throttled, call for a descent"
        );
    }
}
