//! The request rate of a run, one pacer shared by first tries, retries and lookups: the
//! user's hard ceiling (`--rate`) and an adaptive rate that tells a burst from a limit.
//!
//! A 429 delays the request that got it by its `Retry-After` (the caller's business);
//! the shared rate is cut only when 429s are *sustained*: their share among the last
//! answers of requests actually sent at the current rate (never a share over a pause)
//! goes over a threshold. The cut goes a little below the rate the server was serving
//! (counted over the last answers, not over the last second, which a pause would
//! empty). A cut that did not lower the share was not about the rate (the server
//! refuses a share whatever the pace, as gateways with shared tenants do): it is undone,
//! and that share is learned as the background the threshold sits above. After a cut
//! the rate climbs back multiplicatively — fast up to the last rate that drew no 429s,
//! then by a few percent a second, probing; the first 429 drawn above that rate puts it
//! back there, and the next probe waits twice as long (TCP's slow start and congestion
//! avoidance, with the server's 429 for a lost packet).
//!
//! `--rate` is a ceiling from the first request: slots one interval apart, no burst.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use tokio::time::Instant;

use crate::connector::Reply;

/// A cut goes to this share of the rate the server was serving.
const CUT: f64 = 0.95;
/// The slowest pace the adaptive rate goes down to: one request every five seconds.
const MIN_RATE: f64 = 0.2;
/// Answers of the current rate that a share of 429s is measured over, at most.
const WINDOW: usize = 40;
/// Answers needed before a share is judged.
const MIN_SAMPLES: usize = 20;
/// 429 share over the background that makes them sustained.
const SUSTAINED: f64 = 0.25;
/// Non-429 answers the served rate is counted over.
const SERVED: usize = 64;
/// Growth per second below the last good rate (doubling), and above it: probing fast
/// after a cut (the cut's estimate of the limit may be low), gently once a probe has
/// found the limit.
const FAST: f64 = 2.0;
const PROBE_FAST: f64 = 1.1;
const PROBE: f64 = 1.05;
/// How long the rate holds at the last good rate before the first probe above it.
const FIRST_HOLD: Duration = Duration::from_secs(2);
/// Answers in a row without a 429 that make the rate they started at good.
const CLEAN: u32 = 80;

/// The shared request pacing of a run; see the module.
pub struct Limiter {
    pacer: Mutex<Pacer>,
    quota: Arc<Quota>,
    /// Requests sent by kind: GET, POST, PATCH (or PUT), DELETE; for the flight plan.
    sent: [AtomicU64; 4],
    /// Answers and their total time in flight (µs): the pace observed.
    answers: AtomicU64,
    in_flight_us: AtomicU64,
}

/// What a request was admitted under, to hand back with its answer: a 429 to a request
/// sent before the last change of rate says nothing about the new one.
#[derive(Debug, Clone, Copy)]
pub struct Ticket {
    generation: u64,
}

impl Limiter {
    /// At most `rate` requests per second (fractions allowed) from the first request,
    /// no burst; below that, whatever the server's 429s allow.
    pub fn new(rate: Option<f64>) -> Self {
        let rate = rate.filter(|r| r.is_finite() && *r > 0.0);
        Limiter {
            pacer: Mutex::new(Pacer::new(rate, Instant::now())),
            quota: Arc::new(Quota::default()),
            sent: Default::default(),
            answers: AtomicU64::new(0),
            in_flight_us: AtomicU64::new(0),
        }
    }

    /// The same limiter, keeping the run's quota state in `quota` (shared with the
    /// engine's stop, which parks the run when the quota is spent).
    pub fn with_quota(mut self, quota: Arc<Quota>) -> Self {
        self.quota = quota;
        self
    }

    /// The run's daily quota state.
    pub fn quota(&self) -> &Arc<Quota> {
        &self.quota
    }

    /// Wait for a slot; the ticket goes back with the answer to [`Limiter::answered`].
    pub async fn wait(&self) -> Ticket {
        loop {
            let (slot, ticket) = self.state().reserve(Instant::now());
            // Unpaced: go at once. A sleep until "now" would still wait for the timer's
            // next tick, a millisecond on every request.
            if slot <= Instant::now() {
                return ticket;
            }
            tokio::time::sleep_until(slot).await;
            // A pause announced while this request slept voids its slot.
            if self.state().still_valid(Instant::now()) {
                return ticket;
            }
        }
    }

