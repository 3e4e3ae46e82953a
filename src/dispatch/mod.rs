//! Dispatch: bounded concurrency, a client-side rate limit, and a retry policy that only
//! retries what is safe. A POST whose outcome is unknown is reconciled by looking its
//! natural key up, never blindly re-sent; without a key it ends `UNKNOWN`.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use reqwest::Method;
use serde_json::Value;
use tokio::time::Instant;
use tracing::Instrument as _;

use crate::connector::{Body, Reply, SendError, Transport, parse};
use crate::output::Status;
use crate::output::result::Outcome;

mod describe;
mod listing;
mod throttle;

pub use describe::Column;
pub use throttle::{Limiter, Quota, QuotaState, Ticket, next_midnight_utc};

/// A wait the server asks for that is longer than this is a quota spent, not a rate:
/// the run parks (or, with `--wait-for-quota`, sleeps until the reset).
pub const QUOTA_WAIT: Duration = Duration::from_secs(300);

/// How hard to push the target.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Policy {
    /// Requests in flight at most.
    pub concurrency: usize,
    /// Requests per second at most (all kinds), if limited: a hard ceiling; below it
    /// the rate adapts to the server's 429s on its own.
    pub rate: Option<f64>,
    /// Further tries after the first, for 5xx and network failures (429s do not count:
    /// they are the server asking us to slow down, which the shared limiter does).
    pub retries: u32,
    /// First backoff step; doubles each try, with jitter.
    pub base_delay: Duration,
    /// Longest single wait.
    pub max_delay: Duration,
    /// How long one request may keep meeting 429s (from the first) before its row
    /// fails; five minutes by default, long enough for any per-minute quota to reset.
    pub rate_limit_budget: Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            concurrency: 8,
            rate: None,
            retries: 5,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(30),
            rate_limit_budget: Duration::from_secs(300),
        }
    }
}

/// Everything a request needs: the signed-in client, the limiter and the policy.
pub struct Ctx {
    /// The target.
    pub client: std::sync::Arc<dyn Transport>,
    /// Shared rate limit: one per run, consulted before every request of every worker.
    pub limiter: Limiter,
    /// Retry and concurrency policy.
    pub policy: Policy,
    /// Payload path (`location.lat`, `product_units.0.ratio`) → the sheet's column,
    /// so that server field errors point at the user's columns and cells.
    pub columns: HashMap<String, Column>,
    /// Set on Ctrl-C (the run's `Stop`): a wait before a retry, or for the rate limit,
    /// ends at once and the row keeps the answer it had; nothing more is sent.
    pub interrupted: Arc<AtomicBool>,
    /// What users call the target (`Fatura Entegratör`), for messages that send them to
    /// look at it.
    pub service: &'static str,
}

/// The natural key of a row, for finding a create whose answer was lost or named no id.
#[derive(Debug, Clone)]
pub struct Key {
    /// Field on the remote record (`ext_cust_no`).
    pub field: String,
    /// The row's value.
    pub value: String,
    /// For a record without a natural key (a visit): what it is instead, `field` and
    /// `value` then only name it in messages.
    pub content: Option<Box<Content>>,
}

/// What identifies a record without a natural key: the fields it must have, and which
/// of the records having them it is (1-based, by ascending id), so that two identical
/// rows are two records.
#[derive(Debug, Clone)]
pub struct Content {
    /// Payload path (`date`, `location.lat`) → value as text (strings trimmed and
    /// lowercased, anything else as JSON).
    pub fields: Vec<(String, String)>,
    /// Which of the matching records.
    pub nth: u32,
    /// List filters that narrow the listing to the records that may match (a visit's
    /// date and team), where the target has them.
    pub search: Vec<(String, String)>,
}

impl Content {
    /// Whether `record` has every field of this content.
    pub fn matches(&self, record: &Value) -> bool {
        self.fields.iter().all(|(path, want)| {
            let got = path.split('.').try_fold(record, |v, k| v.get(k));
            match got {
                Some(Value::String(s)) => parse::same_listed(want, &s.trim().to_lowercase()),
                Some(v) => serde_json::to_string(v).is_ok_and(|text| text == *want),
                None => false,
            }
        })
    }
}

impl Key {
    /// A natural key: `field` = `value`.
    pub fn natural(field: impl Into<String>, value: impl Into<String>) -> Key {
        Key {
            field: field.into(),
            value: value.into(),
            content: None,
        }
    }
}

/// Why a create's outcome waits for the listing: the dispatch loop settles these
/// together, from one listing per batch ([`Ctx::find_created`]), never one per row.
#[derive(Debug, Clone)]
pub enum Unsettled {
    /// Created (2xx), but the answer named no id (`200 {}`, as documented).
    NoId,
    /// Sent, but the answer was lost (this reason): it may or may not have been created.
    Lost(String),
}

