//! SalesMania: the three-step sign-in (Basic → bearer → database → team token), one
//! shared session with a single re-sign-in on 401, and authenticated requests.
//!
//! Endpoint paths and response field names that the vendor does not document are
//! settings ([`Paths`], [`Fields`]) with the sandbox's defaults, overridable per profile.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use serde::Deserialize;
use tokio::sync::{Mutex, RwLock};

use super::{RateHeaders, Reply, Secret, SendError, parse, send_error};
use crate::error::{Error, Result};
use crate::spec::Entity;

/// Endpoint paths, relative to the base URL.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Paths {
    /// Step 1: Basic auth → bearer.
    pub token: String,
    /// Step 2: the databases the user can reach.
    pub databases: String,
    /// Step 3: team token for a database.
    pub team_token: String,
    /// Customers collection.
    pub customers: String,
    /// Products collection.
    pub products: String,
    /// Visits (note the v1.1 prefix).
    pub visits: String,
    /// Orders collection.
    pub orders: String,
    /// Teams (sales users).
    pub teams: String,
}

impl Default for Paths {
    fn default() -> Self {
        Paths {
            token: "/extapi/v1.0/token".into(),
            databases: "/extapi/v1.0/databases".into(),
            team_token: "/extapi/v1.0/team_token".into(),
            customers: "/extapi/v1.0/customers".into(),
            products: "/extapi/v1.0/products".into(),
            visits: "/extapi/v1.1/visits".into(),
            orders: "/extapi/v1.0/orders".into(),
            teams: "/extapi/v1.0/teams".into(),
        }
    }
}

impl Paths {
    /// The collection path of an entity.
    pub fn collection(&self, entity: Entity) -> &str {
        match entity {
            Entity::Customers => &self.customers,
            Entity::Products => &self.products,
            Entity::Visits => &self.visits,
            Entity::Orders => &self.orders,
            Entity::Teams => &self.teams,
        }
    }
}

/// Names of response fields and query parameters the docs leave open.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Fields {
    /// Where the bearer is in the step-1 answer.
    pub token: Vec<String>,
    /// Where the team token is in the step-3 answer.
    pub team_token: Vec<String>,
    /// The database id field in the step-2 list.
    pub db_id: Vec<String>,
    /// The query parameter naming the database in step 3.
    pub db_param: String,
    /// The page-number query parameter of lists.
    pub page_param: String,
    /// The page-size query parameter of lists.
    pub limit_param: String,
    /// Largest page size the API accepts.
    pub page_size: u32,
    /// Whether lists accept an exact natural-key filter (`?ext_cust_no=`); when not,
    /// lookups page through the whole list.
    pub key_filter: bool,
}

impl Default for Fields {
    fn default() -> Self {
        Fields {
            token: vec!["token".into(), "access_token".into()],
            team_token: vec!["team_token".into(), "token".into()],
            db_id: vec!["db_id".into(), "id".into()],
            db_param: "db_id".into(),
            page_param: "page".into(),
            limit_param: "limit".into(),
            page_size: 100,
            key_filter: true,
        }
    }
}

/// How to reach and sign in to one SalesMania account.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `https://api.salesmania.id` (checked by [`super::check_base_url`]).
    pub base_url: reqwest::Url,
    /// Sign-in user.
    pub user: String,
    /// Sign-in password.
    pub password: Secret,
    /// Database by id or name; optional when the user reaches only one.
    pub database: Option<String>,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Connection pool size (the dispatch concurrency).
    pub pool: usize,
    /// Endpoint paths.
    pub paths: Paths,
    /// Response field and parameter names.
    pub fields: Fields,
}

pub use super::Database;

struct Session {
    bearer: Secret,
    team_token: Secret,
    generation: u64,
}

/// A signed-in SalesMania client, shared by all in-flight requests.
pub struct SalesMania {
    http: reqwest::Client,
    settings: Settings,
    database: Database,
    /// The team the team token names (read from it, never built), if it says one.
    team_id: Option<String>,
    session: RwLock<Arc<Session>>,
    signing_in: Mutex<()>,
}