    /// Count a request as it leaves.
    pub fn count_sent(&self, method: &reqwest::Method) {
        let kind = match *method {
            reqwest::Method::GET => 0,
            reqwest::Method::POST => 1,
            reqwest::Method::DELETE => 3,
            _ => 2,
        };
        self.sent[kind].fetch_add(1, Ordering::Relaxed);
    }

    /// Requests sent so far: GET, POST, PATCH (or PUT), DELETE.
    pub fn sent_by_kind(&self) -> [u64; 4] {
        std::array::from_fn(|i| self.sent[i].load(Ordering::Relaxed))
    }

    /// Note how long an answer took.
    pub fn took(&self, d: Duration) {
        self.answers.fetch_add(1, Ordering::Relaxed);
        self.in_flight_us
            .fetch_add(d.as_micros() as u64, Ordering::Relaxed);
    }

    /// The mean time an answer took, once one came.
    pub fn mean_latency(&self) -> Option<Duration> {
        let n = self.answers.load(Ordering::Relaxed);
        (n > 0).then(|| Duration::from_micros(self.in_flight_us.load(Ordering::Relaxed) / n))
    }

    /// Learn from an answer.
    pub fn answered(&self, ticket: Ticket, reply: &Reply) {
        self.state().answered(Instant::now(), ticket, reply);
    }

    /// Hold every request until `until` (a quota that resets then).
    pub fn pause_for(&self, wait: Duration) {
        let now = Instant::now();
        self.state().pause(now + wait);
    }

    /// The pace now, in requests per second (`None` while unpaced): what a user could
    /// pass as `--rate` to stay below the server's limit.
    pub fn current_rate(&self) -> Option<f64> {
        self.state().pace()
    }

    /// Requests per second the server has been answering lately, if any were.
    pub fn served_rate(&self) -> Option<f64> {
        let p = self.state();
        (p.served.len() >= 2).then(|| p.served_rate(Instant::now()))
    }

    fn state(&self) -> MutexGuard<'_, Pacer> {
        self.pacer.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The pacer's state; pure (times are passed in), so that its rules are tested with
/// made-up clocks.
#[derive(Debug)]
struct Pacer {
    /// The adaptive rate; `None` while unpaced (no sustained 429s yet).
    rate: Option<f64>,
    /// The user's `--rate`.
    ceiling: Option<f64>,
    /// The last rate that drew no sustained 429s: climbed back to fast after a cut.
    good: Option<f64>,
    /// The earliest start of the next request.
    next: Instant,
    /// No request starts before this (a quota that resets then).
    paused_until: Instant,
    /// Bumped by every change of rate; older tickets' answers are not judged.
    generation: u64,
    /// Each answer of the current generation: whether it was a 429, and the rate it
    /// was answered at; newest last.
    window: VecDeque<bool>,
    /// When recent non-429 answers came.
    served: VecDeque<Instant>,
    /// Answers in a row without a 429 at the current generation, and the rate when the
    /// run began.
    clean: (u32, Option<f64>),
    /// The 429 share that pacing did not remove: above it, 429s are sustained.
    background: f64,
    /// The rate before the last cut and the share that caused it, until the cut is
    /// judged: kept if the share fell, undone if not.
    cut_from: Option<(Option<f64>, f64)>,
    /// Answers before this are not judged: after a cut, the server's window that
    /// refused must pass (its `Retry-After`) before the new rate can be told by its 429s.
    judge_from: Instant,
    /// When the rate last grew.
    grown_at: Instant,
    /// No probe above the good rate before this; doubled by every failed probe.
    probe_after: Instant,
    probe_hold: Duration,
    /// Growth per second above the good rate.
    probe: f64,
}

impl Pacer {
    fn new(ceiling: Option<f64>, now: Instant) -> Self {
        Pacer {
            rate: None,
            ceiling,
            good: None,
            next: now,
            paused_until: now,
            generation: 0,
            window: VecDeque::new(),
            served: VecDeque::new(),
            background: 0.0,
            clean: (0, None),
            cut_from: None,
            judge_from: now,
            grown_at: now,
            probe_after: now,
            probe_hold: FIRST_HOLD,
            probe: PROBE_FAST,
        }
    }

    /// The pace in force: the adaptive rate under the ceiling.
    fn pace(&self) -> Option<f64> {
        match (self.rate, self.ceiling) {
            (Some(r), Some(c)) => Some(r.min(c)),
            (r, c) => r.or(c),
        }
    }