/// The wait before try `attempt + 1`: exponential with equal jitter, or the server's
/// `Retry-After` — both capped at `max_delay`, so that no answer can park a row for an
/// hour. Hand-written rather than the `backoff`/`backon` crates: it is ten lines, and
/// the retry loops around it decide per answer (429 budget, reconciled creates) in
/// ways those crates' retry drivers do not model.
fn backoff(policy: &Policy, attempt: u32, retry_after: Option<Duration>) -> Duration {
    let exp = policy
        .base_delay
        .saturating_mul(1u32 << attempt.min(16).saturating_sub(1))
        .min(policy.max_delay);
    // Equal jitter: half fixed, half random, so that many rows do not retry in lockstep.
    let jittered = exp / 2 + exp.mul_f64(fastrand::f64() / 2.0);
    match retry_after {
        Some(ra) => ra.min(policy.max_delay) + Duration::from_millis(fastrand::u64(0..100)),
        None => jittered,
    }
}

/// The `_error` of a create that ran out of tries; `lost`: the last lost answer.
fn gave_up(attempts: u32, lost: Option<&str>) -> String {
    match lost {
        Some(r) => format!(
            "not created after {attempts} tries (last: {r}); checked by key, nothing was stored"
        ),
        None => format!("gave up after {attempts} tries"),
    }
}

fn retryable_status(status: u16) -> bool {
    status == 429 || status >= 500
}

/// A request's run of 429s: since when, the last one (returned when giving up), and
/// this request's own wait before its next try (the 429's `Retry-After`: a 429 delays
/// the request that got it; the shared pace changes only when 429s are sustained).
#[derive(Default)]
struct Throttled {
    since: Option<Instant>,
    last: Option<Reply>,
    delay: Option<Duration>,
    /// 429s in a row, for a backoff when they come without `Retry-After`.
    count: u32,
}

/// One paced request, as the retry loops see it.
enum Step {
    /// An answer other than 429.
    Answer(Reply),
    /// A 429 within the budget: send again (the shared limiter has slowed down).
    Again,
    /// Still 429 when the budget ran out: the last 429 and what to tell the user.
    GiveUp(Reply, String),
    /// No answer.
    Failed(SendError),
    /// Not sent (or answered 429, so not applied): the day's quota is spent and the run
    /// parks; the row stays NOT SENT for `resume`.
    Parked,
}

/// What an idempotent request came to.
struct Sent {
    result: Result<Reply, SendError>,
    attempts: u32,
    /// Set when it gave up on 429s: the message for `_error`.
    rate_limited: Option<String>,
    /// The run parked before this request could be answered: it was not applied.
    parked: bool,
}

/// `42s`, `5m 0s`.
fn human(d: Duration) -> String {
    let s = d.as_secs();
    if s < 60 {
        format!("{:.1}s", d.as_secs_f64())
    } else {
        format!("{}m {}s", s / 60, s % 60)
    }
}

/// Why a request was given up on Ctrl-C.
const INTERRUPTED: &str = "interrupted (Ctrl-C) before it was sent";
/// Why a request was not sent when the run parked.
const PARKED: &str = "the API's quota is spent: the run parked before this request";

/// Fill `done` for a create that was answered 2xx: its id, or [`Unsettled::NoId`] for
/// the run's listing when the answer names none and the row has a key to find it by.
fn created(
    done: &mut Outcome,
    r: &Reply,
    keyed: bool,
    ambiguous_seen: Option<String>,
    unsettled: &mut Option<Unsettled>,
) {
    done.http = Some(r.status);
    done.status = Some(Status::Ok);
    done.id = parse::created_id(&r.json());
    if done.id.is_none() {
        done.error = "created, but the answer named no id".into();
        if keyed {
            *unsettled = Some(Unsettled::NoId);
        }
    }
    if let Some(reason) = ambiguous_seen {
        done.error = format!("created after an earlier try ended without an answer ({reason})");
    }
}

impl Ctx {
    /// Whether Ctrl-C was pressed.
    fn is_interrupted(&self) -> bool {
        self.interrupted.load(Ordering::SeqCst)
    }

    /// Whether the run parked for its quota: nothing more is sent.
    fn is_parked(&self) -> bool {
        self.limiter.quota().parked().is_some()
    }

    /// Whether nothing more may be sent: Ctrl-C, or the run parked.
    fn is_halted(&self) -> bool {
        self.is_interrupted() || self.is_parked()
    }