pub(crate) fn join(base: &reqwest::Url, path: &str) -> String {
    format!(
        "{}/{}",
        base.as_str().trim_end_matches('/'),
        path.trim_start_matches('/')
    )
}

/// `Retry-After` as seconds or an HTTP date, in any of the three forms RFC 9110 says a
/// client must accept (IMF-fixdate, RFC 850, asctime), parsed by the `httpdate` crate;
/// at most two days (a daily quota's reset; the dispatcher parks the run for a wait
/// longer than its rate-limit budget, and caps shorter ones at its longest wait).
pub fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    const LONGEST: Duration = Duration::from_secs(2 * 24 * 3600);
    let v = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(secs) = v.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0)
            .then(|| Duration::from_secs_f64(secs.min(LONGEST.as_secs_f64())));
    }
    let when = httpdate::parse_http_date(v).ok()?;
    Some(
        when.duration_since(std::time::SystemTime::now())
            .unwrap_or(Duration::ZERO)
            .min(LONGEST),
    )
}

/// When the answer says the request quota is used up (`X-RateLimit-Remaining: 0`, or
/// the IETF draft's `RateLimit-Remaining: 0`), how long until it resets: the reset
/// header as seconds from now, or as a Unix time when it is that large (GitHub, Laravel).
pub fn quota_reset(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let h = rate_headers(headers)?;
    if h.remaining > 0 {
        return None;
    }
    h.reset
}

/// The quota headers (`X-RateLimit-Remaining`/`-Limit`/`-Reset`, or the IETF draft's
/// `RateLimit-*`), when the answer has a remaining count; the reset as seconds from now,
/// or as a Unix time when it is that large (GitHub, Laravel), at most two days.
pub fn rate_headers(headers: &reqwest::header::HeaderMap) -> Option<RateHeaders> {
    let number = |names: &[&str]| {
        names.iter().find_map(|n| {
            let v = headers.get(*n)?.to_str().ok()?.trim().parse::<f64>().ok()?;
            v.is_finite().then_some(v)
        })
    };
    let remaining = number(&["x-ratelimit-remaining", "ratelimit-remaining"])?;
    let limit = number(&["x-ratelimit-limit", "ratelimit-limit"]);
    let reset = number(&["x-ratelimit-reset", "ratelimit-reset"]).map(|reset| {
        let seconds = if reset > 1_000_000_000.0 {
            reset - chrono::Utc::now().timestamp() as f64
        } else {
            reset
        };
        Duration::from_secs_f64(seconds.clamp(0.0, 2.0 * 24.0 * 3600.0))
    });
    Some(RateHeaders {
        remaining: remaining.max(0.0) as u64,
        limit: limit.map(|l| l.max(0.0) as u64),
        reset,
    })
}

pub(crate) async fn reply(resp: reqwest::Response) -> Result<Reply, SendError> {
    let status = resp.status().as_u16();
    let retry_after = retry_after(resp.headers());
    let quota_reset = quota_reset(resp.headers());
    let allowance = rate_headers(resp.headers());
    let content_type = resp
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body = resp.bytes().await.map_err(send_error)?.to_vec();
    Ok(Reply {
        status,
        retry_after,
        quota_reset,
        allowance,
        content_type,
        body,
    })
}

/// One sign-in step, retried a few times on 429, 5xx and connection errors (honouring
/// `Retry-After`): a rate limit at sign-in must not end a run that would retry any
/// data request. Other answers are returned for the caller to judge.
async fn step(s: &Settings, make: impl Fn() -> reqwest::RequestBuilder) -> Result<Reply> {
    const TRIES: u32 = 4;
    let mut attempt = 0;
    loop {
        attempt += 1;
        let result = super::log::send(make()).await;
        let wait = match &result {
            Ok(r) if r.status == 429 || r.status >= 500 => r.retry_after,
            Ok(_) => return result.map_err(|e| unreachable(s, &e)),
            Err(_) => None,
        };
        if attempt >= TRIES {
            return result.map_err(|e| unreachable(s, &e));
        }
        let backoff = Duration::from_millis(250 * (1 << (attempt - 1)).min(16));
        let jitter = Duration::from_millis(fastrand::u64(0..200));
        tokio::time::sleep(wait.unwrap_or(backoff).min(Duration::from_secs(30)) + jitter).await;
    }
}

