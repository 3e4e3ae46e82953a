//! Connectors: one module per target, each knowing its auth scheme, endpoints and the
//! shapes of its responses and errors. The dispatcher above them knows none of that.

pub mod keyed;
pub mod log;
pub mod parse;
pub mod salesmania;

/// A request body: JSON (SalesMania, Fatura) or a form (Trackfinity's PATCH).
#[derive(Debug, Clone, Copy)]
pub enum Body<'a> {
    /// No body.
    None,
    /// `application/json`.
    Json(&'a serde_json::Value),
    /// `application/x-www-form-urlencoded`.
    Form(&'a [(String, String)]),
}

/// What the dispatcher needs from a target's client: authenticated requests and the
/// list conventions. SalesMania signs in with a session; Fatura Entegratör and
/// Trackfinity send static keys.
pub trait Transport: Send + Sync {
    /// One authenticated request; retrying is the caller's business.
    fn send<'a>(
        &'a self,
        method: reqwest::Method,
        path: &'a str,
        query: &'a [(String, String)],
        body: Body<'a>,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<Reply, SendError>> + Send + 'a>>;

    /// List and lookup conventions (page parameters, key filter).
    fn fields(&self) -> &salesmania::Fields;
}

use std::fmt;
use std::time::Duration;

use crate::error::{Error, Result};

/// Where a run writes, for the result workbook and the ledger: a SalesMania database, or
/// for a target without databases its account (the target's name, the host as id).
#[derive(Debug, Clone, PartialEq)]
pub struct Database {
    /// Its id (as the API gives it; the host for a target without databases).
    pub id: String,
    /// Its name.
    pub name: String,
}

/// A credential that must never reach logs, outputs or messages: `Debug` and `Display`
/// print `***`, and the value is only reachable through [`Secret::expose`].
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wrap a credential.
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }

    /// The credential itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether nothing was given.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// An HTTP answer, reduced to what the dispatcher and parsers need.
#[derive(Debug, Clone)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// `Retry-After`, in seconds or as an HTTP date, turned into a wait.
    pub retry_after: Option<Duration>,
    /// How long until the server's request quota resets, when it says the quota is
    /// used up (`X-RateLimit-Remaining: 0` / `RateLimit-Remaining: 0` with a reset),
    /// so that the dispatcher pauses before provoking a 429.
    pub quota_reset: Option<Duration>,
    /// What the quota headers (`RateLimit-*`, `X-RateLimit-*`) say, when present: for
    /// the flight plan's share of the day's quota.
    pub allowance: Option<RateHeaders>,
    /// The `Content-Type`, to tell an HTML error page from plain text.
    pub content_type: Option<String>,
    /// The body.
    pub body: Vec<u8>,
}

/// An answer's quota headers: requests left, the allowance, and when it resets.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateHeaders {
    /// `RateLimit-Remaining` / `X-RateLimit-Remaining`.
    pub remaining: u64,
    /// `RateLimit-Limit` / `X-RateLimit-Limit`.
    pub limit: Option<u64>,
    /// `RateLimit-Reset` / `X-RateLimit-Reset`, as a wait from now.
    pub reset: Option<Duration>,
}

impl Reply {
    /// The body as JSON, or `Null` when it is not JSON (an HTML error page).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }

    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// Why no HTTP answer arrived, and whether the request may have reached the server.
#[derive(Debug, Clone)]
pub enum SendError {
    /// The connection could not be made: the request certainly did not arrive.
    NotSent(String),
    /// The request went out but no (complete) answer came back: it may have been applied.
    NoAnswer(String),
}

impl SendError {
    /// A short description for `_error`.
    pub fn describe(&self) -> &str {
        match self {
            SendError::NotSent(s) | SendError::NoAnswer(s) => s,
        }
    }
}

/// Turn a reqwest error into a [`SendError`], without its URL (it holds the team token).
pub(crate) fn send_error(e: reqwest::Error) -> SendError {
    let e = e.without_url();
    if e.is_connect() {
        return SendError::NotSent(format!("cannot connect: {}", root_cause(&e)));
    }
    if e.is_timeout() {
        return SendError::NoAnswer("no answer before the timeout".into());
    }
    SendError::NoAnswer(format!("connection lost: {}", root_cause(&e)))
}

/// The innermost error text (connection refused, reset by peer …), never a URL.
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur: &(dyn std::error::Error + 'static) = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    let s = cur.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// Refuse plain `http://` to anything but this machine, unless the user insists:
/// credentials would cross the network in clear text.
pub fn check_base_url(url: &str, allow_http: bool) -> Result<reqwest::Url> {
    let parsed = reqwest::Url::parse(url).map_err(|e| {
        Error::usage(format!(
            "the base URL '{url}' is not a URL ({e}): write it like https://api.salesmania.id"
        ))
    })?;
    match parsed.scheme() {
        "https" => {}
        "http" => {
            let host = parsed.host_str().unwrap_or_default();
            let bare = host.trim_start_matches('[').trim_end_matches(']');
            let loopback = bare.eq_ignore_ascii_case("localhost")
                || bare
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback());
            if !loopback && !allow_http {
                return Err(Error::usage(format!(
                    "refusing plain http:// to {}: credentials would travel unencrypted; use https://, or pass --allow-http if you really mean it",
                    parsed.host_str().unwrap_or("that host")
                )));
            }
        }
        other => {
            return Err(Error::usage(format!(
                "the base URL must start with https:// (not {other}://)"
            )));
        }
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(Error::usage(
            "the base URL must not contain credentials: use SHEETLOAD_USER and SHEETLOAD_PASSWORD",
        ));
    }
    Ok(parsed)
}

/// The `reqwest` client every connector uses: TLS certificates verified against the
/// platform's roots, a per-request timeout, and a connection pool sized to the concurrency.
pub fn http_client(timeout: Duration, pool: usize) -> Result<reqwest::Client> {
    // rustls needs one process-wide crypto provider; a second install is a no-op.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(15)))
        .pool_max_idle_per_host(pool.max(1))
        .user_agent(concat!("sheetload/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| Error::usage(format!("cannot set up HTTPS: {}", root_cause(&e))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s} {s:?}"), "*** ***");
        assert_eq!(s.expose(), "hunter2");
    }

    #[test]
    fn plain_http_only_to_loopback() {
        assert!(check_base_url("http://127.0.0.1:8089", false).is_ok());
        assert!(check_base_url("http://localhost:1", false).is_ok());
        assert!(check_base_url("http://[::1]:1", false).is_ok());
        let e = check_base_url("http://api.salesmania.id", false).unwrap_err();
        assert!(e.to_string().contains("--allow-http"));
        assert!(check_base_url("http://api.salesmania.id", true).is_ok());
        assert!(check_base_url("https://api.salesmania.id", false).is_ok());
        assert!(check_base_url("ftp://x", false).is_err());
        assert!(check_base_url("https://u:p@x.id", false).is_err());
    }
}