    /// Returns once Ctrl-C was pressed or the run parked (polled: a wait is cut short
    /// within 50 ms).
    async fn until_interrupted(&self) {
        while !self.is_halted() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Wait `d` before a retry, logged at `-v`; `false` when Ctrl-C (or parking) cut it
    /// short.
    async fn pause(&self, d: Duration, why: &str) -> bool {
        if self.is_halted() {
            return false;
        }
        tracing::info!("{why}; trying again in {}", human(d));
        tokio::select! {
            _ = tokio::time::sleep(d) => !self.is_halted(),
            _ = self.until_interrupted() => false,
        }
    }

    /// How long the server says its allowance is spent for, when that is a quota (longer
    /// than [`QUOTA_WAIT`]): a 429's `Retry-After`, or `Remaining: 0` with its reset.
    fn quota_wait(r: &Reply) -> Option<Duration> {
        let asked = if r.status == 429 {
            r.retry_after.max(r.quota_reset)
        } else {
            r.quota_reset
        };
        asked.filter(|w| *w > QUOTA_WAIT)
    }

    /// The day's allowance is spent for `wait`: park the run, or with
    /// `--wait-for-quota` hold every request until the reset. `true` when parked.
    fn quota_spent(&self, wait: Duration) -> bool {
        let quota = self.limiter.quota();
        if quota.waits() {
            self.limiter.pause_for(wait);
            let at = chrono::DateTime::<chrono::Utc>::from(std::time::SystemTime::now() + wait);
            quota.tell(&format!(
                "the API's quota is spent: waiting until it resets at {} ({}), as --wait-for-quota asks; Ctrl-C stops safely",
                at.format("%H:%M UTC"),
                human(wait)
            ));
            return false;
        }
        quota.park(std::time::SystemTime::now() + wait);
        true
    }

    /// Describe an error answer: the server's message (or what a plain-text or HTML
    /// body says, redacted and trimmed) plus its field errors, each translated to the
    /// sheet's column name.
    pub fn describe(&self, r: &Reply) -> String {
        describe::describe(r, &self.columns, None)
    }

    /// [`Ctx::describe`] for the request of one input row: field errors also name the
    /// row's cell (`Lintang (Customers!E7): …`).
    pub fn describe_row(&self, r: &Reply, row: Option<u32>) -> String {
        describe::describe(r, &self.columns, row)
    }

    /// The `_error` of a request that met 429s for longer than the budget.
    fn rate_limited(&self, t: &Throttled, tries: u32, server_wait: Option<Duration>) -> String {
        let waited = t.since.map(|s| s.elapsed()).unwrap_or_default();
        let more = server_wait
            .map(|w| format!(", and the server asks to wait {} more", human(w)))
            .unwrap_or_default();
        let rate = match self.limiter.current_rate() {
            Some(r) if r >= 1.0 => format!("{}", r.floor()),
            Some(r) => format!("{:.1}", r.max(0.1)),
            None => "1".into(),
        };
        let tries = if tries == 1 {
            "1 try".to_string()
        } else {
            format!("{tries} tries")
        };
        format!(
            "still rate-limited (HTTP 429) after waiting {} over {tries}{more} (the budget is {}): run it again later, or with a lower --rate (e.g. --rate {rate})",
            human(waited),
            human(self.policy.rate_limit_budget)
        )
    }

    /// One request, paced by the shared limiter, its answer fed back to it; `sent`
    /// counts it when it leaves. A 429 costs no try; it is retried until it has lasted
    /// the rate-limit budget.
    async fn send_once(
        &self,
        method: Method,
        path: &str,
        query: &[(String, String)],
        body: Body<'_>,
        t: &mut Throttled,
        sent: &mut u32,
    ) -> Step {
        let halted = |ctx: &Self| {
            if ctx.is_parked() {
                Step::Parked
            } else {
                Step::Failed(SendError::NotSent(INTERRUPTED.into()))
            }
        };
        if self.is_halted() {
            return halted(self);
        }
        if let Some(d) = t.delay.take()
            && !self
                .pause(d, &format!("{path}: rate-limited (HTTP 429)"))
                .await
        {
            return halted(self);
        }
        let ticket = tokio::select! {
            ticket = self.limiter.wait() => ticket,
            _ = self.until_interrupted() => return halted(self),
        };
        if self.is_halted() {
            return halted(self);
        }
        if !self.limiter.quota().take() {
            // The profile's quota_per_day is used up: it resets at 00:00 UTC.
            let reset = throttle::next_midnight_utc()
                .duration_since(std::time::SystemTime::now())
                .unwrap_or_default();
            if self.quota_spent(reset) {
                return Step::Parked;
            }
            return Step::Again;
        }
        *sent += 1;
        self.limiter.count_sent(&method);
        let attempt = tracing::info_span!("try", attempt = *sent);
        let began = Instant::now();
        let r = match self
            .client
            .send(method, path, query, body)
            .instrument(attempt)
            .await
        {
            Ok(r) => r,
            Err(e) => return Step::Failed(e),
        };
        self.limiter.took(began.elapsed());
        self.limiter.answered(ticket, &r);
        self.limiter.quota().learn(&r);
        if let Some(wait) = Self::quota_wait(&r)
            && self.quota_spent(wait)
            && r.status == 429
        {
            return Step::Parked;
        }
        if r.status != 429 {
            *t = Throttled::default();
            return Step::Answer(r);
        }
        if Self::quota_wait(&r).is_some() {
            // Waiting for the quota (--wait-for-quota): the limiter holds every request
            // until the reset; this one goes again then, its 429s no charge on its budget.
            return Step::Again;
        }
        let since = *t.since.get_or_insert_with(Instant::now);
        t.count += 1;
        let budget = self.policy.rate_limit_budget;
        let elapsed = since.elapsed();
        // A server asking for longer than the budget has left fails the row now, not
        // after the wait; without Retry-After the row waits until the budget is spent.
        let give_up = match r.retry_after {
            Some(ra) => elapsed + ra > budget,
            None => elapsed >= budget,
        };
        tracing::info!("{path}: rate-limited (HTTP 429)");
        if give_up {
            let server_wait = r.retry_after.filter(|w| !w.is_zero());
            let message = self.rate_limited(t, *sent, server_wait);
            return Step::GiveUp(r, message);
        }
        let wait = r
            .retry_after
            .unwrap_or_else(|| backoff(&self.policy, t.count, None).min(budget - elapsed))
            .min(self.policy.max_delay);
        t.delay = Some(wait);
        t.last = Some(r);
        Step::Again
    }

    /// An idempotent request (GET, PATCH, DELETE) with retries on 429, 5xx and network
    /// errors. Returns the final answer, or the last transport error.
    pub async fn idempotent(
        &self,
        method: Method,
        path: &str,
        query: &[(String, String)],
        body: Option<&Value>,
    ) -> (Result<Reply, SendError>, u32) {
        self.idempotent_body(method, path, query, body.map_or(Body::None, Body::Json))
            .await
    }

    /// [`Ctx::idempotent`] with any kind of body (a form for Trackfinity).
    pub async fn idempotent_body(
        &self,
        method: Method,
        path: &str,
        query: &[(String, String)],
        body: Body<'_>,
    ) -> (Result<Reply, SendError>, u32) {
        let sent = self.idempotent_sent(method, path, query, body).await;
        (sent.result, sent.attempts)
    }

    async fn idempotent_sent(
        &self,
        method: Method,
        path: &str,
        query: &[(String, String)],
        body: Body<'_>,
    ) -> Sent {
        let mut attempts = 0;
        let mut failures = 0;
        let mut throttled = Throttled::default();
        loop {
            let step = self
                .send_once(
                    method.clone(),
                    path,
                    query,
                    body,
                    &mut throttled,
                    &mut attempts,
                )
                .await;
            let (result, retry_after) = match step {
                Step::Again => continue,
                Step::Parked => {
                    return Sent {
                        result: Err(SendError::NotSent(PARKED.into())),
                        attempts,
                        rate_limited: None,
                        parked: true,
                    };
                }
                Step::GiveUp(r, message) => {
                    return Sent {
                        result: Ok(r),
                        attempts,
                        rate_limited: Some(message),
                        parked: false,
                    };
                }
                Step::Answer(r) if retryable_status(r.status) => {
                    let ra = r.retry_after;
                    (Ok(r), ra)
                }
                Step::Answer(r) => (Ok(r), None),
                Step::Failed(e) => (Err(e), None),
            };
            let retry = result.as_ref().map_or(true, |r| retryable_status(r.status));
            failures += 1;
            if !retry || failures > self.policy.retries {
                return Sent {
                    result,
                    attempts,
                    rate_limited: None,
                    parked: false,
                };
            }
            let why = match &result {
                Ok(r) => format!("{method} {path}: HTTP {}", r.status),
                Err(e) => format!("{method} {path}: {}", e.describe()),
            };
            let wait = backoff(&self.policy, failures, retry_after);
            if !self.pause(wait, &why).await {
                // Parked while waiting to retry: the last try was not applied (a 5xx
                // or no connection), so the row stays NOT SENT for `resume`.
                let parked = self.is_parked();
                return Sent {
                    result,
                    attempts,
                    rate_limited: None,
                    parked,
                };
            }
        }
    }

    /// Create a record for input row `row` (named in field errors). Retries only what
    /// certainly did not arrive (429, refused connections); an answer that may hide a
    /// created record (timeout, reset, 5xx) without a key ends the row `UNKNOWN`. With
    /// a key, a create whose answer was lost or named no id is [`Unsettled`] (the
    /// dispatch loop finds all of them together); the outcome is then provisional.
    pub async fn create_or_defer(
        &self,
        path: &str,
        body: &Value,
        key: Option<&Key>,
        row: Option<u32>,
    ) -> (Outcome, Option<Unsettled>) {
        let mut attempts = 0;
        let mut unsettled = None;
        let mut done = self
            .create_tries(path, body, key, row, &mut attempts, &mut unsettled)
            .instrument(tracing::info_span!("row", row))
            .await;
        done.attempts = Some(attempts);
        (done, unsettled)
    }

    /// The tries of one create; `attempts` counts the requests sent.
    async fn create_tries(
        &self,
        path: &str,
        body: &Value,
        key: Option<&Key>,
        row: Option<u32>,
        attempts: &mut u32,
        unsettled: &mut Option<Unsettled>,
    ) -> Outcome {
        let mut done = Outcome::default();
        let mut ambiguous_seen: Option<String> = None;
        let mut failures = 0;
        let mut throttled = Throttled::default();
        loop {
            let step = self
                .send_once(
                    Method::POST,
                    path,
                    &[],
                    Body::Json(body),
                    &mut throttled,
                    attempts,
                )
                .await;
            let (ambiguous, retry_after) = match step {
                Step::Again => {
                    done.http = Some(429);
                    continue;
                }
                // Not applied (never sent, or refused 429): NOT SENT, and `resume`
                // sends it. An earlier lost try was looked up and found not stored.
                Step::Parked => return Outcome::default(),
                Step::GiveUp(_, message) => {
                    done.http = Some(429);
                    done.status = Some(Status::Failed);
                    done.error = message;
                    return done;
                }
                Step::Answer(r) if r.is_success() => {
                    created(&mut done, &r, key.is_some(), ambiguous_seen, unsettled);
                    return done;
                }
                Step::Answer(r) if r.status >= 500 => {
                    done.http = Some(r.status);
                    (Some(format!("HTTP {}", r.status)), r.retry_after)
                }
                Step::Answer(r) => {
                    done.http = Some(r.status);
                    done.status = Some(Status::Failed);
                    done.error = self.describe_row(&r, row);
                    return done;
                }
                Step::Failed(SendError::NotSent(why)) => {
                    done.http = None;
                    if *attempts == 0 && self.is_interrupted() {
                        // Stopped before its first try left: no outcome, so the row
                        // stays NOT SENT and `resume` sends it.
                        return Outcome::default();
                    }
                    if failures >= self.policy.retries {
                        done.status = Some(Status::Failed);
                        done.error = format!("not sent: {why}");
                        return done;
                    }
                    (None, None)
                }
                Step::Failed(SendError::NoAnswer(why)) => {
                    done.http = None;
                    (Some(why), None)
                }
            };
            failures += 1;
            // A lost create waits, then is looked up (see `wait_then_look_up`).
            let mut paused_first = None;
            if let Some(reason) = ambiguous {
                let wait = backoff(&self.policy, failures, retry_after);
                if self
                    .wait_then_look_up(path, key, &reason, wait, &mut done, unsettled)
                    .await
                {
                    return done;
                }
                paused_first = Some(true);
                ambiguous_seen = Some(reason);
            }
            if failures > self.policy.retries {
                done.status = Some(Status::Failed);
                done.error = gave_up(*attempts, ambiguous_seen.as_deref());
                return done;
            }
            let resumed = match paused_first {
                Some(resumed) => resumed,
                None => {
                    let why = format!(
                        "POST {path}: {}",
                        ambiguous_seen.as_deref().unwrap_or("not sent")
                    );
                    self.pause(backoff(&self.policy, failures, retry_after), &why)
                        .await
                }
            };
            if !resumed {
                // Parked, or stopped before anything left: checked by key, nothing was
                // stored, so the row stays NOT SENT for `resume`.
                if *attempts == 0 || self.is_parked() {
                    return Outcome::default();
                }
                done.status = Some(Status::Failed);
                done.error = format!(
                    "interrupted (Ctrl-C) before try {}; nothing was stored, so `sheetload retry` sends it again",
                    *attempts + 1
                );
                return done;
            }
        }
    }

    /// A lost create waits BEFORE it is looked up: a gateway that answers 504 while the
    /// backend still commits would otherwise be searched too early, found absent, and
    /// sent again (a duplicate). `true` when that settles the row in `done`; stopped
    /// (Ctrl-C, a spent quota) during the wait, it may have been stored, so it is
    /// UNKNOWN, never NOT SENT nor sent again blind.
    async fn wait_then_look_up(
        &self,
        path: &str,
        key: Option<&Key>,
        reason: &str,
        wait: Duration,
        done: &mut Outcome,
        unsettled: &mut Option<Unsettled>,
    ) -> bool {
        let why = format!("POST {path}: {reason}; looking it up");
        if !self.pause(wait, &why).await {
            done.status = Some(Status::Unknown);
            done.error = format!(
                "sent, but {reason}; stopped before it could be looked up: `sheetload retry` of this result with --include-unknown looks it up before sending it again"
            );
            return true;
        }
        self.look_up_lost_create(path, key, reason, done, unsettled)
            .await
    }

    /// A create whose answer was lost (a 5xx, no answer) may have been stored: look it
    /// up where the target can be searched for it (a key filter, a visit's day), else
    /// leave it [`Unsettled`] for the run's listing. `true` when that settles the row in
    /// `done` (found, deferred, or it cannot be told); `false` when nothing was stored,
    /// so the next try may go.
    async fn look_up_lost_create(
        &self,
        path: &str,
        key: Option<&Key>,
        reason: &str,
        done: &mut Outcome,
        unsettled: &mut Option<Unsettled>,
    ) -> bool {
        done.status = Some(Status::Unknown);
        let Some(k) = key else {
            done.error = format!(
                "sent, but {reason}: the record may or may not have been created, and without a natural key it cannot be looked up; check in {} before sending this row again",
                self.service
            );
            return true;
        };
        let searchable = match &k.content {
            Some(c) => !c.search.is_empty(),
            None => self.client.fields().key_filter,
        };
        if !searchable {
            *unsettled = Some(Unsettled::Lost(reason.to_string()));
            done.error = format!("sent, but {reason}: not looked up yet");
            return true;
        }
        match self.find_created(path, &[k]).await {
            Ok(ids) => match ids.into_iter().next().flatten() {
                Some(id) => {
                    done.status = Some(Status::Ok);
                    done.id = Some(id);
                    done.error = format!(
                        "sent, but {reason}; found {} {} on the server, so it was created",
                        k.field, k.value
                    );
                    true
                }
                None => {
                    done.status = None;
                    false
                }
            },
            Err(e) => {
                done.error = format!(
                    "sent, but {reason}, and looking up {} {} failed ({e}); check in {} before sending this row again",
                    k.field, k.value, self.service
                );
                true
            }
        }
    }

    /// Update (PATCH) or delete an existing record by id, for input row `row`.
    pub async fn change(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        row: Option<u32>,
    ) -> Outcome {
        self.change_body(method, path, body.map_or(Body::None, Body::Json), row)
            .await
    }

    /// [`Ctx::change`] with any kind of body.
    pub async fn change_body(
        &self,
        method: Method,
        path: &str,
        body: Body<'_>,
        row: Option<u32>,
    ) -> Outcome {
        let span = tracing::info_span!("row", row);
        let sent = self
            .idempotent_sent(method, path, &[], body)
            .instrument(span)
            .await;
        if sent.parked {
            return Outcome::default();
        }
        let mut done = Outcome {
            attempts: Some(sent.attempts),
            ..Outcome::default()
        };
        match sent.result {
            Ok(r) if r.is_success() => {
                done.http = Some(r.status);
                done.status = Some(Status::Ok);
            }
            Ok(r) => {
                done.http = Some(r.status);
                done.status = Some(Status::Failed);
                done.error = sent
                    .rate_limited
                    .unwrap_or_else(|| self.describe_row(&r, row));
            }
            Err(e) => {
                done.status = Some(Status::Failed);
                done.error = format!("no answer after {} tries: {}", sent.attempts, e.describe());
            }
        }
        done
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_with_jitter_and_honours_retry_after() {
        let p = Policy::default();
        let d1 = backoff(&p, 1, None);
        assert!(
            d1 >= Duration::from_millis(100) && d1 <= Duration::from_millis(200),
            "{d1:?}"
        );
        let d5 = backoff(&p, 5, None);
        assert!(
            d5 >= Duration::from_millis(1600) && d5 <= Duration::from_millis(3200),
            "{d5:?}"
        );
        assert!(backoff(&p, 30, None) <= p.max_delay);
        let ra = backoff(&p, 1, Some(Duration::from_secs(3)));
        assert!(
            ra >= Duration::from_secs(3) && ra < Duration::from_millis(3100),
            "{ra:?}"
        );
        // A server asking for an hour gets at most the longest wait (30 s).
        let hour = backoff(&p, 1, Some(Duration::from_secs(3600)));
        assert!(
            hour >= p.max_delay && hour < p.max_delay + Duration::from_millis(100),
            "{hour:?}"
        );
    }

    /// A target that answers from a script of (status, Retry-After seconds), then
    /// `fallback` for ever; creates answer `{"id": 7}`.
    struct Script {
        answers: std::sync::Mutex<std::collections::VecDeque<(u16, Option<u64>)>>,
        fallback: (u16, Option<u64>),
        fields: crate::connector::salesmania::Fields,
    }

    impl Transport for Script {
        fn send<'a>(
            &'a self,
            _: Method,
            _: &'a str,
            _: &'a [(String, String)],
            _: Body<'a>,
        ) -> std::pin::Pin<
            Box<dyn std::future::Future<Output = Result<Reply, SendError>> + Send + 'a>,
        > {
            let next = self.answers.lock().ok().and_then(|mut q| q.pop_front());
            let (status, ra) = next.unwrap_or(self.fallback);
            Box::pin(async move {
                Ok(Reply {
                    status,
                    retry_after: ra.map(Duration::from_secs),
                    quota_reset: None,
                    allowance: None,
                    content_type: Some("application/json".into()),
                    body: br#"{"id": 7}"#.to_vec(),
                })
            })
        }

        fn fields(&self) -> &crate::connector::salesmania::Fields {
            &self.fields
        }
    }

    /// A target whose listing holds `records` (ids ascending), two a page, and states
    /// `total` as its total whatever it holds: a capped, stale or inflated count.
    struct Listing {
        records: Vec<Value>,
        total: u64,
        fields: crate::connector::salesmania::Fields,
    }

    impl Transport for Listing {
        fn send<'a>(
            &'a self,
            _: Method,
            _: &'a str,
            query: &'a [(String, String)],
            _: Body<'a>,
        ) -> std::pin::Pin<
            Box<dyn std::future::Future<Output = Result<Reply, SendError>> + Send + 'a>,
        > {
            let page: usize = query
                .iter()
                .find(|(k, _)| k == "page")
                .and_then(|(_, v)| v.parse().ok())
                .unwrap_or(1);
            let data: Vec<&Value> = self.records.iter().skip((page - 1) * 2).take(2).collect();
            let body = serde_json::json!({"data": data, "total": self.total});
            Box::pin(async move {
                Ok(Reply {
                    status: 200,
                    retry_after: None,
                    quota_reset: None,
                    allowance: None,
                    content_type: Some("application/json".into()),
                    body: body.to_string().into_bytes(),
                })
            })
        }

        fn fields(&self) -> &crate::connector::salesmania::Fields {
            &self.fields
        }
    }

