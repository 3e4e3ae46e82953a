//! What the sandbox saw: requests by route template and outcome, concurrency,
//! and how often each fault fired. Tests assert on these instead of guessing
//! from the client side what the server did.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::http::Method;
use serde_json::{Value, json};

use super::lock;

/// How a request ended, as far as the server knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Outcome {
    /// An answer with this status was sent (or at least handed to the connection).
    Status(u16),
    /// Applied, then the connection was reset without an answer.
    Dropped,
    /// The client went away (timed out, say) before the answer was ready.
    Cancelled,
}

/// The fault counters, one per knob.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Fault {
    Fail,
    RateLimited,
    TokenExpired,
    DroppedAfterCommit,
    Stalled,
    /// A burst 429 (`--burst-429`), whatever the rate.
    Burst,
    /// The day's quota was spent (`--daily-quota`).
    QuotaExhausted,
}

/// Counts per (method, route template), then per outcome.
type RequestCounts = HashMap<(Method, &'static str), HashMap<Outcome, u64>>;

#[derive(Default)]
pub(crate) struct Stats {
    requests: Mutex<RequestCounts>,
    in_flight: AtomicU64,
    peak: AtomicU64,
    fail: AtomicU64,
    rate_limited: AtomicU64,
    token_expired: AtomicU64,
    dropped_after_commit: AtomicU64,
    stalled: AtomicU64,
    burst: AtomicU64,
    quota_exhausted: AtomicU64,
    /// Arrival of each API request (ms since the sandbox started, method and route),
    /// the first [`ARRIVALS`]: how fast a client started sending.
    arrivals: Mutex<Vec<(u64, String)>>,
}

/// Arrivals kept for `GET /_sandbox/arrivals`.
const ARRIVALS: usize = 100_000;

/// Counts one request as in flight for as long as it lives, whether it finishes,
/// is cancelled by a disconnecting client, or is cut off at shutdown.
pub(crate) struct InFlight<'a>(&'a Stats);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Stats {
    pub(crate) fn enter(&self) -> InFlight<'_> {
        let now = self.in_flight.fetch_add(1, Ordering::Relaxed) + 1;
        self.peak.fetch_max(now, Ordering::Relaxed);
        InFlight(self)
    }

    pub(crate) fn record(&self, method: Method, template: &'static str, outcome: Outcome) {
        let mut requests = lock(&self.requests);
        *requests
            .entry((method, template))
            .or_default()
            .entry(outcome)
            .or_default() += 1;
    }

    /// Note when a request arrived (`ms` since the sandbox started).
    pub(crate) fn arrived(&self, ms: u64, method: &Method, template: &str) {
        let mut a = lock(&self.arrivals);
        if a.len() < ARRIVALS {
            a.push((ms, format!("{method} {template}")));
        }
    }

    /// `{"POST /extapi/v1.0/customers": [ms, …], …}`: each route's arrivals in order.
    pub(crate) fn arrivals_json(&self) -> Value {
        let arrivals = lock(&self.arrivals);
        let mut out: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
        for (ms, route) in arrivals.iter() {
            out.entry(route).or_default().push(*ms);
        }
        json!(out)
    }

    pub(crate) fn fault(&self, fault: Fault) {
        self.counter(fault).fetch_add(1, Ordering::Relaxed);
    }

    fn counter(&self, fault: Fault) -> &AtomicU64 {
        match fault {
            Fault::Fail => &self.fail,
            Fault::RateLimited => &self.rate_limited,
            Fault::TokenExpired => &self.token_expired,
            Fault::DroppedAfterCommit => &self.dropped_after_commit,
            Fault::Stalled => &self.stalled,
            Fault::Burst => &self.burst,
            Fault::QuotaExhausted => &self.quota_exhausted,
        }
    }

    /// Forgets everything counted so far (`POST /_sandbox/reset`); requests still
    /// in flight keep being counted as such.
    pub(crate) fn reset(&self) {
        lock(&self.requests).clear();
        self.peak
            .store(self.in_flight.load(Ordering::Relaxed), Ordering::Relaxed);
        for fault in [
            Fault::Fail,
            Fault::RateLimited,
            Fault::TokenExpired,
            Fault::DroppedAfterCommit,
            Fault::Stalled,
            Fault::Burst,
            Fault::QuotaExhausted,
        ] {
            self.counter(fault).store(0, Ordering::Relaxed);
        }
        lock(&self.arrivals).clear();
    }

    /// `requests`, `in_flight`, `peak_concurrent` and `faults` of the stats answer.
    pub(crate) fn to_json(&self) -> serde_json::Map<String, Value> {
        let mut requests: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
        for ((method, template), outcomes) in lock(&self.requests).iter() {
            let route = requests.entry(format!("{method} {template}")).or_default();
            for (outcome, n) in outcomes {
                let key = match outcome {
                    Outcome::Status(s) => s.to_string(),
                    Outcome::Dropped => "dropped".to_owned(),
                    Outcome::Cancelled => "cancelled".to_owned(),
                };
                *route.entry(key).or_default() += n;
            }
        }
        let load = |fault| self.counter(fault).load(Ordering::Relaxed);
        let mut out = serde_json::Map::new();
        out.insert("requests".into(), json!(requests));
        out.insert(
            "in_flight".into(),
            json!(self.in_flight.load(Ordering::Relaxed)),
        );
        out.insert(
            "peak_concurrent".into(),
            json!(self.peak.load(Ordering::Relaxed)),
        );
        out.insert(
            "faults".into(),
            json!({
                "fail": load(Fault::Fail),
                "rate_limited": load(Fault::RateLimited),
                "token_expired": load(Fault::TokenExpired),
                "dropped_after_commit": load(Fault::DroppedAfterCommit),
                "stalled": load(Fault::Stalled),
                "burst_429": load(Fault::Burst),
                "quota_exhausted": load(Fault::QuotaExhausted),
            }),
        );
        out
    }
}
