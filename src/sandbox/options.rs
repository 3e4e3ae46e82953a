//! What a sandbox run looks like: where it listens, what it is seeded with, and
//! which faults it injects ([`SandboxOptions`]), plus the credentials and seed
//! sizes of the targets besides SalesMania ([`TargetOptions`]).

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;

use super::SandboxError;

/// Everything that makes one sandbox run different from another.
///
/// `Default` is a quiet, well-behaved server: loopback only, an ephemeral port,
/// credentials `demo`/`demo`, no seeded customers or products, three teams per
/// database, a one-hour bearer and every fault knob off. Tests switch on exactly
/// the fault they want to see, so that a failure points at one behaviour.
#[derive(Clone, Debug, PartialEq)]
pub struct SandboxOptions {
    /// TCP port to listen on; `0` lets the OS pick a free one, which is what tests
    /// want so that parallel test binaries never collide.
    pub port: u16,
    /// Address to bind. Loopback by default because the sandbox accepts the demo
    /// credentials and must not be reachable from the network unless asked for.
    pub bind: IpAddr,
    /// Seeds both the generated records and every random fault decision, so a run
    /// that showed a bug can be replayed with the same sequence of answers.
    pub seed: u64,
    /// Number of customers generated in each database on a fresh start (default 0:
    /// an import test starts from an empty store and can count what it created).
    pub customers: usize,
    /// Number of products generated in each database on a fresh start (default 0).
    pub products: usize,
    /// Number of teams (sales users) generated in each database on a fresh start
    /// (default 3). At least 1 is needed: a team token always names a team.
    pub teams: usize,
    /// User name accepted by the Basic sign-in. The same default as the CLI's
    /// documented sandbox credentials, so `sheetload import --sandbox` just works.
    pub user: String,
    /// Password accepted by the Basic sign-in (default `demo`).
    pub password: String,
    /// Added to every API answer, with ±20 % jitter, so that timeouts and
    /// concurrency behave as they do against a remote server (default 0).
    pub latency_ms: u64,
    /// Probability (0..=1) that a data call is answered 500, 502 or 503 without
    /// being applied; exercises the client's retry policy (default 0).
    pub fail_rate: f64,
    /// Probability (0..=1) that a write (POST, PATCH, DELETE on data) is answered 500,
    /// 502 or 503 without being applied while reads keep working: a run can plan, and
    /// then its sends fail (`--max-errors`, retry of the Failed sheet) (default 0).
    pub write_fail_rate: f64,
    /// Requests per second accepted across the whole server; the excess is
    /// answered 429 with `Retry-After: 1` so the client's limiter and backoff are
    /// exercised (default `None`: unlimited).
    pub rate_limit: Option<u32>,
    /// Lifetime of a bearer token in seconds (default 3600, as the live API
    /// announces). A short TTL forces the client's single re-sign-in on 401.
    /// `None`: bearers never expire.
    pub token_ttl: Option<u64>,
    /// Probability (0..=1) that a successful POST create is committed and then the
    /// connection is reset without a single response byte: the "outcome unknown"
    /// case that must be reconciled, never blindly re-sent (default 0).
    pub drop_after_commit: f64,
    /// Milliseconds after which a create is committed when its gateway has already
    /// answered it 504 (every data POST, when non-zero): a lookup made at once finds
    /// nothing, and a client that then sends it again makes a duplicate (default 0).
    pub late_commit_ms: u64,
    /// List visits and orders as a live API might: dates as timestamps, customer ids
    /// as strings, no `ext_order_no` (default false).
    pub live_list_shape: bool,
    /// Answer the order list 405, as an API without one would (default false).
    pub no_order_list: bool,
    /// Answer every successful create (POST on data) `200 {}`, as SalesMania's own
    /// Add new customer and Add new visit pages document it: the client must find the
    /// new record's id in the listing (default false: the record is answered).
    pub empty_create_answer: bool,
    /// Probability (0..=1) that a data call is applied and its answer then held
    /// back for [`STALL`](super::STALL) — far beyond any sane client timeout — so
    /// that client timeouts are exercised. Stalled answers never delay shutdown
    /// (default 0).
    pub stall_rate: f64,
    /// JSON file that keeps the store across restarts, so that resume and
    /// reconciliation can be rehearsed against a sandbox that "remembers". When
    /// the file exists it is loaded instead of seeding (default `None`: in memory).
    pub state: Option<PathBuf>,
    /// Probability (0..=1) that a data call is answered 429 whatever the request rate:
    /// a gateway's per-second bursts and shared tenants (default 0).
    pub burst_429: f64,
    /// The `Retry-After` (seconds) of those burst 429s; `None` sends none (default 1).
    pub burst_retry_after: Option<u64>,
    /// A token bucket over every API route: (tokens per second, burst). A request
    /// finding no token is answered 429 with `Retry-After` and `RateLimit-*` headers
    /// (default `None`).
    pub bucket: Option<(f64, u32)>,
    /// Requests accepted per fixed minute across the server; the excess gets 429 with
    /// `Retry-After` until the minute ends (default `None`).
    pub per_minute: Option<u32>,
    /// Requests accepted per day; then 429 with a `Retry-After` of hours and
    /// `RateLimit-Remaining: 0` until the reset. Every answer carries the quota headers
    /// (default `None`).
    pub daily_quota: Option<u32>,
    /// Seconds from start until the daily quota resets (default: the next 00:00 UTC);
    /// a test moves it with `POST /_sandbox/quota {"reset_in": SECS}`.
    pub quota_reset_in: Option<u64>,
}