fn unreachable(settings: &Settings, e: &SendError) -> Error {
    let host = settings.base_url.host_str().unwrap_or("the API");
    if e.describe().contains("certificate") {
        return Error::usage(format!(
            "the TLS certificate of {host} is not trusted ({}): check the address; sheetload verifies certificates against this machine's trusted roots and will not send credentials otherwise",
            e.describe()
        ));
    }
    Error::usage(format!(
        "cannot reach {} ({}): check --base-url / SHEETLOAD_BASE_URL and the network",
        settings.base_url.host_str().unwrap_or("the API"),
        e.describe()
    ))
}

fn refused(settings: &Settings, step: &str, r: &Reply) -> Error {
    let (message, _) = parse::api_error(&r.json());
    let why = message.map(|m| format!(": {m}")).unwrap_or_default();
    if r.status == 401 || r.status == 403 {
        Error::Auth(format!(
            "{} refused the sign-in of user '{}' at {step} (HTTP {}{why}); check SHEETLOAD_USER and SHEETLOAD_PASSWORD",
            settings.base_url.host_str().unwrap_or("the API"),
            settings.user,
            r.status
        ))
    } else {
        Error::usage(format!(
            "{} answered HTTP {} at {step}{why}; if this account uses other endpoint paths, set them in the profile's [paths] in sheetload.toml",
            settings.base_url.host_str().unwrap_or("the API"),
            r.status
        ))
    }
}

impl SalesMania {
    /// Sign in (all three steps) and pick the database.
    pub async fn connect(http: reqwest::Client, settings: Settings) -> Result<Self> {
        let (bearer, database, team_token) = Self::sign_in(&http, &settings).await?;
        tracing::info!(
            "signed in to {} as {}; database {} \"{}\"",
            settings.base_url.host_str().unwrap_or("the API"),
            settings.user,
            database.id,
            database.name
        );
        let team_id = parse::team_token_claims(team_token.expose())
            .and_then(|(_, team)| team)
            .map(|team| team.to_string());
        Ok(SalesMania {
            http,
            settings,
            database,
            team_id,
            session: RwLock::new(Arc::new(Session {
                bearer,
                team_token,
                generation: 0,
            })),
            signing_in: Mutex::new(()),
        })
    }

    /// Steps 1 and 2 only: the databases this user reaches (for `export databases`).
    pub async fn databases(http: &reqwest::Client, s: &Settings) -> Result<Vec<Database>> {
        let (_, dbs) = Self::bearer_and_databases(http, s).await?;
        Ok(dbs
            .into_iter()
            .map(|(id, name)| Database { id, name })
            .collect())
    }

    async fn bearer_and_databases(
        http: &reqwest::Client,
        s: &Settings,
    ) -> Result<(Secret, Vec<(String, String)>)> {
        let basic = base64::engine::general_purpose::STANDARD.encode(format!(
            "{}:{}",
            s.user,
            s.password.expose()
        ));
        let r = step(s, || {
            http.get(join(&s.base_url, &s.paths.token))
                .header(reqwest::header::AUTHORIZATION, format!("Basic {basic}"))
        })
        .await?;
        if !r.is_success() {
            return Err(refused(s, "sign-in (step 1)", &r));
        }
        let names: Vec<&str> = s.fields.token.iter().map(String::as_str).collect();
        let (bearer, _) = parse::bearer(&r.json(), &names).ok_or_else(|| {
            Error::usage(format!(
                "the sign-in answer has no token field ({}): set [fields] token in the profile",
                names.join(", ")
            ))
        })?;
        let bearer = Secret::new(bearer);

        let r = step(s, || {
            http.get(join(&s.base_url, &s.paths.databases))
                .bearer_auth(bearer.expose())
        })
        .await?;
        if !r.is_success() {
            return Err(refused(s, "listing databases (step 2)", &r));
        }
        let ids: Vec<&str> = s.fields.db_id.iter().map(String::as_str).collect();
        Ok((bearer, parse::databases(&r.json(), &ids)))
    }