    fn listing(keys: &[&str], total: u64) -> Ctx {
        let records = keys
            .iter()
            .enumerate()
            .map(|(i, k)| serde_json::json!({"id": i + 1, "code": k}))
            .collect();
        Ctx {
            client: std::sync::Arc::new(Listing {
                records,
                total,
                fields: crate::connector::salesmania::Fields {
                    page_size: 2,
                    ..Default::default()
                },
            }),
            limiter: Limiter::new(None),
            policy: Policy::default(),
            columns: HashMap::new(),
            interrupted: Default::default(),
            service: "the target",
        }
    }

    /// The stated total is not trusted (issue 32 review, point 6): records past a
    /// capped total are read, and a total far too high does not hide the last page.
    #[tokio::test]
    async fn lost_creates_are_found_past_a_wrong_total() {
        let codes = ["a", "b", "c", "d", "e", "f", "g"];
        let (f, g) = (Key::natural("code", "f"), Key::natural("code", "g"));
        for total in [3, 4, 7, 100, 1000] {
            let ids = listing(&codes, total)
                .find_created("/x", &[&f, &g])
                .await
                .unwrap_or_default();
            assert_eq!(
                ids,
                [Some("6".to_string()), Some("7".to_string())],
                "total {total}"
            );
        }
    }

