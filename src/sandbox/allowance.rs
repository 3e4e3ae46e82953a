//! The API's allowance, rationed the three ways real gateways ration it, so that the
//! client's pacer meets each shape in a test:
//!
//! - bursts: a share of data calls answered 429 whatever the rate (shared tenants, a
//!   gateway's per-second burst), with or without `Retry-After`;
//! - limits: a token bucket (a sustained rate with a burst allowance) and a fixed
//!   per-minute window, both refusing with `Retry-After` and `RateLimit-*` headers;
//! - a daily quota: N requests, then 429 with a `Retry-After` of hours until the
//!   reset; every answer under the quota carries `RateLimit-Limit`/`-Remaining`/`-Reset`
//!   and the `X-RateLimit-*` forms. The reset instant can be moved by a test
//!   (`POST /_sandbox/quota {"reset_in": SECS}`), so that "resume after the reset" needs
//!   no day's wait.

use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::lock;
use super::options::SandboxOptions;
use super::reply::ApiError;
use super::stats::Fault;

/// One day: the quota's period.
const DAY: Duration = Duration::from_secs(24 * 3600);

/// The allowance state shared by every route.
pub(crate) struct Allowance {
    /// Tokens left and when they were last refilled.
    bucket: Mutex<(f64, Instant)>,
    /// (minute since start, requests admitted in it).
    minute: Mutex<(u64, u32)>,
    /// Requests counted against the day's quota, and when it resets.
    quota: Mutex<(u32, SystemTime)>,
    started: Instant,
}

/// Why a request is refused, with what the answer must say.
pub(crate) struct Refusal {
    fault: Fault,
    retry_after: Option<u64>,
    /// (limit, seconds to reset) for the `RateLimit-*` headers.
    limit: Option<(u32, u64)>,
    message: &'static str,
}

impl Refusal {
    /// A 429 that says what a real gateway says.
    pub(crate) fn fault(&self) -> Fault {
        self.fault
    }

    pub(crate) fn into_response(self) -> Response {
        let mut err = ApiError::new(StatusCode::TOO_MANY_REQUESTS, self.message);
        if let Some(s) = self.retry_after {
            err = err.with_retry_after(s);
        }
        let mut response = err.into_response();
        if let Some((limit, reset)) = self.limit {
            rate_limit_headers(response.headers_mut(), limit, 0, reset);
        }
        response
    }
}

/// `RateLimit-Limit`/`-Remaining`/`-Reset` (seconds, the IETF draft) and the
/// `X-RateLimit-*` forms (reset as a Unix time, as GitHub and Laravel send it).
fn rate_limit_headers(h: &mut HeaderMap, limit: u32, remaining: u32, reset_in: u64) {
    let epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
        + reset_in;
    for (name, value) in [
        ("ratelimit-limit", u64::from(limit)),
        ("ratelimit-remaining", u64::from(remaining)),
        ("ratelimit-reset", reset_in),
        ("x-ratelimit-limit", u64::from(limit)),
        ("x-ratelimit-remaining", u64::from(remaining)),
        ("x-ratelimit-reset", epoch),
    ] {
        h.insert(
            header::HeaderName::from_static(name),
            HeaderValue::from(value),
        );
    }
}

/// The next 00:00 UTC after `now`.
fn next_midnight(now: SystemTime) -> SystemTime {
    let secs = now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
    UNIX_EPOCH + Duration::from_secs((secs / DAY.as_secs() + 1) * DAY.as_secs())
}

impl Allowance {
    pub(crate) fn new(opts: &SandboxOptions) -> Self {
        let now = SystemTime::now();
        let reset = match opts.quota_reset_in {
            Some(s) => now + Duration::from_secs(s),
            None => next_midnight(now),
        };
        let burst = opts.bucket.map_or(0.0, |(_, b)| f64::from(b));
        Allowance {
            bucket: Mutex::new((burst, Instant::now())),
            minute: Mutex::new((0, 0)),
            quota: Mutex::new((0, reset)),
            started: Instant::now(),
        }
    }

    /// Admit a request or say why not: the day's quota first (a refused request is not
    /// counted), then the token bucket, then the per-minute window.
    pub(crate) fn admit(&self, opts: &SandboxOptions) -> Result<(), Refusal> {
        if let Some(limit) = opts.daily_quota {
            let (used, reset_in) = self.count_quota();
            if used > limit {
                self.uncount_quota();
                return Err(Refusal {
                    fault: Fault::QuotaExhausted,
                    retry_after: Some(reset_in.max(1)),
                    limit: Some((limit, reset_in)),
                    message: "Daily API quota exceeded.",
                });
            }
        }
        if let Some((rate, burst)) = opts.bucket {
            let mut b = lock(&self.bucket);
            let now = Instant::now();
            b.0 = (b.0 + now.duration_since(b.1).as_secs_f64() * rate).min(f64::from(burst));
            b.1 = now;
            if b.0 < 1.0 {
                let wait = ((1.0 - b.0) / rate).ceil().max(1.0) as u64;
                return Err(Refusal {
                    fault: Fault::RateLimited,
                    retry_after: Some(wait),
                    limit: Some((burst, wait)),
                    message: "Too Many Attempts.",
                });
            }
            b.0 -= 1.0;
        }
        if let Some(limit) = opts.per_minute {
            let elapsed = self.started.elapsed();
            let minute = elapsed.as_secs() / 60;
            let mut w = lock(&self.minute);
            if w.0 != minute {
                *w = (minute, 0);
            }
            if w.1 >= limit {
                let left = 60 - elapsed.as_secs() % 60;
                return Err(Refusal {
                    fault: Fault::RateLimited,
                    retry_after: Some(left),
                    limit: Some((limit, left)),
                    message: "Too Many Attempts.",
                });
            }
            w.1 += 1;
        }
        Ok(())
    }

