//! `sheetload ui`: the import wizard in the browser. A local axum server on loopback
//! only, one user, pages rendered on the server with a little JavaScript, every asset in
//! the binary. It adds no rule of its own: it prepares, validates, plans and sends with
//! the very engine, ledger and result writer the CLI uses (see `commands::import`), so
//! a run started here is in `sheetload runs list` and resumable from the terminal.
//!
//! Security: a random token in the printed address becomes an HttpOnly SameSite=Strict
//! cookie required on every request; Host and Origin are checked (`guard.rs`); uploads are
//! capped in size and rows and kept owner-only under `SHEETLOAD_HOME`, removed when the
//! server stops; a password or key typed in the Connect page stays in memory.

mod connect;
mod files;
mod grid;
mod guard;
mod history;
mod html;
mod job;
mod mapping;
mod retry;
mod review;
mod run;
mod session;
mod upload;

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

use crate::error::{Error, Result};
use crate::sandbox::SandboxHandle;
use crate::ui::Printer;

/// What `sheetload ui` was asked for.
#[derive(Debug, Clone)]
pub struct Options {
    /// Address to listen on: loopback only.
    pub bind: IpAddr,
    /// Port (0 picks a free one).
    pub port: u16,
    /// Open the default browser at the address.
    pub open: bool,
    /// Largest upload, in bytes.
    pub max_upload: u64,
    /// Most data rows an uploaded sheet may hold.
    pub max_rows: u64,
}

/// The server's state: the token, the names it answers to, its folders, the session.
pub struct App {
    token: String,
    port: u16,
    /// `127.0.0.1:PORT`, `localhost:PORT`: the Host headers accepted.
    hosts: Vec<String>,
    /// `http://127.0.0.1:PORT`, `http://localhost:PORT`: the Origins accepted.
    origins: Vec<String>,
    /// Uploads and downloads of this session (owner-only, removed at the end).
    dir: PathBuf,
    /// Inputs and results of runs started here (kept: the ledger and `resume` need them).
    runs_dir: PathBuf,
    /// Mappings saved from the Map page, offered again when the headers match.
    maps_dir: PathBuf,
    opts: Options,
    session: Mutex<Session>,
    /// The in-process sandbox of "Try with demo data", while it is used.
    demo: Mutex<Option<SandboxHandle>>,
}

use session::Session;

impl App {
    /// The session, even after a page panicked while holding it.
    fn session(&self) -> std::sync::MutexGuard<'_, Session> {
        self.session.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Refuse any address but loopback, with the reason and the fix.
pub fn check_bind(addr: IpAddr) -> Result<()> {
    if addr.is_loopback() {
        Ok(())
    } else {
        Err(Error::usage(format!(
            "sheetload ui listens on this machine only (127.0.0.1 or ::1), not on {addr}: it holds your credentials and files, so it is never exposed to the network; drop --bind"
        )))
    }
}

/// Create a folder only its owner can enter.
fn private_dir(path: &std::path::Path) -> Result<()> {
    std::fs::create_dir_all(path).map_err(|e| {
        Error::usage(format!(
            "cannot create {}: {}; check SHEETLOAD_HOME",
            path.display(),
            crate::input::io_reason(&e)
        ))
    })?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700));
    }
    Ok(())
}