    /// Two rows sharing a key take the two records having it, in order, never one
    /// record for both (point 7).
    #[tokio::test]
    async fn rows_sharing_a_key_take_one_record_each() {
        let k = Key::natural("code", "x");
        let ids = listing(&["a", "x", "b", "x", "x"], 5)
            .find_created("/x", &[&k, &k])
            .await
            .unwrap_or_default();
        assert_eq!(ids, [Some("4".to_string()), Some("5".to_string())]);
    }

    /// A context over a script, after ten answered GETs (so the limiter knows the
    /// server takes about ten requests a second).
    async fn scripted(
        script: &[(u16, Option<u64>)],
        fallback: (u16, Option<u64>),
        policy: Policy,
    ) -> Ctx {
        let mut answers: std::collections::VecDeque<_> =
            std::iter::repeat_n((200, None), 10).collect();
        answers.extend(script.iter().copied());
        let ctx = Ctx {
            client: std::sync::Arc::new(Script {
                answers: std::sync::Mutex::new(answers),
                fallback,
                fields: Default::default(),
            }),
            limiter: Limiter::new(None),
            policy,
            columns: HashMap::new(),
            interrupted: Default::default(),
            service: "the target",
        };
        for _ in 0..10 {
            let (r, _) = ctx.idempotent(Method::GET, "/x", &[], None).await;
            assert_eq!(r.map(|r| r.status).ok(), Some(200));
        }
        ctx
    }

