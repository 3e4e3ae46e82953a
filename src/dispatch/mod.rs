//! Dispatch: bounded concurrency, a client-side rate limit, and a retry policy that only
//! retries what is safe. A POST whose outcome is unknown is reconciled by looking its
//! natural key up, never blindly re-sent; without a key it ends `UNKNOWN`.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use serde_json::Value;

use crate::connector::{Body, Reply, SendError, Transport, parse};
use crate::output::Status;

/// How hard to push the target.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Requests in flight at most.
    pub concurrency: usize,
    /// Requests per second at most (all kinds), if limited.
    pub rate: Option<f64>,
    /// Further tries after the first, for retryable failures.
    pub retries: u32,
    /// First backoff step; doubles each try, with jitter.
    pub base_delay: Duration,
    /// Longest single wait.
    pub max_delay: Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            concurrency: 8,
            rate: None,
            retries: 5,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(30),
        }
    }
}

/// A process-wide request rate limit (governor's GCRA), or none.
pub struct Limiter(Option<governor::DefaultDirectRateLimiter>);

impl Limiter {
    /// At most `rate` requests per second (fractions allowed), bursts of one second's worth.
    pub fn new(rate: Option<f64>) -> Self {
        Limiter(rate.filter(|r| *r > 0.0).map(|r| {
            let period = Duration::from_secs_f64(1.0 / r);
            let burst = NonZeroU32::new(r.ceil().max(1.0) as u32).unwrap_or(NonZeroU32::MIN);
            let quota = governor::Quota::with_period(period)
                .unwrap_or_else(|| governor::Quota::per_second(NonZeroU32::MIN))
                .allow_burst(burst);
            governor::RateLimiter::direct(quota)
        }))
    }

    /// Wait for a slot.
    pub async fn wait(&self) {
        if let Some(l) = &self.0 {
            l.until_ready().await;
        }
    }
}

/// Everything a request needs: the signed-in client, the limiter and the policy.
pub struct Ctx {
    /// The target.
    pub client: Arc<dyn Transport>,
    /// Shared rate limit.
    pub limiter: Limiter,
    /// Retry and concurrency policy.
    pub policy: Policy,
    /// Payload path (`location.lat`, `product_units.0.ratio`) → the sheet's column name,
    /// so that server field errors point at the user's columns.
    pub columns: HashMap<String, String>,
}

/// What happened to one row's request(s).
#[derive(Debug, Clone, Default)]
pub struct Done {
    /// Final status.
    pub status: Option<Status>,
    /// Last HTTP status seen.
    pub http: Option<u16>,
    /// Created or matched remote id.
    pub id: Option<String>,
    /// Reason, for anything but a plain success (and notes such as "confirmed by lookup").
    pub error: String,
    /// Requests sent for this row (lookups excluded).
    pub attempts: u32,
}

/// The natural key of a row, for reconciling an ambiguous create.
#[derive(Debug, Clone)]
pub struct Key {
    /// Field on the remote record (`ext_cust_no`).
    pub field: String,
    /// The row's value.
    pub value: String,
}

fn backoff(policy: &Policy, attempt: u32, retry_after: Option<Duration>) -> Duration {
    let exp = policy
        .base_delay
        .saturating_mul(1u32 << attempt.min(16).saturating_sub(1))
        .min(policy.max_delay);
    // Equal jitter: half fixed, half random, so that many rows do not retry in lockstep.
    let jittered = exp / 2 + exp.mul_f64(fastrand::f64() / 2.0);
    match retry_after {
        Some(ra) => ra.min(policy.max_delay.max(ra)) + Duration::from_millis(fastrand::u64(0..100)),
        None => jittered,
    }
}

fn retryable_status(status: u16) -> bool {
    status == 429 || status >= 500
}

