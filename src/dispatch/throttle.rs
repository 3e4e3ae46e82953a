//! The request rate of a run, shared by every worker: an optional hard ceiling
//! (`--rate`, governor's GCRA) and an adaptive limit that listens to the server.
//!
//! A 429 is the server asking us to slow down, so the adaptive part is AIMD on the
//! permitted request rate: the first 429 of a "generation" cuts the rate to
//! [`CUT`] times what the server actually answered in the last second, and every
//! other answer raises it a little (about one request per second, or 5 %, per second
//! of answers). `Retry-After` on a 429, and a `RateLimit-Remaining: 0` with its reset,
//! pause every worker until then. Requests are paced one slot apart, never in bursts.
//!
//! governor's quota is fixed when the limiter is built, so it keeps the user's ceiling;
//! the adaptive rate, which changes with every answer, is the small pacer below.

use std::collections::VecDeque;
use std::num::NonZeroU32;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use tokio::time::Instant;

use crate::connector::Reply;

/// The factor a 429 cuts the rate by (of the rate the server was answering at).
const CUT: f64 = 0.8;
/// The slowest pace the adaptive limit goes down to: one request every five seconds.
/// (A 429 answered with nothing served cuts from one request per second.)
const MIN_RATE: f64 = 0.2;
/// The window over which answered requests are counted to estimate the server's rate.
const WINDOW: Duration = Duration::from_secs(1);

/// The shared request pacing of a run: an optional ceiling (`--rate`) and the
/// adaptive limit fed by the server's answers ([`Limiter::answered`]).
pub struct Limiter {
    ceiling: Option<governor::DefaultDirectRateLimiter>,
    adaptive: Mutex<Aimd>,
}

/// What a request was admitted under, to hand back with its answer: a 429 to a request
/// sent before the last cut says nothing new and must not cut the rate again.
#[derive(Debug, Clone, Copy)]
pub struct Ticket {
    generation: u64,
}

impl Limiter {
    /// At most `rate` requests per second (fractions allowed), bursts of one second's
    /// worth; and below that, whatever the server's 429s allow.
    pub fn new(rate: Option<f64>) -> Self {
        let rate = rate.filter(|r| r.is_finite() && *r > 0.0);
        let ceiling = rate.map(|r| {
            let period = Duration::from_secs_f64(1.0 / r);
            let burst = NonZeroU32::new(r.ceil().max(1.0) as u32).unwrap_or(NonZeroU32::MIN);
            let quota = governor::Quota::with_period(period)
                .unwrap_or_else(|| governor::Quota::per_second(NonZeroU32::MIN))
                .allow_burst(burst);
            governor::RateLimiter::direct(quota)
        });
        Limiter {
            ceiling,
            adaptive: Mutex::new(Aimd::new(rate, Instant::now())),
        }
    }

    /// Wait for a slot; the ticket goes back with the answer to [`Limiter::answered`].
    pub async fn wait(&self) -> Ticket {
        match self.wait_until(None).await {
            Ok(t) | Err((t, _)) => t,
        }
    }

    /// [`Limiter::wait`], unless the slot lies beyond `deadline`: then waits not at all
    /// and returns when the slot would have been (`Err`), so that a row whose
    /// rate-limit budget cannot cover the server's pause fails now, not after it.
    pub async fn wait_until(&self, deadline: Option<Instant>) -> Result<Ticket, (Ticket, Instant)> {
        loop {
            let (slot, ticket) = self.state().reserve(Instant::now());
            if let Some(d) = deadline
                && slot > d
            {
                return Err((ticket, slot));
            }
            // No pacing (no 429 seen): go at once. A sleep until "now" would still wait
            // for the timer's next tick, a millisecond on every request.
            if slot <= Instant::now() {
                break;
            }
            tokio::time::sleep_until(slot).await;
            // A cut or a pause announced while this request slept voids its slot.
            if self.state().still_valid(ticket, Instant::now()) {
                break;
            }
        }
        if let Some(c) = &self.ceiling {
            c.until_ready().await;
        }
        Ok(Ticket {
            generation: self.state().generation,
        })
    }

