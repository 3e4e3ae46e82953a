//! A local, faithful fake of the target APIs, with fault injection.
//!
//! Every networked feature of sheetload (concurrent import with retries,
//! resume, export) is tested against this server, and users rehearse an import
//! on it before touching a live account. It therefore has to behave like the
//! real API where the contract says so (`shared/api/salesmania.md`,
//! `trackfinity.md`, `fatura-entegrator.md`), fail the way real servers fail
//! when asked to, and report what it saw so that tests can assert on the server
//! side too.
//!
//! Layout: [`SandboxOptions`] says what to run and [`TargetOptions`] how the
//! targets besides SalesMania are set up; [`Sandbox::start`] (or
//! [`Sandbox::start_with`]) runs it on the current tokio runtime,
//! [`spawn_in_thread`] on a thread of its own (for synchronous tests that drive
//! the `sheetload` binary), [`serve_forever`] until Ctrl-C (the `sheetload
//! sandbox` command). Each target is a module exposing
//! `router(&shared) -> axum::Router` whose routes are registered through
//! `faults::api_route`, so all targets share the fault layer, the statistics,
//! and the state file (one JSON document with one key per target). All three
//! targets live on the same server; their paths do not collide:
//!
//! - SalesMania: `/extapi/v1.0/…`, `/extapi/v1.1/visits` (module `salesmania`);
//! - Trackfinity: `PATCH /api/customer/{set_customer_details,lock,unlock,forget}`,
//!   `GET /api/service/ping` (module `trackfinity`);
//! - Fatura Entegratör: `/api/customers`, `/api/customers/{id}` (module `fatura`).
//!
//! Control endpoints (no auth, no faults, not counted): `GET /_sandbox/stats`,
//! `POST /_sandbox/reset` (reseed every target from the options, zero the
//! counters), `GET /_sandbox/health`, `POST /_sandbox/quota` (`{"reset_in": SECS}`
//! moves the daily quota's reset; 0 resets it now), `POST /_sandbox/writes`
//! (`{"hold": N}` holds the next N data writes until `{"hold": 0}`), `GET /_sandbox/arrivals` (each
//! route's request arrivals, ms since start), and the test hook
//! `GET /_sandbox/trackfinity/customers/{id}` (Trackfinity has no read call).
//!
//! The stats document:
//!
//! ```text
//! {
//!   "requests": {"POST /extapi/v1.0/customers": {"201": 10, "503": 2, "dropped": 1, "cancelled": 1}},
//!   "records": {"customers": 12, "products": 0, "visits": 0, "orders": 0, "teams": 6},
//!   "duplicate_keys": {"ext_cust_no": {"C000123": 2}, "ext_product_code": {}, "ext_order_no": {}},
//!   "databases": {"1": {"name": "Demo", "records": {..}, "duplicate_keys": {..}}, "2": {..}},
//!   "in_flight": 0,
//!   "peak_concurrent": 64,
//!   "faults": {"fail": 2, "rate_limited": 0, "token_expired": 0, "dropped_after_commit": 1, "stalled": 0},
//!   "state": {"path": "..", "saves": 3, "last_save_ms": 4, "dirty": false, "last_error": null} | null,
//!   "trackfinity": {"records": {"customers": 20, "locked": 1}},
//!   "fatura": {"records": {"customers": 3}, "duplicate_keys": {"tax_number": {"11111111111": 2}}}
//! }
//! ```
//!
//! `requests` is keyed by method and route template (unknown paths are
//! `"GET (unmatched)"`); besides HTTP statuses an outcome can be `dropped` (applied,
//! then the connection was reset) or `cancelled` (the client went away first).
//! `records` is summed over databases, `databases` breaks it down. A natural
//! key is a duplicate when several records of the same database hold it;
//! `duplicate_keys` adds up the holders over databases. `records`,
//! `duplicate_keys` and `databases` are SalesMania's; the other targets report
//! under their own key (`trackfinity`, `fatura`) so that the SalesMania part
//! keeps its shape. Fatura refuses a duplicate `tax_number` except the
//! anonymous-consumer placeholder, which is what its `duplicate_keys` shows.