    /// The start of the next request, one interval after the one before (never earlier
    /// than now: an idle pacer banks no burst).
    fn reserve(&mut self, now: Instant) -> (Instant, Ticket) {
        let slot = now.max(self.next).max(self.paused_until);
        self.next = match self.pace() {
            Some(r) => slot + Duration::from_secs_f64(1.0 / r),
            None => slot,
        };
        (
            slot,
            Ticket {
                generation: self.generation,
            },
        )
    }

    fn still_valid(&self, now: Instant) -> bool {
        now >= self.paused_until
    }

    /// Requests per second answered lately: the last non-429 answers over the time
    /// they took (at least a second, so that a handful answered together is not read
    /// as a high rate).
    fn served_rate(&self, now: Instant) -> f64 {
        let Some(first) = self.served.front() else {
            return 0.0;
        };
        let span = now.duration_since(*first).as_secs_f64().max(1.0);
        self.served.len() as f64 / span
    }

    fn answered(&mut self, now: Instant, ticket: Ticket, reply: &Reply) {
        let throttled = reply.status == 429;
        if !throttled {
            if self.served.len() == SERVED {
                self.served.pop_front();
            }
            self.served.push_back(now);
            if let Some(wait) = reply.quota_reset {
                self.pause(now + wait);
            }
        }
        if ticket.generation != self.generation || now < self.judge_from {
            return;
        }
        if throttled
            && let (Some(r), Some(g)) = (self.rate, self.good)
            && r > g * 1.001
        {
            // A probe above the last good rate drew a 429: back to just under what the
            // server was serving (never below the good rate); probe later, gently.
            let back = g.max(r.min(self.served_rate(now)) * CUT);
            self.good = Some(back);
            self.probe = PROBE;
            self.probe_hold = (self.probe_hold * 2).min(Duration::from_secs(60));
            self.probe_after = now + self.probe_hold;
            self.change(Some(back), now);
            // The probe may have spent the server's window: let it pass before judging.
            self.judge_from = now + reply.retry_after.unwrap_or(Duration::from_secs(1));
            return;
        }
        if self.window.len() == WINDOW {
            self.window.pop_front();
        }
        self.window.push_back(throttled);
        if self.window.len() >= MIN_SAMPLES {
            let refused = self.window.iter().filter(|t| **t).count();
            let share = refused as f64 / self.window.len() as f64;
            if let Some((before, cut_share)) = self.cut_from.take() {
                if share >= cut_share * 0.5 {
                    // Pacing did not help: the server refuses this share whatever the
                    // rate. Undo the cut and let the threshold sit above that share.
                    self.background = self.background.max(share).min(0.6);
                    self.good = before;
                    self.change(before, now);
                    return;
                }
            } else if share > self.background + SUSTAINED {
                self.cut(now, share, reply.retry_after);
                return;
            }
        }
        if throttled {
            self.clean = (0, None);
        } else {
            if self.clean.0 == 0 {
                self.clean.1 = self.rate;
            }
            self.clean.0 += 1;
            if self.clean.0 >= CLEAN
                && self.background == 0.0
                && let Some(r) = self.clean.1
            {
                // A long run of answers without a 429: the rate it started at is good
                // (while probing, the rate rose during it).
                self.good = Some(self.good.map_or(r, |g| g.max(r)));
            }
        }
        if !throttled {
            self.grow(now);
        }
    }

    /// Cut the rate below what the server was serving; the first cut also holds every
    /// request for the `Retry-After` of the 429 that showed the limit.
    fn cut(&mut self, now: Instant, share: f64, retry_after: Option<Duration>) {
        let served = self.served_rate(now);
        let current = match (self.rate, served > 0.0) {
            (Some(r), true) => r.min(served),
            (None, true) => served,
            (Some(r), false) => r,
            (None, false) => 1.0,
        };
        let new = (current * CUT).max(MIN_RATE);
        self.cut_from = Some((self.rate, share));
        self.good = Some(new);
        self.probe = PROBE_FAST;
        self.probe_after = now + self.probe_hold;
        let hold = retry_after
            .unwrap_or(Duration::from_secs(1))
            .min(Duration::from_secs(60));
        if self.cut_from.is_some_and(|(before, _)| before.is_none()) {
            // The limit found from unpaced sending: its window is spent, so whatever is
            // sent before it ends is refused. (A paced rate just over it is not held.)
            self.pause(now + hold);
        }
        self.change(Some(new), now);
        self.judge_from = now + hold;
    }