    /// Learn from an answer: a 429 slows every worker down (and pauses them for its
    /// `Retry-After`), anything else lets the rate creep back up.
    pub fn answered(&self, ticket: Ticket, reply: &Reply) {
        self.state().answered(Instant::now(), ticket, reply);
    }

    /// The adaptive rate now, in requests per second (`None` while no 429 was seen):
    /// what a user could pass as `--rate` to stay below the server's limit.
    pub fn current_rate(&self) -> Option<f64> {
        self.state().rate
    }

    fn state(&self) -> MutexGuard<'_, Aimd> {
        self.adaptive.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The adaptive limit's state; pure, so that its rules can be tested with made-up times.
#[derive(Debug)]
struct Aimd {
    /// Permitted requests per second; `None` until the first 429 (then no pacing).
    rate: Option<f64>,
    /// The user's `--rate`: the adaptive rate never grows past it.
    ceiling: Option<f64>,
    /// The earliest start of the next request.
    next: Instant,
    /// No request starts before this (a `Retry-After`, an exhausted quota).
    paused_until: Instant,
    /// Bumped by every cut; tickets of older generations do not cut again.
    generation: u64,
    /// When recent non-429 answers arrived, for the server's actual rate.
    answers: VecDeque<Instant>,
}

impl Aimd {
    fn new(ceiling: Option<f64>, now: Instant) -> Self {
        Aimd {
            rate: None,
            ceiling,
            next: now,
            paused_until: now,
            generation: 0,
            answers: VecDeque::new(),
        }
    }

    /// The start of the next request, one pacing interval after the one before.
    fn reserve(&mut self, now: Instant) -> (Instant, Ticket) {
        let slot = now.max(self.next).max(self.paused_until);
        self.next = match self.rate {
            Some(r) => slot + Duration::from_secs_f64(1.0 / r),
            None => slot,
        };
        let ticket = Ticket {
            generation: self.generation,
        };
        (slot, ticket)
    }

    /// Whether a slot reserved under `ticket` may still be used at `now`.
    fn still_valid(&self, ticket: Ticket, now: Instant) -> bool {
        ticket.generation == self.generation && now >= self.paused_until
    }

    fn answered(&mut self, now: Instant, ticket: Ticket, reply: &Reply) {
        if reply.status == 429 {
            self.throttled(now, ticket, reply.retry_after.or(reply.quota_reset));
            return;
        }
        while self.answers.front().is_some_and(|t| now - *t > WINDOW) {
            self.answers.pop_front();
        }
        self.answers.push_back(now);
        if let Some(r) = self.rate {
            // About +1 request/s (or +5 %) per second of answers at this rate.
            let grown = r + (r * 0.05).max(1.0) / r;
            self.rate = Some(self.ceiling.map_or(grown, |c| grown.min(c)));
        }
        if let Some(wait) = reply.quota_reset {
            self.pause(now + wait);
        }
    }

    fn throttled(&mut self, now: Instant, ticket: Ticket, wait: Option<Duration>) {
        if let Some(w) = wait {
            self.pause(now + w);
        }
        if ticket.generation != self.generation {
            return;
        }
        while self.answers.front().is_some_and(|t| now - *t > WINDOW) {
            self.answers.pop_front();
        }
        // What the server answered lately is the best estimate of what it takes; with
        // nothing answered (its quota was used up before we started), the rate so far,
        // or one request per second.
        let served = self.answers.len() as f64 / WINDOW.as_secs_f64();
        let current = match (self.rate, served > 0.0) {
            (Some(r), true) => r.min(served),
            (None, true) => served,
            (Some(r), false) => r,
            (None, false) => 1.0,
        };
        self.rate = Some((current * CUT).max(MIN_RATE));
        self.generation += 1;
        self.next = now.max(self.paused_until);
    }

