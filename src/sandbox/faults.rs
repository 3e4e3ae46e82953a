//! The fault and statistics layer every API route of every target goes through.
//!
//! Routes are registered with [`api_route`], which wraps the route's handlers in
//! one middleware knowing the route's template and class. (Without axum's
//! `matched-path` feature a router-wide layer cannot tell which template a
//! request matched, and the per-route wrapper also says which faults apply.)
//!
//! Order, for one request: count it in flight → rate limit, then the allowance's
//! quota, token bucket and per-minute window (every API route, since the limits are
//! server-wide; see `allowance`) → burst 429s (data routes) → the write gate (data
//! writes, while a test holds them; see `gate`) → latency (every API route) → random failure
//! (data routes) → the handler → drop-after-commit (successful POSTs on data
//! routes) or stall (data routes), a create's answer emptied to `200 {}` under
//! `empty_create_answer` → count the outcome. Sign-in routes are spared
//! the random faults so a test can always sign in, but are subject to the rate
//! limit like any other request.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::MethodRouter;

use super::allowance::Allowance;
use super::conn::ConnMeta;
use super::reply::{self, ApiError};
use super::stats::{Fault, Outcome};
use super::{Shared, lock};

/// How long a stalled answer is held back: far beyond any sane client timeout.
pub const STALL: Duration = Duration::from_secs(300);

/// Which faults a route is exposed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RouteClass {
    /// Sign-in steps: rate limit and latency only.
    SignIn,
    /// Data calls: every fault; drop-after-commit for POST only.
    Data,
}

/// Wraps a route's handlers in the fault/stats middleware.
pub(crate) fn api_route(
    shared: &Arc<Shared>,
    template: &'static str,
    class: RouteClass,
    handlers: MethodRouter<Arc<Shared>>,
) -> MethodRouter<Arc<Shared>> {
    let ctx = RouteCtx {
        shared: shared.clone(),
        template,
        class,
    };
    handlers.layer(middleware::from_fn_with_state(ctx, track))
}

#[derive(Clone)]
struct RouteCtx {
    shared: Arc<Shared>,
    template: &'static str,
    class: RouteClass,
}

/// Fault state shared by all routes.
pub(crate) struct Faults {
    rng: Mutex<fastrand::Rng>,
    /// Burst 429s draw from their own generator, so that switching them on leaves the
    /// other faults' sequence of decisions as it was.
    burst_rng: Mutex<fastrand::Rng>,
    /// (second since start, requests admitted in it) for the rate limit.
    window: Mutex<(u64, u32)>,
    started: Instant,
    /// Holds data writes while a test asks it to.
    pub(crate) gate: super::gate::WriteGate,
}

/// The random draws for one request, taken together under one lock so that a
/// given seed yields the same sequence of decisions.
struct Draws {
    latency: Duration,
    fail: Option<StatusCode>,
    drop: bool,
    stall: bool,
}

impl Faults {
    pub(crate) fn new(seed: u64) -> Self {
        Faults {
            rng: Mutex::new(fastrand::Rng::with_seed(super::token::splitmix(
                seed ^ 0x6661_756c_7473,
            ))),
            burst_rng: Mutex::new(fastrand::Rng::with_seed(super::token::splitmix(
                seed ^ 0x6275_7273_7434,
            ))),
            window: Mutex::new((0, 0)),
            started: Instant::now(),
            gate: super::gate::WriteGate::default(),
        }
    }

    /// Fixed one-second windows: at most `limit` requests are admitted per window.
    fn admit(&self, limit: u32) -> bool {
        let second = self.started.elapsed().as_secs();
        let mut window = lock(&self.window);
        if window.0 != second {
            *window = (second, 0);
        }
        if window.1 < limit {
            window.1 += 1;
            true
        } else {
            false
        }
    }
}

async fn track(State(ctx): State<RouteCtx>, request: Request, next: Next) -> Response {
    let _in_flight = ctx.shared.stats.enter();
    let mut record = Record {
        ctx: &ctx,
        method: Some(request.method().clone()),
        outcome: Outcome::Cancelled,
    };
    let (response, outcome) = run(&ctx, request, next).await;
    record.outcome = outcome;
    response
}

/// Records a request's outcome when it ends, including when hyper drops it
/// because the client went away (then the outcome stays `Cancelled`).
struct Record<'a> {
    ctx: &'a RouteCtx,
    method: Option<Method>,
    outcome: Outcome,
}

impl Drop for Record<'_> {
    fn drop(&mut self) {
        if let Some(method) = self.method.take() {
            self.ctx
                .shared
                .stats
                .record(method, self.ctx.template, self.outcome);
        }
    }
}