#![warn(missing_docs)]

mod allowance;
mod conn;
mod fatura;
mod faults;
mod gate;
mod options;
mod reply;
mod salesmania;
mod stats;
mod store;
mod timer;
mod token;
mod trackfinity;
mod validate;

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

pub use faults::STALL;
pub use options::{SandboxOptions, TargetOptions};

use conn::{ConnMeta, SandboxListener};
use reply::ApiError;
use stats::{Outcome, Stats};
use store::StateFile;

/// Why the sandbox could not start or keep its state. Messages are lower case and
/// read well after "failed to start the sandbox: ".
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// An option value makes no sense; nothing was bound or written.
    #[error("invalid option {option}: {reason}")]
    InvalidOption {
        /// The option's field name in [`SandboxOptions`].
        option: &'static str,
        /// What is wrong with its value.
        reason: String,
    },
    /// The address is taken or not ours to bind.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The OS error.
        source: io::Error,
    },
    /// The state file exists but cannot be read.
    #[error("cannot read the state file {path}: {source}")]
    StateRead {
        /// The state file.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// The state file is not one of ours, or is damaged; it is left untouched.
    #[error("the state file {path} is not a usable sandbox state: {reason}")]
    StateFormat {
        /// The state file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// Saving the store failed; the previous file content is intact.
    #[error("cannot write the state file {path}: {source}")]
    StateWrite {
        /// The state file.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// The runtime or thread of [`spawn_in_thread`] could not be created, or
    /// the thread died before reporting.
    #[error("cannot run the sandbox thread: {0}")]
    Thread(io::Error),
    /// No signal handler could be installed for [`serve_forever`].
    #[error("cannot wait for Ctrl-C: {0}")]
    Signal(io::Error),
}

/// Locks a mutex, ignoring poisoning: every critical section in the sandbox
/// leaves its data consistent, and one panicking request must not take every
/// later request down with it.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Everything the routes share. One field per target store; adding a target
/// means adding its field here, its router in `app`, and its key in
/// `snapshot`/`load_state`.
pub(crate) struct Shared {
    pub(crate) opts: SandboxOptions,
    pub(crate) targets: TargetOptions,
    pub(crate) stats: Stats,
    pub(crate) faults: faults::Faults,
    pub(crate) allowance: allowance::Allowance,
    pub(crate) auth: token::Auth,
    pub(crate) salesmania: Mutex<salesmania::SmState>,
    pub(crate) trackfinity: Mutex<trackfinity::TfState>,
    pub(crate) fatura: Mutex<fatura::FaState>,
    state: Option<StateFile>,
    stop: watch::Receiver<bool>,
}

impl Shared {
    /// Resolves once shutdown has begun (or the handle was dropped).
    pub(crate) async fn stopping(&self) {
        let mut stop = self.stop.clone();
        let _ = stop.wait_for(|stop| *stop).await;
    }

    /// Schedules a save of the state file, if there is one.
    pub(crate) fn state_changed(&self) {
        if let Some(state) = &self.state {
            state.mark_dirty();
        }
    }

    /// Saves the store if it changed since the last save.
    async fn save_if_dirty(self: &Arc<Self>) -> Result<(), SandboxError> {
        let Some(state) = &self.state else {
            return Ok(());
        };
        if !state.take_dirty() {
            return Ok(());
        }
        let path = state.path().to_owned();
        let this = self.clone();
        let started = Instant::now();
        let result = tokio::task::spawn_blocking(move || {
            // Cloned under the lock, encoded outside it: requests wait for a
            // copy of the store, not for JSON encoding and disk writes.
            let salesmania = lock(&this.salesmania).clone();
            let trackfinity = lock(&this.trackfinity).clone();
            let fatura = lock(&this.fatura).clone();
            let doc = store::StateDoc {
                format: store::FORMAT.to_owned(),
                version: store::VERSION,
                salesmania: &salesmania,
                trackfinity: Some(&trackfinity),
                fatura: Some(&fatura),
            };
            store::write_atomic(&path, |out| {
                serde_json::to_writer(out, &doc).map_err(io::Error::other)
            })
        })
        .await
        .unwrap_or_else(|e| {
            Err(SandboxError::StateWrite {
                path: state.path().to_owned(),
                source: io::Error::other(e),
            })
        });
        state.saved(&result, started.elapsed());
        result
    }

    /// The `/_sandbox/stats` document.
    pub(crate) fn stats_json(&self) -> Value {
        let mut out = self.stats.to_json();
        let (records, duplicates, databases) = lock(&self.salesmania).stats();
        out.insert("records".into(), records);
        out.insert("duplicate_keys".into(), duplicates);
        out.insert("databases".into(), databases);
        out.insert(
            "state".into(),
            self.state.as_ref().map_or(Value::Null, StateFile::to_json),
        );
        out.insert("trackfinity".into(), lock(&self.trackfinity).stats());
        out.insert("fatura".into(), lock(&self.fatura).stats());
        Value::Object(out)
    }
}

/// Every target's store.
struct Stores {
    salesmania: salesmania::SmState,
    trackfinity: trackfinity::TfState,
    fatura: fatura::FaState,
}

impl Stores {
    /// Fresh stores seeded from the options.
    fn seed(opts: &SandboxOptions, targets: &TargetOptions) -> Self {
        Stores {
            salesmania: salesmania::seed(opts),
            trackfinity: trackfinity::seed(opts.seed, targets.trackfinity_customers),
            fatura: fatura::seed(opts.seed, targets.fatura_customers),
        }
    }
}

/// Builds the stores: from the state file when there is one, else seeded. A
/// target missing from the file (written before it existed) is seeded. The
/// flag says whether everything came from the file.
fn load_state(
    opts: &SandboxOptions,
    targets: &TargetOptions,
) -> Result<(Stores, bool), SandboxError> {
    if let Some(path) = &opts.state
        && let Some(doc) =
            store::load::<salesmania::SmState, trackfinity::TfState, fatura::FaState>(path)?
    {
        let complete = doc.trackfinity.is_some() && doc.fatura.is_some();
        let stores = Stores {
            salesmania: doc.salesmania,
            trackfinity: doc
                .trackfinity
                .unwrap_or_else(|| trackfinity::seed(opts.seed, targets.trackfinity_customers)),
            fatura: doc
                .fatura
                .unwrap_or_else(|| fatura::seed(opts.seed, targets.fatura_customers)),
        };
        return Ok((stores, complete));
    }
    Ok((Stores::seed(opts, targets), false))
}

/// Namespace of the in-process entry point.
///
/// A value of this type is never needed; it exists so that call sites read
/// `Sandbox::start(opts)`.
#[derive(Debug)]
pub struct Sandbox;

impl Sandbox {
    /// Binds, spawns the server on the current tokio runtime and returns at once,
    /// so a test can start a sandbox per test on an ephemeral port. The other
    /// targets get [`TargetOptions::default()`].
    pub async fn start(opts: SandboxOptions) -> Result<SandboxHandle, SandboxError> {
        Self::start_with(opts, TargetOptions::default()).await
    }

    /// [`start`](Self::start), with the Trackfinity and Fatura Entegratör
    /// credentials and seed sizes given.
    pub async fn start_with(
        opts: SandboxOptions,
        targets: TargetOptions,
    ) -> Result<SandboxHandle, SandboxError> {
        opts.validate()?;
        targets.validate()?;
        let (stores, loaded) = load_state(&opts, &targets)?;
        let addr = SocketAddr::new(opts.bind, opts.port);
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| SandboxError::Bind { addr, source })?;
        let local = listener
            .local_addr()
            .map_err(|source| SandboxError::Bind { addr, source })?;

        let (stop_tx, stop_rx) = watch::channel(false);
        let (hard_tx, hard_rx) = watch::channel(false);
        let shared = Arc::new(Shared {
            stats: Stats::default(),
            faults: faults::Faults::new(opts.seed),
            allowance: allowance::Allowance::new(&opts),
            auth: token::Auth::new(opts.seed, opts.token_ttl.map(Duration::from_secs)),
            salesmania: Mutex::new(stores.salesmania),
            trackfinity: Mutex::new(stores.trackfinity),
            fatura: Mutex::new(stores.fatura),
            state: opts.state.clone().map(StateFile::new),
            stop: stop_rx,
            opts,
            targets,
        });
        if !loaded {
            // A fresh store is written out at once, so a restart finds it.
            shared.state_changed();
        }

        let app = app(&shared);
        let serve = axum::serve(
            SandboxListener::new(listener, hard_rx),
            app.into_make_service_with_connect_info::<ConnMeta>(),
        )
        .with_graceful_shutdown({
            let shared = shared.clone();
            async move { shared.stopping().await }
        });
        let server = tokio::spawn(async move {
            let _ = serve.await;
        });
        let flusher = tokio::spawn(flush_loop(shared.clone()));

        Ok(SandboxHandle {
            addr: local,
            shared,
            stop: stop_tx,
            hard_stop: hard_tx,
            server,
            flusher,
        })
    }
}

/// All routes: every target, plus the control endpoints.
fn app(shared: &Arc<Shared>) -> Router {
    Router::new()
        .merge(salesmania::router(shared))
        .merge(trackfinity::router(shared))
        .merge(fatura::router(shared))
        .route("/_sandbox/stats", get(control_stats))
        .route("/_sandbox/reset", post(control_reset))
        .route("/_sandbox/quota", post(control_quota))
        .route("/_sandbox/writes", post(control_writes))
        .route(
            "/_sandbox/arrivals",
            get(|State(shared): State<Arc<Shared>>| async move {
                reply::json(StatusCode::OK, shared.stats.arrivals_json())
            }),
        )
        .route(
            "/_sandbox/health",
            get(|| async { axum::Json(json!({"ok": true})) }),
        )
        .fallback(unknown_route)
        .with_state(shared.clone())
}

async fn control_stats(State(shared): State<Arc<Shared>>) -> Response {
    reply::json(StatusCode::OK, shared.stats_json())
}

async fn control_reset(State(shared): State<Arc<Shared>>) -> Response {
    let fresh = Stores::seed(&shared.opts, &shared.targets);
    *lock(&shared.salesmania) = fresh.salesmania;
    *lock(&shared.trackfinity) = fresh.trackfinity;
    *lock(&shared.fatura) = fresh.fatura;
    shared.stats.reset();
    shared.state_changed();
    reply::json(StatusCode::OK, json!({}))
}

async fn control_quota(State(shared): State<Arc<Shared>>, body: axum::body::Bytes) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    allowance::control(&shared, &body)
}