    #[tokio::test]
    async fn rate_limits_cost_no_tries() {
        let policy = Policy {
            retries: 0,
            ..Policy::default()
        };
        let ctx = scripted(
            &[(429, None), (429, None), (429, None), (201, None)],
            (201, None),
            policy,
        )
        .await;
        let done = ctx
            .create_or_defer("/x", &serde_json::json!({}), None, Some(2))
            .await
            .0;
        assert_eq!(done.status, Some(Status::Ok), "{done:?}");
        assert_eq!(done.id.as_deref(), Some("7"));
        assert_eq!(done.attempts, Some(4));
        // Three 429s among a dozen answers are a burst, not a limit: the shared pace is
        // not cut (each 429 only delayed its own request).
        assert_eq!(ctx.limiter.current_rate(), None);
        // A 5xx still uses up the (zero) retries.
        let ctx = scripted(
            &[],
            (500, None),
            Policy {
                retries: 0,
                ..Policy::default()
            },
        )
        .await;
        let done = ctx.change(Method::PATCH, "/x/1", None, None).await;
        assert_eq!(
            (done.status, done.http, done.attempts),
            (Some(Status::Failed), Some(500), Some(1))
        );
    }

    #[tokio::test]
    async fn an_ambiguous_create_without_a_key_sends_the_user_to_the_target_it_went_to() {
        let mut ctx = scripted(&[(502, None)], (201, None), Policy::default()).await;
        ctx.service = "Fatura Entegratör";
        let done = ctx
            .create_or_defer("/x", &serde_json::json!({}), None, Some(3))
            .await
            .0;
        assert_eq!(done.status, Some(Status::Unknown), "{done:?}");
        assert!(
            done.error
                .ends_with("check in Fatura Entegratör before sending this row again"),
            "{}",
            done.error
        );
        assert!(!done.error.contains("SalesMania"), "{}", done.error);
    }