impl Ctx {
    /// Describe an error answer: the server's message plus its field errors, each
    /// translated to the sheet's column name.
    pub fn describe(&self, r: &Reply) -> String {
        let v = r.json();
        let (message, fields) = parse::api_error(&v);
        let mut parts = Vec::new();
        let head = match (r.status, message) {
            (_, Some(m)) => format!("HTTP {}: {m}", r.status),
            (404, None) => "HTTP 404: not found".to_string(),
            (403, None) => "HTTP 403: no permission for this database".to_string(),
            (s, None) => {
                let text = String::from_utf8_lossy(&r.body);
                let snippet: String = text.chars().filter(|c| !c.is_control()).take(120).collect();
                if v.is_null() && !snippet.is_empty() {
                    format!("HTTP {s} (not a JSON answer)")
                } else {
                    format!("HTTP {s}")
                }
            }
        };
        parts.push(head);
        for (field, msgs) in fields {
            let column = self.columns.get(&field).cloned().unwrap_or_else(|| {
                if field.is_empty() {
                    "row".into()
                } else {
                    field.clone()
                }
            });
            parts.push(format!("{column}: {}", msgs.join(", ")));
        }
        parts.join("; ")
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
        let mut attempt = 0;
        loop {
            attempt += 1;
            self.limiter.wait().await;
            let result = self.client.send(method.clone(), path, query, body).await;
            let retry_after = match &result {
                Ok(r) if retryable_status(r.status) => r.retry_after,
                Err(_) => None,
                Ok(_) => return (result, attempt),
            };
            if attempt > self.policy.retries {
                return (result, attempt);
            }
            tokio::time::sleep(backoff(&self.policy, attempt, retry_after)).await;
        }
    }

    /// Every record of a collection, page by page; stops at a short or empty page or at
    /// the stated total, and never loops forever.
    pub async fn list_all(
        &self,
        path: &str,
        filters: &[(String, String)],
    ) -> Result<Vec<Value>, String> {
        let f = self.client.fields();
        let size = f.page_size.max(1);
        let mut out = Vec::new();
        for page in 1..=1_000_000u32 {
            let mut q = filters.to_vec();
            q.push((f.page_param.clone(), page.to_string()));
            q.push((f.limit_param.clone(), size.to_string()));
            let (r, _) = self.idempotent(Method::GET, path, &q, None).await;
            let r = r.map_err(|e| format!("listing {path} failed: {}", e.describe()))?;
            if !r.is_success() {
                return Err(format!("listing {path} failed: {}", self.describe(&r)));
            }
            let (items, total) = parse::page(&r.json());
            let n = items.len();
            out.extend(items);
            let done = n < size as usize || total.is_some_and(|t| out.len() as u64 >= t);
            if n == 0 || done {
                break;
            }
        }
        Ok(out)
    }

    /// The remote record holding `key`, if any: with the list filter when the API has
    /// one (checking the answer really matches), else by paging through the list.
    pub async fn find_by_key(&self, path: &str, key: &Key) -> Result<Option<Value>, String> {
        let matches = |v: &Value| {
            v.get(&key.field)
                .and_then(parse::scalar_text)
                .is_some_and(|s| s.trim() == key.value)
        };
        if self.client.fields().key_filter {
            let filter = [(key.field.clone(), key.value.clone())];
            let items = self.list_all(path, &filter).await?;
            let size = self.client.fields().page_size as usize;
            if let Some(found) = items.iter().find(|v| matches(v)) {
                return Ok(Some(found.clone()));
            }
            // A filter that was honoured returns few items; a full page means it was
            // ignored and the answer proves nothing.
            if items.len() < size {
                return Ok(None);
            }
        }
        Ok(self.list_all(path, &[]).await?.into_iter().find(matches))
    }