    async fn sign_in(http: &reqwest::Client, s: &Settings) -> Result<(Secret, Database, Secret)> {
        let (bearer, dbs) = Self::bearer_and_databases(http, s).await?;
        let listing = || {
            dbs.iter()
                .map(|(id, name)| format!("{id} \"{name}\""))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let database = match &s.database {
            Some(wanted) => dbs
                .iter()
                .find(|(id, _)| id == wanted)
                .or_else(|| dbs.iter().find(|(_, name)| name.eq_ignore_ascii_case(wanted)))
                .cloned()
                .ok_or_else(|| {
                    Error::usage(format!(
                        "user '{}' has no database '{wanted}'; the databases are: {}; set SHEETLOAD_DATABASE to one of them (id or name)",
                        s.user,
                        listing()
                    ))
                })?,
            None if dbs.len() == 1 => dbs[0].clone(),
            None if dbs.is_empty() => {
                return Err(Error::usage(format!(
                    "user '{}' reaches no database (the list is empty); ask the account owner for access",
                    s.user
                )));
            }
            None => {
                return Err(Error::usage(format!(
                    "user '{}' reaches {} databases: {}; choose one with SHEETLOAD_DATABASE (id or name)",
                    s.user,
                    dbs.len(),
                    listing()
                )));
            }
        };
        let database = Database {
            id: database.0,
            name: database.1,
        };

        let r = step(s, || {
            http.get(join(&s.base_url, &s.paths.team_token))
                .bearer_auth(bearer.expose())
                .query(&[(s.fields.db_param.as_str(), database.id.as_str())])
        })
        .await?;
        if !r.is_success() {
            return Err(refused(s, "getting the team token (step 3)", &r));
        }
        let names: Vec<&str> = s.fields.team_token.iter().map(String::as_str).collect();
        let team = parse::team_token(&r.json(), &names).ok_or_else(|| {
            Error::usage(format!(
                "the team-token answer has no token field ({}): set [fields] team_token in the profile",
                names.join(", ")
            ))
        })?;
        Ok((bearer, database, Secret::new(team)))
    }

    /// The database this client writes to.
    pub fn database(&self) -> &Database {
        &self.database
    }

    /// The team the team token names: where the API files a visit without a team.
    pub fn team_id(&self) -> Option<&str> {
        self.team_id.as_deref()
    }

    /// Paths in use.
    pub fn paths(&self) -> &Paths {
        &self.settings.paths
    }

    /// Field names in use.
    pub fn fields(&self) -> &Fields {
        &self.settings.fields
    }

    /// The base URL (for the ledger and summaries; it holds no credentials).
    pub fn base_url(&self) -> &str {
        self.settings.base_url.as_str()
    }

    /// Sign in again after a 401, once for everybody: a request that saw generation `g`
    /// fail waits for the lock, and finds the work done if someone else refreshed.
    async fn refresh(&self, seen: u64) -> Result<()> {
        let _guard = self.signing_in.lock().await;
        if self.session.read().await.generation != seen {
            return Ok(());
        }
        tracing::info!("the bearer was refused (HTTP 401): signing in again");
        let (bearer, _, team_token) = Self::sign_in(&self.http, &self.settings).await?;
        *self.session.write().await = Arc::new(Session {
            bearer,
            team_token,
            generation: seen + 1,
        });
        Ok(())
    }

    /// One authenticated request (bearer + `team_token`); a 401 triggers the shared
    /// re-sign-in and one more try. Whether to retry anything else is the caller's call.
    pub async fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        query: &[(String, String)],
        body: super::Body<'_>,
    ) -> Result<Reply, SendError> {
        let url = join(&self.settings.base_url, path);
        let mut signed_in_again = false;
        loop {
            let session = self.session.read().await.clone();
            let mut req = self
                .http
                .request(method.clone(), &url)
                .bearer_auth(session.bearer.expose())
                .query(&[("team_token", session.team_token.expose())])
                .query(query);
            req = match body {
                super::Body::None => req,
                super::Body::Json(b) => req.json(b),
                super::Body::Form(f) => req.form(f),
            };
            let r = super::log::send(req).await?;
            if r.status == 401 && !signed_in_again {
                signed_in_again = true;
                match self.refresh(session.generation).await {
                    Ok(()) => continue,
                    // The 401'd request was not applied: report it as not sent, so
                    // that the caller retries it like any refused connection.
                    Err(e) => {
                        return Err(SendError::NotSent(format!(
                            "the bearer expired and signing in again failed ({e})"
                        )));
                    }
                }
            }
            return Ok(r);
        }
    }
}