/// Serve until Ctrl-C (or SIGTERM); the session's uploads are removed on the way out.
pub async fn serve(opts: Options, ui: &Printer) -> Result<u8> {
    check_bind(opts.bind)?;
    let listener = tokio::net::TcpListener::bind((opts.bind, opts.port))
        .await
        .map_err(|e| {
            Error::usage(format!(
                "cannot listen on {}:{}: {e}; choose another --port (0 picks a free one)",
                opts.bind, opts.port
            ))
        })?;
    let port = listener
        .local_addr()
        .map_err(|e| Error::usage(format!("cannot read the server's address: {e}")))?
        .port();
    let token = guard::new_token()
        .map_err(|e| Error::usage(format!("cannot draw a random session token: {e}")))?;
    let home = crate::ledger::default_home().join("ui");
    let dir = home.join(format!("session-{}-{}", std::process::id(), &token[..8]));
    let (runs_dir, maps_dir) = (home.join("runs"), home.join("maps"));
    for d in [&home, &dir, &runs_dir, &maps_dir] {
        private_dir(d)?;
    }
    remove_stale_sessions(&home);
    let shown = if opts.bind.is_ipv6() {
        format!("[{}]", opts.bind)
    } else {
        opts.bind.to_string()
    };
    let hosts = vec![format!("{shown}:{port}"), format!("localhost:{port}")];
    let origins = hosts.iter().map(|h| format!("http://{h}")).collect();
    let url = format!("http://{}/login?token={token}", hosts[0]);
    let app = Arc::new(App {
        token,
        port,
        hosts,
        origins,
        dir: dir.clone(),
        runs_dir,
        maps_dir,
        opts: opts.clone(),
        session: Mutex::new(Session::default()),
        demo: Mutex::new(None),
    });
    // The address is the way in: printed even with --quiet or --json.
    let loud = Printer {
        quiet: false,
        json: false,
    };
    loud.summary(&[
        format!("sheetload ui is listening on http://{shown}:{port} (this machine only)"),
        format!("open: {url}"),
        "Ctrl-C stops it; the uploaded files are removed then.".into(),
    ]);
    if opts.open {
        open_browser(&url);
    }
    let served = axum::serve(listener, router(app.clone()))
        .with_graceful_shutdown(stopped())
        .await;
    match std::fs::remove_dir_all(&dir) {
        Ok(()) => ui.note(&format!(
            "stopped; the uploads in {} are removed",
            dir.display()
        )),
        Err(e) => ui.warn(&format!(
            "stopped, but cannot remove {}: {e}; delete it by hand",
            dir.display()
        )),
    }
    if let Ok(mut demo) = app.demo.lock() {
        demo.take();
    }
    served.map_err(|e| Error::usage(format!("the ui server stopped: {e}")))?;
    Ok(crate::error::exit::OK)
}

/// Remove the upload folders of servers that were killed before they could (their
/// process is gone).
fn remove_stale_sessions(home: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(home) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let pid = name
            .strip_prefix("session-")
            .and_then(|r| r.split('-').next())
            .and_then(|p| p.parse::<u32>().ok());
        if let Some(pid) = pid
            && pid != std::process::id()
            && !crate::os::process_alive(pid)
        {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// Ctrl-C, or SIGTERM on Unix.
async fn stopped() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(t) => t,
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Open the default browser, where there is a display; a failure is not an error (the
/// address is printed).
fn open_browser(url: &str) {
    let cmd: Option<(&str, Vec<&str>)> = if cfg!(target_os = "macos") {
        Some(("open", vec![url]))
    } else if cfg!(windows) {
        Some(("cmd", vec!["/C", "start", "", url]))
    } else if std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some()
    {
        Some(("xdg-open", vec![url]))
    } else {
        None
    };
    if let Some((prog, args)) = cmd {
        let _ = std::process::Command::new(prog)
            .args(args)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn();
    }
}

fn asset(kind: &'static str, body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, kind)], body).into_response()
}

/// Every page and download; all behind `guard::check`.
fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/login", get(home))
        .route(
            "/assets/style.css",
            get(|| async { asset("text/css", include_str!("assets/style.css")) }),
        )
        .route(
            "/assets/app.js",
            get(|| async { asset("text/javascript", include_str!("assets/app.js")) }),
        )
        .merge(connect::routes())
        .merge(upload::routes())
        .merge(mapping::routes())
        .merge(review::routes())
        .merge(run::routes())
        .merge(retry::routes())
        .merge(history::routes())
        .merge(files::routes())
        .layer(DefaultBodyLimit::disable())
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            guard::check,
        ))
        .with_state(app)
}

/// `/`: the step the session is at.
async fn home(axum::extract::State(app): axum::extract::State<Arc<App>>) -> Redirect {
    let s = app.session();
    Redirect::to(match (&s.conn, &s.upload, &s.job) {
        (None, _, _) => "/connect",
        (_, None, _) => "/upload",
        (_, _, Some(_)) => "/results",
        _ => "/map",
    })
}
