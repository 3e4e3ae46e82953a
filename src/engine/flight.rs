//! The flight plan of a run, known once the planner has read what is there and before
//! the first write: the requests by kind, the time they take at the pace observed (or
//! the `--rate` configured), and the share of the day's quota where one is known — so
//! that a run that would park says so before it starts. After the run, the plan is
//! set against what was sent.

use std::time::SystemTime;

use serde::Serialize;
use serde_json::{Value, json};

use crate::dispatch::Ctx;
use crate::ui::thousands;

/// Requests by kind.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq)]
pub struct Requests {
    /// Pages of the target's lists read to plan (GET).
    pub list_pages: u64,
    /// Records created (POST).
    pub creates: u64,
    /// Records changed (PATCH, PUT).
    pub updates: u64,
    /// Records deleted (DELETE).
    pub deletes: u64,
    /// Records looked up while sending (GET: a lost create, an id not answered).
    pub lookups: u64,
}

impl Requests {
    /// Every request.
    pub fn total(&self) -> u64 {
        self.list_pages + self.creates + self.updates + self.deletes + self.lookups
    }

    /// What the run sent, from the limiter's counts (GET, POST, PATCH, DELETE): the
    /// GETs after `planned_gets` (those of the plan) are lookups.
    pub fn sent(by_kind: [u64; 4], planned_gets: u64) -> Self {
        Requests {
            list_pages: planned_gets.min(by_kind[0]),
            creates: by_kind[1],
            updates: by_kind[2],
            deletes: by_kind[3],
            lookups: by_kind[0].saturating_sub(planned_gets),
        }
    }

    /// `10 creates, 1 list page`.
    fn text(&self) -> String {
        let parts: Vec<String> = [
            (self.creates, "create", "creates"),
            (self.updates, "update", "updates"),
            (self.deletes, "delete", "deletes"),
            (self.lookups, "lookup", "lookups"),
            (self.list_pages, "list page", "list pages"),
        ]
        .iter()
        .filter(|(n, _, _)| *n > 0)
        .map(|(n, one, many)| format!("{} {}", thousands(*n), if *n == 1 { one } else { many }))
        .collect();
        if parts.is_empty() {
            "no requests".into()
        } else {
            parts.join(", ")
        }
    }
}

/// The day's quota against the plan.
#[derive(Debug, Clone, Serialize)]
pub struct QuotaShare {
    /// Requests left today (the server's `RateLimit-Remaining`, or the profile's
    /// `quota_per_day` less what this run sent).
    pub remaining: u64,
    /// The day's allowance, when known.
    pub limit: Option<u64>,
    /// The plan's requests still to send as a share of `remaining` (1.0 = all of it).
    pub share: f64,
    /// The plan needs more than is left: the run will park.
    pub parks: bool,
    /// When the quota resets, when known (RFC 3339).
    pub resets_at: Option<String>,
}

/// What a run will send and how long it will take.
#[derive(Debug, Clone, Serialize)]
pub struct FlightPlan {
    /// Requests by kind (the list pages were read already, to plan).
    pub requests: Requests,
    /// Requests per second the prediction assumes.
    pub pace: Option<f64>,
    /// Where the pace comes from: `configured` (`--rate`) or `observed`.
    pub pace_from: &'static str,
    /// Predicted seconds to send the rest.
    pub seconds: Option<f64>,
    /// The share of the day's quota, when one is known.
    pub quota: Option<QuotaShare>,
}

impl FlightPlan {
    /// The plan from the planner's counts and what the requests so far showed.
    pub fn new(mut requests: Requests, ctx: &Ctx, concurrency: usize) -> Self {
        requests.list_pages = ctx.limiter.sent_by_kind()[0];
        let to_send = requests.total() - requests.list_pages;
        let observed = ctx
            .limiter
            .mean_latency()
            .map(|l| concurrency.max(1) as f64 / l.as_secs_f64().max(1e-4));
        let configured = ctx.policy.rate.or(ctx.limiter.current_rate());
        let (pace, pace_from) = match (observed, configured) {
            (Some(o), Some(c)) if c < o => (Some(c), "configured"),
            (Some(o), _) => (Some(o), "observed"),
            (None, Some(c)) => (Some(c), "configured"),
            (None, None) => (None, "unknown"),
        };
        let quota = ctx.limiter.quota();
        let state = quota.snapshot();
        let remaining = state
            .remaining
            .or_else(|| quota.per_day().map(|d| d.saturating_sub(quota.sent())));
        let resets = state.reset.or_else(|| {
            quota
                .per_day()
                .map(|_| crate::dispatch::next_midnight_utc())
        });
        let quota = remaining.map(|left| QuotaShare {
            remaining: left,
            limit: state.limit.or(quota.per_day()),
            share: to_send as f64 / left.max(1) as f64,
            parks: to_send > left,
            resets_at: resets.map(rfc3339),
        });
        FlightPlan {
            requests,
            pace,
            pace_from,
            seconds: pace.map(|p| to_send as f64 / p.max(1e-3)),
            quota,
        }
    }

    /// One line for `--confirm` and the terminal: `10 creates, 1 list page; predicted
    /// 2 s at 160 requests/s (observed); 40 % of the 25 requests left today`.
    pub fn text(&self) -> String {
        let mut out = self.requests.text();
        if let (Some(s), Some(p)) = (self.seconds, self.pace) {
            out.push_str(&format!(
                "; predicted {} at {p:.0} requests/s ({})",
                super::quota::span(std::time::Duration::from_secs_f64(s.ceil())),
                self.pace_from
            ));
        }
        if let Some(q) = &self.quota {
            out.push_str(&format!(
                "; {:.0} % of the {} requests left today",
                100.0 * q.share,
                thousands(q.remaining)
            ));
            if q.parks {
                out.push_str(&format!(
                    " — the run will park after {} of them (exit 75)",
                    thousands(q.remaining)
                ));
            }
        }
        out
    }

    /// The plan for `--json`.
    pub fn json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

/// What the run actually sent, beside the plan, for `--json`.
pub fn actual_json(sent: &Requests, seconds: f64) -> Value {
    json!({"requests": sent, "total": sent.total(), "seconds": seconds})
}

fn rfc3339(t: SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(t).to_rfc3339()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_was_sent_splits_list_pages_from_lookups() {
        let r = Requests::sent([5, 10, 2, 1], 3);
        assert_eq!(
            r,
            Requests {
                list_pages: 3,
                creates: 10,
                updates: 2,
                deletes: 1,
                lookups: 2
            }
        );
        assert_eq!(r.total(), 18);
        assert_eq!(
            r.text(),
            "10 creates, 2 updates, 1 delete, 2 lookups, 3 list pages"
        );
    }
}