/// `{"hold": N}` catches the next N data writes and holds them, `{"hold": 0}` lets
/// them through; answers how many wait.
async fn control_writes(State(shared): State<Arc<Shared>>, body: axum::body::Bytes) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let Some(hold) = body["hold"].as_u64() else {
        return ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "send {\"hold\": N} (the next N writes) or {\"hold\": 0} (release)",
        )
        .into_response();
    };
    shared
        .faults
        .gate
        .hold(usize::try_from(hold).unwrap_or(usize::MAX));
    reply::json(
        StatusCode::OK,
        json!({"held": hold, "waiting": shared.faults.gate.waiting()}),
    )
}

/// Unknown paths (a client using `/extapi/v1.0/visits` instead of v1.1, say)
/// get a JSON 404 and are counted, so a test can see the mistake in the stats.
async fn unknown_route(State(shared): State<Arc<Shared>>, method: Method) -> Response {
    shared
        .stats
        .record(method, "(unmatched)", Outcome::Status(404));
    ApiError::not_found("Not found.").into_response()
}

/// Saves dirty state at most every [`store::FLUSH_DELAY`], and once more at
/// shutdown.
async fn flush_loop(shared: Arc<Shared>) -> Result<(), SandboxError> {
    let Some(state) = &shared.state else {
        return Ok(());
    };
    let mut delay = store::FLUSH_DELAY;
    loop {
        tokio::select! {
            () = state.changed() => {}
            () = shared.stopping() => break,
        }
        let stopping = tokio::select! {
            () = tokio::time::sleep(delay) => false,
            () = shared.stopping() => true,
        };
        // A failed save is recorded in the stats and retried on the next change
        // or at shutdown; the server keeps answering meanwhile.
        let started = Instant::now();
        let _ = shared.save_if_dirty().await;
        // A big store takes a while to save: space the saves out so that saving
        // never takes more than about a fifth of the time.
        delay = store::FLUSH_DELAY.max(started.elapsed() * 4);
        if stopping {
            break;
        }
    }
    shared.save_if_dirty().await
}