impl Default for SandboxOptions {
    fn default() -> Self {
        SandboxOptions {
            port: 0,
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            seed: 1,
            customers: 0,
            products: 0,
            teams: 3,
            user: "demo".to_owned(),
            password: "demo".to_owned(),
            latency_ms: 0,
            fail_rate: 0.0,
            write_fail_rate: 0.0,
            rate_limit: None,
            token_ttl: Some(3600),
            drop_after_commit: 0.0,
            late_commit_ms: 0,
            live_list_shape: false,
            no_order_list: false,
            empty_create_answer: false,
            stall_rate: 0.0,
            state: None,
            burst_429: 0.0,
            burst_retry_after: Some(1),
            bucket: None,
            per_minute: None,
            daily_quota: None,
            quota_reset_in: None,
        }
    }
}

/// Credentials and seed sizes of the targets besides SalesMania: Trackfinity and
/// Fatura Entegratör.
///
/// Kept apart from [`SandboxOptions`] so that every existing way of building
/// those (including exhaustive struct literals) keeps compiling; pass both to
/// [`Sandbox::start_with`](super::Sandbox::start_with),
/// [`spawn_in_thread_with`](super::spawn_in_thread_with) or
/// [`serve_forever_with`](super::serve_forever_with). The plain entry points use
/// `TargetOptions::default()`. Fault knobs, seed and state file are shared with
/// SalesMania and come from [`SandboxOptions`].
#[derive(Clone, Debug, PartialEq)]
pub struct TargetOptions {
    /// Value the Trackfinity `api-key` header must carry (default `tf-demo-key`).
    pub trackfinity_api_key: String,
    /// Value the Trackfinity `api-username` header must carry (default `admin`).
    pub trackfinity_username: String,
    /// Trackfinity customers generated on a fresh start, with `customer_id`
    /// 1..=N and `subscription_id` `SUB-000001`.. (default 20: the API cannot
    /// create customers, so there must be some to update).
    pub trackfinity_customers: usize,
    /// Key the Fatura Entegratör `Authorization: Bearer` header must carry
    /// (default `fe-demo-key`).
    pub fatura_api_key: String,
    /// Fatura Entegratör customers generated on a fresh start (default 0: an
    /// import test starts from an empty account).
    pub fatura_customers: usize,
}