    #[tokio::test]
    async fn a_row_fails_only_after_the_rate_limit_budget() {
        let policy = Policy {
            rate_limit_budget: Duration::from_millis(300),
            retries: 1,
            ..Policy::default()
        };
        let ctx = scripted(&[], (429, None), policy.clone()).await;
        let started = Instant::now();
        let (done, _) = ctx
            .create_or_defer("/x", &serde_json::json!({}), None, None)
            .await;
        assert!(started.elapsed() >= Duration::from_millis(300));
        assert_eq!((done.status, done.http), (Some(Status::Failed), Some(429)));
        assert!(done.attempts.unwrap_or(0) > policy.retries + 1, "{done:?}");
        for part in [
            "still rate-limited (HTTP 429) after waiting",
            "(the budget is 0.3s)",
            "--rate ",
        ] {
            assert!(
                done.error.contains(part),
                "{part:?} missing from {}",
                done.error
            );
        }
        let done = ctx.change(Method::PATCH, "/x/1", None, None).await;
        assert!(
            done.error.starts_with("still rate-limited"),
            "{}",
            done.error
        );

        // A Retry-After longer than the budget fails at once instead of after it.
        let ctx = scripted(&[], (429, Some(60)), policy).await;
        let started = Instant::now();
        let done = ctx.change(Method::DELETE, "/x/1", None, None).await;
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!(done.attempts, Some(1), "{done:?}");
        assert!(
            done.error.contains("the server asks to wait"),
            "{}",
            done.error
        );
    }