    fn change(&mut self, rate: Option<f64>, now: Instant) {
        tracing::info!(
            "pace: {} → {} requests/s (last good {}, served {:.1}/s, background 429 share {:.2})",
            shown(self.rate),
            shown(rate),
            shown(self.good),
            self.served_rate(now),
            self.background
        );
        self.rate = rate.map(|r| self.ceiling.map_or(r, |c| r.min(c)));
        self.generation += 1;
        self.window.clear();
        self.clean = (0, None);
        self.grown_at = now;
        // Slots already handed out stay taken: starting the new pace from now would
        // send them and the new ones together.
        self.next = self.next.max(self.paused_until);
    }

    /// Climb back: doubling per second up to the last good rate, then probing by a few
    /// percent a second once the hold is over. Far above what is served, pacing stops.
    fn grow(&mut self, now: Instant) {
        let Some(r) = self.rate else {
            return;
        };
        let dt = now.duration_since(self.grown_at).as_secs_f64().min(1.0);
        self.grown_at = now;
        let grown = match self.good {
            Some(g) if r < g => (r * FAST.powf(dt)).min(g),
            // No probing while a cut is still being judged.
            _ if now >= self.probe_after && self.cut_from.is_none() => r * self.probe.powf(dt),
            _ => r,
        };
        let served = self.served_rate(now);
        if self.cut_from.is_none()
            && self.served.len() == SERVED
            && grown > 4.0 * served
            && self.window.iter().all(|t| !t)
        {
            // Pacing no longer binds: stop pacing (the ceiling still holds).
            self.rate = None;
            self.good = None;
            return;
        }
        self.rate = Some(self.ceiling.map_or(grown, |c| grown.min(c)));
    }

    fn pause(&mut self, until: Instant) {
        if until > self.paused_until {
            self.paused_until = until;
            self.next = self.next.max(until);
        }
    }
}

/// `12.5`, or `unpaced`.
fn shown(rate: Option<f64>) -> String {
    rate.map_or("unpaced".into(), |r| format!("{r:.1}"))
}

/// The day's allowance as a run knows it, shared by the limiter (which learns it from
/// the answers) and the engine's stop (which parks the run when it is spent).
#[derive(Default)]
pub struct Quota {
    /// `quota_per_day` of the profile (0: none): the run parks after that many requests.
    per_day: AtomicU64,
    /// `--wait-for-quota`: sleep until the reset instead of parking.
    wait: AtomicBool,
    /// Requests sent by this run.
    sent: AtomicU64,
    state: Mutex<QuotaState>,
    /// Told when the run starts waiting for a reset (the terminal prints it).
    notice: Mutex<Option<Notice>>,
}

/// Who is told when a run starts waiting for a quota's reset.
type Notice = Box<dyn Fn(&str) + Send + Sync>;

/// What the server last said of its quota, and whether the run is parked.
#[derive(Debug, Clone, Copy, Default)]
pub struct QuotaState {
    /// Set when the day's allowance is spent: when it resets.
    pub parked_until: Option<SystemTime>,
    /// Requests left, as the last answer that said so put it.
    pub remaining: Option<u64>,
    /// The allowance per period, when the server says.
    pub limit: Option<u64>,
    /// When the allowance resets, when the server says.
    pub reset: Option<SystemTime>,
}

impl std::fmt::Debug for Quota {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Quota")
            .field("state", &self.snapshot())
            .finish_non_exhaustive()
    }
}

impl Quota {
    /// A profile's `quota_per_day`, and `--wait-for-quota`.
    pub fn configure(&self, per_day: Option<u64>, wait: bool) {
        self.per_day.store(per_day.unwrap_or(0), Ordering::SeqCst);
        self.wait.store(wait, Ordering::SeqCst);
    }

    /// Whether the run waits for the reset instead of parking.
    pub fn waits(&self) -> bool {
        self.wait.load(Ordering::SeqCst)
    }

    /// The profile's `quota_per_day`, if set.
    pub fn per_day(&self) -> Option<u64> {
        Some(self.per_day.load(Ordering::SeqCst)).filter(|n| *n > 0)
    }

    /// Requests this run sent.
    pub fn sent(&self) -> u64 {
        self.sent.load(Ordering::SeqCst)
    }