impl Default for TargetOptions {
    fn default() -> Self {
        TargetOptions {
            trackfinity_api_key: "tf-demo-key".to_owned(),
            trackfinity_username: "admin".to_owned(),
            trackfinity_customers: 20,
            fatura_api_key: "fe-demo-key".to_owned(),
            fatura_customers: 0,
        }
    }
}

impl TargetOptions {
    /// Rejects credentials no client could send and seed sizes beyond reason.
    pub(crate) fn validate(&self) -> Result<(), SandboxError> {
        for (option, value) in [
            ("trackfinity_api_key", &self.trackfinity_api_key),
            ("trackfinity_username", &self.trackfinity_username),
            ("fatura_api_key", &self.fatura_api_key),
        ] {
            let sendable = !value.is_empty()
                && value.trim() == value
                && value.bytes().all(|b| b.is_ascii_graphic() || b == b' ');
            if !sendable {
                return Err(SandboxError::InvalidOption {
                    option,
                    reason: "must be non-empty printable ASCII without surrounding spaces, \
                             so that a client can send it in a header"
                        .to_owned(),
                });
            }
        }
        for (option, count) in [
            ("trackfinity_customers", self.trackfinity_customers),
            ("fatura_customers", self.fatura_customers),
        ] {
            if count > MAX_SEEDED {
                return Err(SandboxError::InvalidOption {
                    option,
                    reason: format!("{count} is more than the {MAX_SEEDED} the sandbox seeds"),
                });
            }
        }
        Ok(())
    }
}

/// Upper bound for seeded records per collection and database: a typo such as
/// `--customers 1e12` must fail fast instead of exhausting memory.
const MAX_SEEDED: usize = 5_000_000;

impl SandboxOptions {
    /// Rejects option values that would make the sandbox lie (a probability above
    /// 1) or be useless (no team to put in a team token), before anything binds.
    pub(crate) fn validate(&self) -> Result<(), SandboxError> {
        for (option, rate) in [
            ("fail_rate", self.fail_rate),
            ("write_fail_rate", self.write_fail_rate),
            ("drop_after_commit", self.drop_after_commit),
            ("stall_rate", self.stall_rate),
            ("burst_429", self.burst_429),
        ] {
            if !(0.0..=1.0).contains(&rate) {
                return Err(SandboxError::InvalidOption {
                    option,
                    reason: format!("{rate} is not a probability between 0 and 1"),
                });
            }
        }
        if self.teams == 0 {
            return Err(SandboxError::InvalidOption {
                option: "teams",
                reason: "at least one team is needed to issue team tokens".to_owned(),
            });
        }
        for (option, count) in [
            ("customers", self.customers),
            ("products", self.products),
            ("teams", self.teams),
        ] {
            if count > MAX_SEEDED {
                return Err(SandboxError::InvalidOption {
                    option,
                    reason: format!("{count} is more than the {MAX_SEEDED} the sandbox seeds"),
                });
            }
        }
        if self.rate_limit == Some(0) {
            return Err(SandboxError::InvalidOption {
                option: "rate_limit",
                reason:
                    "0 requests per second would refuse everything; leave it unset for no limit"
                        .to_owned(),
            });
        }
        if let Some((rate, burst)) = self.bucket
            && !(rate.is_finite() && rate > 0.0 && burst > 0)
        {
            return Err(SandboxError::InvalidOption {
                option: "bucket",
                reason: "the bucket needs a positive rate and a burst of at least 1".to_owned(),
            });
        }
        for (option, limit) in [
            ("per_minute", self.per_minute),
            ("daily_quota", self.daily_quota),
        ] {
            if limit == Some(0) {
                return Err(SandboxError::InvalidOption {
                    option,
                    reason: "0 would refuse everything; leave it unset for no limit".to_owned(),
                });
            }
        }
        if self.token_ttl == Some(0) {
            return Err(SandboxError::InvalidOption {
                option: "token_ttl",
                reason:
                    "a bearer that expires at once cannot be used; leave it unset for no expiry"
                        .to_owned(),
            });
        }
        Ok(())
    }
}