    fn pause(&mut self, until: Instant) {
        if until > self.paused_until {
            self.paused_until = until;
            self.next = self.next.max(until);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(status: u16, retry_after: Option<u64>) -> Reply {
        Reply {
            status,
            retry_after: retry_after.map(Duration::from_secs),
            quota_reset: None,
            content_type: None,
            body: Vec::new(),
        }
    }

    #[test]
    fn unlimited_until_the_first_429_then_paced_below_what_was_served() {
        let t0 = Instant::now();
        let mut a = Aimd::new(None, t0);
        // No pacing before any 429: every request may start at once.
        for _ in 0..20 {
            let (slot, ticket) = a.reserve(t0);
            assert_eq!(slot, t0);
            a.answered(t0 + Duration::from_millis(10), ticket, &reply(201, None));
        }
        let (_, ticket) = a.reserve(t0);
        let at = t0 + Duration::from_millis(20);
        a.answered(at, ticket, &reply(429, Some(1)));
        // 20 answers in the last second: the rate becomes 80 % of that, after the pause.
        assert_eq!(a.rate, Some(16.0));
        let (first, _) = a.reserve(at);
        assert_eq!(first, at + Duration::from_secs(1));
        let (second, _) = a.reserve(at);
        assert_eq!(second - first, Duration::from_secs_f64(1.0 / 16.0));
    }

    #[test]
    fn one_cut_per_generation_and_additive_increase_after() {
        let t0 = Instant::now();
        let mut a = Aimd::new(None, t0);
        let tickets: Vec<Ticket> = (0..5).map(|_| a.reserve(t0).1).collect();
        for _ in 0..10 {
            let (_, t) = a.reserve(t0);
            a.answered(t0, t, &reply(200, None));
        }
        // Five 429s from requests sent together cut the rate once, not five times.
        for t in &tickets {
            a.answered(t0, *t, &reply(429, None));
        }
        assert_eq!(a.rate, Some(8.0));
        assert_eq!(a.generation, 1);
        // A 429 to a request sent after the cut cuts again.
        let (_, fresh) = a.reserve(t0);
        a.answered(t0, fresh, &reply(429, None));
        assert!(a.rate.is_some_and(|r| r < 8.0), "{:?}", a.rate);
        // Successes raise it again, never past the ceiling.
        let before = a.rate.unwrap_or_default();
        for _ in 0..50 {
            let (_, t) = a.reserve(t0);
            a.answered(t0, t, &reply(200, None));
        }
        assert!(a.rate.unwrap_or_default() > before + 3.0, "{:?}", a.rate);
        let mut capped = Aimd::new(Some(5.0), t0);
        capped.rate = Some(4.9);
        capped.answered(t0, Ticket { generation: 0 }, &reply(200, None));
        assert_eq!(capped.rate, Some(5.0));
    }

    #[test]
    fn nothing_served_starts_slow_and_pauses_void_older_slots() {
        let t0 = Instant::now();
        let mut a = Aimd::new(None, t0);
        let (slot, ticket) = a.reserve(t0);
        assert!(a.still_valid(ticket, slot));
        a.answered(t0, ticket, &reply(429, Some(3)));
        assert_eq!(a.rate, Some(CUT));
        assert!(!a.still_valid(ticket, t0));
        let (slot, fresh) = a.reserve(t0);
        assert_eq!(slot, t0 + Duration::from_secs(3));
        assert!(a.still_valid(fresh, slot));
        // A quota announced as used up pauses without cutting the rate.
        let mut q = reply(200, None);
        q.quota_reset = Some(Duration::from_secs(10));
        a.answered(slot, fresh, &q);
        assert!(!a.still_valid(fresh, slot));
        assert_eq!(a.reserve(slot).0, slot + Duration::from_secs(10));
        // Cut after cut with nothing served, it stops at the floor.
        for _ in 0..20 {
            let (_, t) = a.reserve(t0);
            a.answered(t0 + Duration::from_secs(30), t, &reply(429, None));
        }
        assert_eq!(a.rate, Some(MIN_RATE));
    }

    #[tokio::test]
    async fn the_users_ceiling_still_holds() {
        let limiter = Limiter::new(Some(20.0));
        let started = Instant::now();
        // One second's burst (20), then one every 50 ms.
        for _ in 0..30 {
            limiter.wait().await;
        }
        let took = started.elapsed();
        assert!(took >= Duration::from_millis(400), "{took:?}");
        assert_eq!(limiter.current_rate(), None);
    }
}