    #[tokio::test]
    async fn a_spent_quota_parks_the_row_unsent_and_waiting_holds_every_request() {
        // A 429 asking for an hour is a quota spent: the row is not sent (NOT SENT,
        // for `resume`), and the run is parked until the reset.
        let ctx = scripted(&[(429, Some(3600))], (201, None), Policy::default()).await;
        let (done, _) = ctx
            .create_or_defer("/x", &serde_json::json!({}), None, Some(2))
            .await;
        assert_eq!(done.status, None, "{done:?}");
        let until = ctx.limiter.quota().parked();
        assert!(until.is_some_and(|u| u > std::time::SystemTime::now() + QUOTA_WAIT));
        // Nothing more is sent once parked.
        let change = ctx.change(Method::PATCH, "/x/1", None, None).await;
        assert_eq!(change.status, None, "{change:?}");
        // With --wait-for-quota the run does not park: the limiter holds every request.
        let ctx = scripted(&[(429, Some(3600))], (201, None), Policy::default()).await;
        ctx.limiter.quota().configure(None, true);
        let waited = tokio::time::timeout(
            Duration::from_millis(300),
            ctx.create_or_defer("/x", &serde_json::json!({}), None, Some(2)),
        )
        .await;
        assert!(waited.is_err(), "it waits for the reset");
        assert_eq!(ctx.limiter.quota().parked(), None);
    }

    #[test]
    fn only_429_and_5xx_are_retryable() {
        for s in [429, 500, 502, 503, 504] {
            assert!(retryable_status(s));
        }
        for s in [400, 401, 403, 404, 409, 422] {
            assert!(!retryable_status(s));
        }
    }
}