/// How long shutdown waits for in-flight requests before cutting connections.
const GRACE: Duration = Duration::from_secs(2);

/// A running sandbox. Dropping it stops the server too (without waiting); call
/// [`shutdown`](Self::shutdown) to wait until it is down and its state saved.
#[must_use = "dropping the handle stops the sandbox"]
#[derive(Debug)]
pub struct SandboxHandle {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    hard_stop: watch::Sender<bool>,
    server: JoinHandle<()>,
    flusher: JoinHandle<Result<(), SandboxError>>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared").finish_non_exhaustive()
    }
}

impl SandboxHandle {
    /// The URL to give a client (`http://127.0.0.1:PORT`); a wildcard bind is
    /// reported as loopback, since that is where a local client reaches it.
    pub fn base_url(&self) -> String {
        base_url(self.addr)
    }

    /// The bound address, with the port the OS chose for port 0.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The same document as `GET /_sandbox/stats`, read directly.
    pub fn stats(&self) -> Value {
        self.shared.stats_json()
    }

    /// Stops accepting, lets in-flight requests finish (stalled ones are released
    /// at once), cuts what is still open after a short grace period, and writes
    /// the state file a last time.
    pub async fn shutdown(self) {
        let _ = self.shutdown_checked().await;
    }

    /// [`shutdown`](Self::shutdown), reporting a failed final save of the state.
    pub async fn shutdown_checked(self) -> Result<(), SandboxError> {
        let SandboxHandle {
            stop,
            hard_stop,
            mut server,
            flusher,
            shared,
            ..
        } = self;
        let _ = stop.send(true);
        if tokio::time::timeout(GRACE, &mut server).await.is_err() {
            let _ = hard_stop.send(true);
            if tokio::time::timeout(GRACE, &mut server).await.is_err() {
                server.abort();
                let _ = server.await;
            }
        }
        let flushed = flusher.await.unwrap_or(Ok(()));
        // Requests still in flight when the flusher stopped may have committed records
        // (and answered 201) since its last save: save once more, now that the server
        // is down, so that a restarted sandbox never forgets an acknowledged create.
        flushed.and(shared.save_if_dirty().await)
    }
}