    /// Count a request about to leave; `false` when the profile's `quota_per_day` is
    /// used up by it (it is not sent).
    pub fn take(&self) -> bool {
        let n = self.sent.fetch_add(1, Ordering::SeqCst) + 1;
        match self.per_day() {
            Some(limit) if n > limit => {
                self.sent.fetch_sub(1, Ordering::SeqCst);
                false
            }
            _ => true,
        }
    }

    /// Since when the run is parked: the day's allowance is spent until then.
    pub fn parked(&self) -> Option<SystemTime> {
        self.state().parked_until
    }

    /// Park the run until `until`.
    pub fn park(&self, until: SystemTime) {
        let mut s = self.state();
        s.parked_until = Some(s.parked_until.map_or(until, |u| u.max(until)));
    }

    /// What is known of the quota.
    pub fn snapshot(&self) -> QuotaState {
        *self.state()
    }

    /// Learn the quota headers of an answer.
    pub fn learn(&self, reply: &Reply) {
        let Some(h) = &reply.allowance else {
            return;
        };
        let mut s = self.state();
        s.remaining = Some(h.remaining);
        s.limit = h.limit.or(s.limit);
        if let Some(r) = h.reset {
            s.reset = Some(SystemTime::now() + r);
        }
    }

    /// Who to tell when the run starts waiting for a reset.
    pub fn on_wait(&self, notice: Notice) {
        *self.notice.lock().unwrap_or_else(|e| e.into_inner()) = Some(notice);
    }

    pub(crate) fn tell(&self, text: &str) {
        if let Some(n) = &*self.notice.lock().unwrap_or_else(|e| e.into_inner()) {
            n(text);
        }
    }