impl super::Transport for SalesMania {
    fn send<'a>(
        &'a self,
        method: reqwest::Method,
        path: &'a str,
        query: &'a [(String, String)],
        body: super::Body<'a>,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<Reply, SendError>> + Send + 'a>>
    {
        Box::pin(self.request(method, path, query, body))
    }

    fn fields(&self) -> &Fields {
        &self.settings.fields
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_seconds_and_dates() {
        let mut h = reqwest::header::HeaderMap::new();
        h.insert(reqwest::header::RETRY_AFTER, "2".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(2)));
        let later = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(30));
        h.insert(reqwest::header::RETRY_AFTER, later.parse().unwrap());
        let d = retry_after(&h).unwrap();
        assert!(
            d > Duration::from_secs(25) && d <= Duration::from_secs(31),
            "{d:?}"
        );
        h.insert(
            reqwest::header::RETRY_AFTER,
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&h), Some(Duration::ZERO));
        // The obsolete forms a client must still accept: RFC 850 and asctime.
        for old in ["Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994"] {
            h.insert(reqwest::header::RETRY_AFTER, old.parse().unwrap());
            assert_eq!(retry_after(&h), Some(Duration::ZERO), "{old}");
        }
        h.insert(reqwest::header::RETRY_AFTER, "99999999".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(2 * 24 * 3600)));
        h.insert(reqwest::header::RETRY_AFTER, "soon".parse().unwrap());
        assert_eq!(retry_after(&h), None);
    }

    #[test]
    fn quota_reset_only_when_the_quota_is_used_up() {
        let mut h = reqwest::header::HeaderMap::new();
        h.insert("x-ratelimit-remaining", "3".parse().unwrap());
        h.insert("x-ratelimit-reset", "7".parse().unwrap());
        assert_eq!(quota_reset(&h), None);
        h.insert("x-ratelimit-remaining", "0".parse().unwrap());
        assert_eq!(quota_reset(&h), Some(Duration::from_secs(7)));
        let epoch = chrono::Utc::now().timestamp() + 20;
        h.insert("x-ratelimit-reset", epoch.to_string().parse().unwrap());
        let d = quota_reset(&h).unwrap();
        assert!(
            d > Duration::from_secs(17) && d <= Duration::from_secs(21),
            "{d:?}"
        );
        let mut draft = reqwest::header::HeaderMap::new();
        draft.insert("ratelimit-remaining", "0".parse().unwrap());
        draft.insert("ratelimit-reset", "2".parse().unwrap());
        assert_eq!(quota_reset(&draft), Some(Duration::from_secs(2)));
        draft.remove("ratelimit-reset");
        assert_eq!(quota_reset(&draft), None);
    }
}