fn base_url(addr: SocketAddr) -> String {
    let shown = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => {
            SocketAddr::new(Ipv4Addr::LOCALHOST.into(), addr.port())
        }
        IpAddr::V6(ip) if ip.is_unspecified() => {
            SocketAddr::new(Ipv6Addr::LOCALHOST.into(), addr.port())
        }
        _ => addr,
    };
    format!("http://{shown}")
}

/// Runs a sandbox until Ctrl-C (or SIGTERM), then shuts it down and saves its
/// state: the body of `sheetload sandbox`. `ready` is called once it listens,
/// to print the URL and credentials.
pub async fn serve_forever(
    opts: SandboxOptions,
    ready: impl FnOnce(&SandboxHandle),
) -> Result<(), SandboxError> {
    serve_forever_with(opts, TargetOptions::default(), ready).await
}

/// [`serve_forever`], with the Trackfinity and Fatura Entegratör options given.
pub async fn serve_forever_with(
    opts: SandboxOptions,
    targets: TargetOptions,
    ready: impl FnOnce(&SandboxHandle),
) -> Result<(), SandboxError> {
    let handle = Sandbox::start_with(opts, targets).await?;
    // Listen before saying "ready": a Ctrl-C right after the line must stop the
    // sandbox cleanly, not kill it with the default signal action.
    let signals = Signals::listen()?;
    ready(&handle);
    let signal = signals.wait().await;
    let saved = handle.shutdown_checked().await;
    signal.and(saved)
}