    /// Create a record. Retries only what certainly did not arrive (429, refused
    /// connections); an answer that may hide a created record (timeout, reset, 5xx) is
    /// reconciled through `key` — found is OK with its id, absent is sent again — and
    /// without a key the row ends `UNKNOWN`.
    pub async fn create(&self, path: &str, body: &Value, key: Option<&Key>) -> Done {
        let mut done = Done::default();
        let mut ambiguous_seen: Option<String> = None;
        loop {
            done.attempts += 1;
            self.limiter.wait().await;
            let result = self
                .client
                .send(Method::POST, path, &[], Body::Json(body))
                .await;
            let (ambiguous, retry_after) = match result {
                Ok(r) if r.is_success() => {
                    done.http = Some(r.status);
                    done.status = Some(Status::Ok);
                    done.id = parse::created_id(&r.json());
                    if done.id.is_none() {
                        if let Some(k) = key
                            && let Ok(Some(found)) = self.find_by_key(path, k).await
                        {
                            done.id = parse::record_id(&found);
                        }
                        if done.id.is_none() {
                            done.error = "created, but the answer named no id".into();
                        }
                    }
                    if let Some(reason) = ambiguous_seen {
                        done.error = format!(
                            "created after an earlier try ended without an answer ({reason})"
                        );
                    }
                    return done;
                }
                Ok(r) if r.status == 429 => {
                    done.http = Some(429);
                    (None, r.retry_after)
                }
                Ok(r) if r.status >= 500 => {
                    done.http = Some(r.status);
                    (Some(format!("HTTP {}", r.status)), r.retry_after)
                }
                Ok(r) => {
                    done.http = Some(r.status);
                    done.status = Some(Status::Failed);
                    done.error = self.describe(&r);
                    return done;
                }
                Err(SendError::NotSent(why)) => {
                    done.http = None;
                    if done.attempts > self.policy.retries {
                        done.status = Some(Status::Failed);
                        done.error = format!("not sent: {why}");
                        return done;
                    }
                    (None, None)
                }
                Err(SendError::NoAnswer(why)) => {
                    done.http = None;
                    (Some(why), None)
                }
            };
            if let Some(reason) = ambiguous {
                let Some(k) = key else {
                    done.status = Some(Status::Unknown);
                    done.error = format!(
                        "sent, but {reason}: the record may or may not have been created, and without a natural key it cannot be looked up; check in SalesMania before sending this row again"
                    );
                    return done;
                };
                match self.find_by_key(path, k).await {
                    Ok(Some(found)) => {
                        done.status = Some(Status::Ok);
                        done.id = parse::record_id(&found);
                        done.error = format!(
                            "sent, but {reason}; found {} {} on the server, so it was created",
                            k.field, k.value
                        );
                        return done;
                    }
                    Ok(None) => ambiguous_seen = Some(reason),
                    Err(e) => {
                        done.status = Some(Status::Unknown);
                        done.error = format!(
                            "sent, but {reason}, and looking up {} {} failed ({e}); check in SalesMania before sending this row again",
                            k.field, k.value
                        );
                        return done;
                    }
                }
            }
            if done.attempts > self.policy.retries {
                done.status = Some(Status::Failed);
                done.error = match (done.http, &ambiguous_seen) {
                    (Some(429), _) => format!(
                        "still rate-limited (HTTP 429) after {} tries",
                        done.attempts
                    ),
                    (_, Some(r)) => format!(
                        "not created after {} tries (last: {r}); checked by key, nothing was stored",
                        done.attempts
                    ),
                    _ => format!("gave up after {} tries", done.attempts),
                };
                return done;
            }
            tokio::time::sleep(backoff(&self.policy, done.attempts, retry_after)).await;
        }
    }

    /// Update (PATCH) or delete an existing record by id.
    pub async fn change(&self, method: Method, path: &str, body: Option<&Value>) -> Done {
        self.change_body(method, path, body.map_or(Body::None, Body::Json))
            .await
    }

    /// [`Ctx::change`] with any kind of body.
    pub async fn change_body(&self, method: Method, path: &str, body: Body<'_>) -> Done {
        let (result, attempts) = self.idempotent_body(method, path, &[], body).await;
        let mut done = Done {
            attempts,
            ..Done::default()
        };
        match result {
            Ok(r) if r.is_success() => {
                done.http = Some(r.status);
                done.status = Some(Status::Ok);
            }
            Ok(r) => {
                done.http = Some(r.status);
                done.status = Some(Status::Failed);
                done.error = self.describe(&r);
            }
            Err(e) => {
                done.status = Some(Status::Failed);
                done.error = format!("no answer after {attempts} tries: {}", e.describe());
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