    fn state(&self) -> MutexGuard<'_, QuotaState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The next 00:00 UTC: when a `quota_per_day` counted by the client resets.
pub fn next_midnight_utc() -> SystemTime {
    const DAY: u64 = 24 * 3600;
    let secs = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    SystemTime::UNIX_EPOCH + Duration::from_secs((secs / DAY + 1) * DAY)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(status: u16) -> Reply {
        Reply {
            status,
            retry_after: (status == 429).then(|| Duration::from_secs(1)),
            quota_reset: None,
            allowance: None,
            content_type: None,
            body: Vec::new(),
        }
    }

    /// A simulated server: `limit` requests per second in fixed windows (`None`:
    /// unlimited) and a share of 429s whatever the rate, answering `latency` after a
    /// request arrives; `workers` send back to back through the pacer for `secs`
    /// seconds, a 429 delaying its own request by its `Retry-After` (1 s). Events are
    /// taken in time order. Returns (answered OK, 429s, final pace).
    fn simulate(
        limit: Option<u32>,
        bursty: f64,
        workers: usize,
        secs: u64,
    ) -> (u64, u64, Option<f64>) {
        use std::cmp::Reverse;
        use std::collections::BinaryHeap;
        let t0 = Instant::now();
        let mut p = Pacer::new(None, t0);
        let latency = Duration::from_millis(5);
        let mut rng = fastrand::Rng::with_seed(7);
        // (when, order, what): 0 = wants a slot, 1 = arrives at the server with its
        // ticket, 2 = answered with a status.
        let mut events = BinaryHeap::new();
        let mut order = 0u64;
        for _ in 0..workers {
            order += 1;
            events.push(Reverse((t0, order, 0u8, 0u64, 0u16)));
        }
        let (mut ok, mut refused) = (0u64, 0u64);
        let mut second = (0u64, 0u32);
        let end = t0 + Duration::from_secs(secs);
        while let Some(Reverse((at, _, what, generation, status))) = events.pop() {
            if at >= end {
                break;
            }
            order += 1;
            match what {
                0 => {
                    let (slot, ticket) = p.reserve(at);
                    events.push(Reverse((slot, order, 1, ticket.generation, 0)));
                }
                1 => {
                    let s = at.duration_since(t0).as_secs();
                    if second.0 != s {
                        second = (s, 0);
                    }
                    let over = limit.is_some_and(|l| second.1 >= l);
                    let status = if over || rng.f64() < bursty { 429 } else { 200 };
                    if !over {
                        second.1 += 1;
                    }
                    events.push(Reverse((at + latency, order, 2, generation, status)));
                }
                _ => {
                    p.answered(at, Ticket { generation }, &reply(status));
                    let next = if status == 429 {
                        refused += 1;
                        at + Duration::from_secs(1)
                    } else {
                        ok += 1;
                        at
                    };
                    events.push(Reverse((next, order, 0, 0, 0)));
                }
            }
        }
        (ok, refused, p.pace())
    }

    #[test]
    fn bursty_429s_never_slow_the_run_to_a_crawl() {
        // 5 % of answers 429 whatever the rate: the pace must stay far above what 16
        // workers could send anyway (each 429 only delays its own request).
        for share in [0.01, 0.05, 0.2] {
            let (ok, _, _) = simulate(None, share, 16, 10);
            let unhurried = 16.0 / (0.005 + share / (1.0 - share)) * 10.0;
            // A fifth refused may cost one mistaken cut (undone once it did not help).
            let floor = if share > 0.1 { 0.7 } else { 0.85 };
            assert!(
                ok as f64 > floor * unhurried,
                "{share}: {ok} OK of about {unhurried}"
            );
        }
    }

    #[test]
    fn a_hard_limit_is_found_and_held_with_few_429s() {
        let (ok, refused, pace) = simulate(Some(20), 0.0, 16, 20);
        let rate = ok as f64 / 20.0;
        assert!(rate >= 18.0, "{rate} OK/s");
        assert!(
            (refused as f64) < 0.06 * (ok + refused) as f64,
            "{refused} 429s of {}",
            ok + refused
        );
        assert!(pace.is_some_and(|p| p <= 21.0), "{pace:?}");
    }

    #[test]
    fn a_cut_that_did_not_help_is_undone_and_its_share_learned() {
        let t0 = Instant::now();
        let mut p = Pacer::new(None, t0);
        let mut t = t0;
        // 20 OK then a run of 429s at whatever rate: sustained, so cut.
        for i in 0..30 {
            let (_, ticket) = p.reserve(t);
            t += Duration::from_millis(2);
            p.answered(t, ticket, &reply(if i < 18 { 200 } else { 429 }));
        }
        let cut = p.rate;
        assert!(cut.is_some(), "sustained 429s cut the rate");
        // At the lower rate the share stays the same: not about the rate.
        for i in 0..40 {
            let (slot, ticket) = p.reserve(t);
            t = slot + Duration::from_millis(2);
            p.answered(t, ticket, &reply(if i % 3 == 0 { 429 } else { 200 }));
        }
        assert!(p.background > 0.2, "{}", p.background);
        assert_eq!(p.rate, None, "the cut was undone");
    }

    #[test]
    fn the_ceiling_holds_from_the_first_request_without_a_burst() {
        let t0 = Instant::now();
        let mut p = Pacer::new(Some(10.0), t0);
        // 16 workers asking at once: one slot every 100 ms from the first.
        let slots: Vec<Duration> = (0..16).map(|_| p.reserve(t0).0 - t0).collect();
        assert_eq!(slots[0], Duration::ZERO);
        assert_eq!(slots[1], Duration::from_millis(100));
        assert_eq!(
            slots
                .iter()
                .filter(|s| **s < Duration::from_secs(1))
                .count(),
            10
        );
        // An idle pacer banks no burst.
        let later = t0 + Duration::from_secs(10);
        let (a, _) = p.reserve(later);
        let (b, _) = p.reserve(later);
        assert_eq!(b - a, Duration::from_millis(100));
    }

    #[test]
    fn after_a_cut_the_rate_climbs_back_fast_to_the_last_good_rate() {
        let t0 = Instant::now();
        let mut p = Pacer::new(None, t0);
        p.rate = Some(5.0);
        p.good = Some(40.0);
        let mut t = t0;
        for _ in 0..300 {
            let (_, ticket) = p.reserve(t);
            t += Duration::from_millis(10);
            p.answered(t, ticket, &reply(200));
        }
        // Three seconds of answers: 5 → 40 by doubling, not +1/s.
        assert!(p.rate.is_some_and(|r| r >= 39.0), "{:?}", p.rate);
    }

    #[tokio::test]
    async fn the_users_ceiling_still_holds() {
        let limiter = Limiter::new(Some(20.0));
        let started = Instant::now();
        for _ in 0..11 {
            limiter.wait().await;
        }
        let took = started.elapsed();
        assert!(took >= Duration::from_millis(490), "{took:?}");
        assert_eq!(limiter.current_rate(), Some(20.0));
    }
}