/// Ctrl-C and SIGTERM, registered as soon as this is built.
struct Signals {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl Signals {
    fn listen() -> Result<Self, SandboxError> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Signals {
                interrupt: signal(SignalKind::interrupt()).map_err(SandboxError::Signal)?,
                terminate: signal(SignalKind::terminate()).map_err(SandboxError::Signal)?,
            })
        }
        #[cfg(not(unix))]
        {
            Ok(Signals {})
        }
    }

    async fn wait(mut self) -> Result<(), SandboxError> {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.interrupt.recv() => Ok(()),
                _ = self.terminate.recv() => Ok(()),
            }
        }
        #[cfg(not(unix))]
        {
            let _ = &mut self;
            tokio::signal::ctrl_c().await.map_err(SandboxError::Signal)
        }
    }
}

/// Starts a sandbox on a thread of its own, with its own tokio runtime: for
/// synchronous tests that run the `sheetload` binary against it as a
/// subprocess. Returns once the server listens.
pub fn spawn_in_thread(opts: SandboxOptions) -> Result<ThreadSandbox, SandboxError> {
    spawn_in_thread_with(opts, TargetOptions::default())
}

/// [`spawn_in_thread`], with the Trackfinity and Fatura Entegratör options given.
pub fn spawn_in_thread_with(
    opts: SandboxOptions,
    targets: TargetOptions,
) -> Result<ThreadSandbox, SandboxError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("sheetload-sandbox")
        .enable_all()
        .build()
        .map_err(SandboxError::Thread)?;
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("sheetload-sandbox".to_owned())
        .spawn(move || {
            runtime.block_on(async move {
                match Sandbox::start_with(opts, targets).await {
                    Ok(handle) => {
                        let _ = ready_tx.send(Ok((handle.addr, handle.shared.clone())));
                        // A dropped ThreadSandbox also ends the wait.
                        let _ = stop_rx.await;
                        handle.shutdown().await;
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                    }
                }
            });
        })
        .map_err(SandboxError::Thread)?;
    match ready_rx.recv() {
        Ok(Ok((addr, shared))) => Ok(ThreadSandbox {
            addr,
            shared,
            stop: Some(stop_tx),
            thread: Some(thread),
        }),
        Ok(Err(e)) => {
            let _ = thread.join();
            Err(e)
        }
        Err(_) => {
            let _ = thread.join();
            Err(SandboxError::Thread(io::Error::other(
                "the sandbox thread ended before it was ready",
            )))
        }
    }
}

/// A sandbox running on its own thread; see [`spawn_in_thread`]. Dropping it
/// shuts the server down and waits for the thread.
#[derive(Debug)]
pub struct ThreadSandbox {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ThreadSandbox {
    /// The URL to give the client under test (`http://127.0.0.1:PORT`).
    pub fn base_url(&self) -> String {
        base_url(self.addr)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The `GET /_sandbox/stats` document, read directly (no HTTP client needed
    /// in a synchronous test).
    pub fn stats(&self) -> Value {
        self.shared.stats_json()
    }

    /// Each route's request arrivals (`GET /_sandbox/arrivals`), ms since start.
    pub fn arrivals(&self) -> Value {
        self.shared.stats.arrivals_json()
    }

    /// Move the daily quota's reset to `reset_in` from now (zero: reset it now), as
    /// `POST /_sandbox/quota` does.
    pub fn move_quota_reset(&self, reset_in: Duration) {
        self.shared.allowance.move_reset(reset_in);
    }

    /// Catch the next `n` data writes and hold them until `hold_writes(0)`, as
    /// `POST /_sandbox/writes {"hold": n}` does: a test makes "a run is sending" last
    /// exactly as long as it needs, while later writes (another run's) pass.
    pub fn hold_writes(&self, n: usize) {
        self.shared.faults.gate.hold(n);
    }

    /// How many data writes wait at the held gate.
    pub fn writes_waiting(&self) -> usize {
        self.shared.faults.gate.waiting()
    }

    /// Stops the server, saves its state and joins the thread.
    pub fn shutdown(mut self) {
        self.stop_and_join();
    }

    fn stop_and_join(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for ThreadSandbox {
    fn drop(&mut self) {
        self.stop_and_join();
    }
}