async fn run(ctx: &RouteCtx, request: Request, next: Next) -> (Response, Outcome) {
    let shared = &ctx.shared;
    let opts = &shared.opts;
    let ms = shared.faults.started.elapsed().as_millis() as u64;
    shared.stats.arrived(ms, request.method(), ctx.template);

    if let Some(limit) = opts.rate_limit
        && !shared.faults.admit(limit)
    {
        shared.stats.fault(Fault::RateLimited);
        let answer =
            ApiError::new(StatusCode::TOO_MANY_REQUESTS, "Too Many Attempts.").with_retry_after(1);
        return (answer.into_response(), Outcome::Status(429));
    }

    let data = ctx.class == RouteClass::Data;
    let refused = shared.allowance.admit(opts).err().or_else(|| {
        let draw = data && opts.burst_429 > 0.0;
        draw.then(|| Allowance::burst(opts, lock(&shared.faults.burst_rng).f64()))
            .flatten()
    });
    if let Some(refusal) = refused {
        shared.stats.fault(refusal.fault());
        return (refusal.into_response(), Outcome::Status(429));
    }
    let is_post = request.method() == Method::POST;
    let is_write = matches!(
        *request.method(),
        Method::POST | Method::PATCH | Method::PUT | Method::DELETE
    );
    if data && is_write {
        shared.faults.gate.pass(shared.stopping()).await;
    }
    let draws = draw(ctx, data, is_post, is_write);

    if !draws.latency.is_zero() {
        tokio::select! {
            () = super::timer::sleep(draws.latency) => {}
            () = shared.stopping() => {}
        }
    }

    if let Some(status) = draws.fail {
        shared.stats.fault(Fault::Fail);
        return (failure(status), Outcome::Status(status.as_u16()));
    }

    if data && is_post && opts.late_commit_ms > 0 {
        // The gateway gives up at once; the backend commits the create later.
        shared.stats.fault(Fault::Fail);
        let late = Duration::from_millis(opts.late_commit_ms);
        tokio::spawn(async move {
            tokio::time::sleep(late).await;
            next.run(request).await
        });
        let status = StatusCode::GATEWAY_TIMEOUT;
        return (failure(status), Outcome::Status(status.as_u16()));
    }

    let conn = request.extensions().get::<ConnectInfo<ConnMeta>>().cloned();
    let response = next.run(request).await;

    if draws.drop
        && response.status().is_success()
        && let Some(ConnectInfo(conn)) = conn
    {
        shared.stats.fault(Fault::DroppedAfterCommit);
        conn.kill();
        return (response, Outcome::Dropped);
    }

    if data && is_post && opts.empty_create_answer && response.status().is_success() {
        // The documented answer of a create: no id, so the client must find it.
        return (
            reply::json(StatusCode::OK, serde_json::json!({})),
            Outcome::Status(200),
        );
    }

    if draws.stall {
        shared.stats.fault(Fault::Stalled);
        tokio::select! {
            () = tokio::time::sleep(STALL) => {}
            // Shutdown must not wait five minutes: answer at once instead.
            () = shared.stopping() => {}
        }
    }
    let mut response = response;
    shared.allowance.quota_headers(opts, response.headers_mut());
    let status = response.status().as_u16();
    (response, Outcome::Status(status))
}

fn draw(ctx: &RouteCtx, data: bool, is_post: bool, is_write: bool) -> Draws {
    let opts = &ctx.shared.opts;
    let mut draws = Draws {
        latency: Duration::ZERO,
        fail: None,
        drop: false,
        stall: false,
    };
    let wants_random = opts.latency_ms > 0
        || (data && (opts.fail_rate > 0.0 || opts.stall_rate > 0.0))
        || (data && is_write && opts.write_fail_rate > 0.0)
        || (data && is_post && opts.drop_after_commit > 0.0);
    if !wants_random {
        return draws;
    }
    let mut rng = lock(&ctx.shared.faults.rng);
    if opts.latency_ms > 0 {
        // ±20 % jitter around the configured latency.
        let factor = 0.8 + 0.4 * rng.f64();
        draws.latency = Duration::from_secs_f64(opts.latency_ms as f64 * factor / 1000.0);
    }
    if data && opts.fail_rate > 0.0 && rng.f64() < opts.fail_rate {
        const STATUSES: [StatusCode; 3] = [
            StatusCode::INTERNAL_SERVER_ERROR,
            StatusCode::BAD_GATEWAY,
            StatusCode::SERVICE_UNAVAILABLE,
        ];
        draws.fail = Some(STATUSES[rng.usize(..STATUSES.len())]);
    }
    if draws.fail.is_none()
        && data
        && is_write
        && opts.write_fail_rate > 0.0
        && rng.f64() < opts.write_fail_rate
    {
        draws.fail = Some(StatusCode::SERVICE_UNAVAILABLE);
    }
    if data && is_post && opts.drop_after_commit > 0.0 {
        draws.drop = rng.f64() < opts.drop_after_commit;
    }
    if data && opts.stall_rate > 0.0 {
        draws.stall = rng.f64() < opts.stall_rate;
    }
    draws
}

/// A server failure as a client meets it in production: the application's JSON
/// for 500 and 503, the proxy's HTML page for 502 (a client must not assume
/// every error body is JSON).
fn failure(status: StatusCode) -> Response {
    if status == StatusCode::BAD_GATEWAY {
        let page = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n\
                    <center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n\
                    </body>\r\n</html>\r\n";
        return (status, [(header::CONTENT_TYPE, "text/html")], page).into_response();
    }
    let message = if status == StatusCode::SERVICE_UNAVAILABLE {
        "Service Unavailable"
    } else {
        "Server Error"
    };
    ApiError::new(status, message).into_response()
}