    /// A burst 429 for a data call, at the configured share, whatever the rate.
    pub(crate) fn burst(opts: &SandboxOptions, draw: f64) -> Option<Refusal> {
        (opts.burst_429 > 0.0 && draw < opts.burst_429).then_some(Refusal {
            fault: Fault::Burst,
            retry_after: opts.burst_retry_after,
            limit: None,
            message: "Too Many Attempts.",
        })
    }

    /// Count one request against the day's quota (rolling the day over when the reset
    /// has passed): (requests used including this one, seconds to the reset).
    fn count_quota(&self) -> (u32, u64) {
        let now = SystemTime::now();
        let mut q = lock(&self.quota);
        if now >= q.1 {
            q.0 = 0;
            while q.1 <= now {
                q.1 += DAY;
            }
        }
        q.0 += 1;
        let reset_in = q.1.duration_since(now).unwrap_or_default().as_secs();
        (q.0, reset_in)
    }

    fn uncount_quota(&self) {
        let mut q = lock(&self.quota);
        q.0 = q.0.saturating_sub(1);
    }

    /// The quota headers every answer under a daily quota carries.
    pub(crate) fn quota_headers(&self, opts: &SandboxOptions, h: &mut HeaderMap) {
        let Some(limit) = opts.daily_quota else {
            return;
        };
        let q = lock(&self.quota);
        let reset_in =
            q.1.duration_since(SystemTime::now())
                .unwrap_or_default()
                .as_secs();
        rate_limit_headers(h, limit, limit.saturating_sub(q.0), reset_in);
    }

    /// Move the quota's reset to `reset_in` from now; zero resets it at once (the
    /// day's count starts over with the next request).
    pub(crate) fn move_reset(&self, reset_in: Duration) {
        let now = SystemTime::now();
        let mut q = lock(&self.quota);
        if reset_in.is_zero() {
            *q = (0, now + DAY);
        } else {
            q.1 = now + reset_in;
        }
    }

    /// `{"used": N, "limit": N, "reset_in": SECS}` for the control endpoint.
    pub(crate) fn quota_json(&self, opts: &SandboxOptions) -> serde_json::Value {
        let q = lock(&self.quota);
        serde_json::json!({
            "used": q.0,
            "limit": opts.daily_quota,
            "reset_in": q.1.duration_since(SystemTime::now()).unwrap_or_default().as_secs(),
        })
    }
}

/// `POST /_sandbox/quota` with `{"reset_in": SECS}`: move the daily quota's reset
/// (0: reset now). Answers the quota's state.
pub(crate) fn control(shared: &super::Shared, body: &serde_json::Value) -> Response {
    if let Some(secs) = body.get("reset_in").and_then(serde_json::Value::as_u64) {
        shared.allowance.move_reset(Duration::from_secs(secs));
    }
    super::reply::json(StatusCode::OK, shared.allowance.quota_json(&shared.opts)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_daily_quota_refuses_after_n_and_resets_when_moved() {
        let opts = SandboxOptions {
            daily_quota: Some(3),
            quota_reset_in: Some(5 * 3600),
            ..SandboxOptions::default()
        };
        let a = Allowance::new(&opts);
        for _ in 0..3 {
            assert!(a.admit(&opts).is_ok());
        }
        let refused = a.admit(&opts).err().map(|r| (r.retry_after, r.limit));
        let (retry_after, limit) = refused.unwrap_or_default();
        assert!(retry_after.is_some_and(|s| s > 4 * 3600), "{retry_after:?}");
        assert_eq!(limit.map(|l| l.0), Some(3));
        a.move_reset(Duration::ZERO);
        assert!(a.admit(&opts).is_ok());
        assert_eq!(a.quota_json(&opts)["used"], 1);
    }

    #[test]
    fn the_bucket_allows_its_burst_then_its_rate() {
        let opts = SandboxOptions {
            bucket: Some((1.0, 3)),
            ..SandboxOptions::default()
        };
        let a = Allowance::new(&opts);
        let admitted = (0..10).filter(|_| a.admit(&opts).is_ok()).count();
        assert_eq!(admitted, 3);
        let opts = SandboxOptions {
            per_minute: Some(2),
            ..SandboxOptions::default()
        };
        let a = Allowance::new(&opts);
        let admitted = (0..10).filter(|_| a.admit(&opts).is_ok()).count();
        assert_eq!(admitted, 2);
        assert!(next_midnight(UNIX_EPOCH + Duration::from_secs(90_000)) == UNIX_EPOCH + DAY * 2);
    }
}
