//! Step 1, Connect: a target and its address, user and password or key (kept in this
//! server's memory only), a database; or a profile of `sheetload.toml`; or "Try with
//! demo data", an in-process sandbox. The sign-in is tried at once, so a wrong password
//! is told here with the CLI's words, not at import time.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;

use super::App;
use super::html::{Step, error_box, esc, note_box, options, page, page_with};
use super::session::Conn;
use crate::connection::{ConnectionArgs, env_var};
use crate::connector::Secret;
use crate::spec::TargetId;
use crate::ui::Printer;

/// The Connect routes.
pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/connect", get(show).post(submit))
        .route("/connect/demo", axum::routing::post(demo))
        .route("/connect/databases", axum::routing::post(databases))
}

/// Every target as (word, label), for the pickers.
fn targets() -> impl Iterator<Item = (&'static str, &'static str)> {
    TargetId::ALL
        .into_iter()
        .map(|t| (t.as_str(), crate::targets::get(t).label()))
}

fn form(app: &App, problem: Option<&str>) -> String {
    let s = app.session();
    let pending = s.pending.clone();
    let current = s
        .conn
        .as_ref()
        .map(|c| note_box(&format!("Connected: {}.", c.label)))
        .unwrap_or_default();
    let target = s
        .conn
        .as_ref()
        .map_or(crate::targets::DEFAULT, |c| c.target);
    let base = s
        .conn
        .as_ref()
        .and_then(|c| c.args.base_url.clone())
        .or_else(|| env_var("SHEETLOAD_BASE_URL"))
        .unwrap_or_default();
    let user = env_var("SHEETLOAD_USER")
        .or_else(|| env_var("SHEETLOAD_API_USERNAME"))
        .unwrap_or_default();
    let db = pending
        .as_ref()
        .and_then(|p| p.database.clone())
        .or_else(|| env_var("SHEETLOAD_DATABASE"))
        .unwrap_or_default();
    let base = pending
        .as_ref()
        .and_then(|p| p.base_url.clone())
        .unwrap_or(base);
    let user = pending
        .as_ref()
        .and_then(|p| p.user.clone())
        .unwrap_or(user);
    let database = if s.databases.is_empty() {
        format!(
            r#"<input type="text" id="database" name="database" value="{}">"#,
            esc(&db)
        )
    } else {
        format!(
            r#"<select id="database" name="database">{}</select>"#,
            options(
                s.databases
                    .iter()
                    .map(|(id, name)| (id.as_str(), name.as_str())),
                &db
            )
        )
    };
    let secret_hint =
        if env_var("SHEETLOAD_PASSWORD").is_some() || env_var("SHEETLOAD_API_KEY").is_some() {
            "leave empty to use the one in this server's environment"
        } else {
            "kept in this server's memory only, never written anywhere"
        };
    format!(
        r#"{current}{problem}
<div class="row">
<form class="card" method="post" action="/connect">
<h2>Your account</h2>
<label for="target">Target</label><select id="target" name="target">{targets}</select>
<label for="base_url">Base URL</label><input type="url" id="base_url" name="base_url" value="{base}" placeholder="https://api.salesmania.id">
<label for="user">User (SalesMania e-mail, Trackfinity admin name)</label><input type="text" id="user" name="user" value="{user}" autocomplete="username">
<label for="secret">Password or API key</label><input type="password" id="secret" name="secret" autocomplete="current-password">
<div class="muted">{secret_hint}</div>
<label for="database">Database (SalesMania: id or name)</label>{database}
<div><button type="submit" class="secondary" formaction="/connect/databases" id="list-databases">List my databases</button></div>
<label for="profile">…or a profile of sheetload.toml</label><input type="text" id="profile" name="profile" placeholder="default">
<div><button type="submit" id="connect">Connect</button></div>
</form>
<form class="card" method="post" action="/connect/demo">
<h2>No account yet?</h2>
<p>Try the whole flow on demo data: an in-process sandbox on this machine plays the API. Nothing leaves this computer.</p>
<label for="demo_target">Target</label><select id="demo_target" name="target">{targets}</select>
<button type="submit" id="demo">Try with demo data</button>
</form>
</div>"#,
        problem = problem.map(error_box).unwrap_or_default(),
        targets = options(targets(), target.as_str()),
        base = esc(&base),
        user = esc(&user),
    )
}

async fn show(State(app): State<Arc<App>>) -> Response {
    page(Step::Connect, "Connect", &form(&app, None)).into_response()
}

/// The Connect form.
#[derive(Deserialize)]
struct ConnectForm {
    target: TargetId,
    #[serde(default)]
    base_url: String,
    #[serde(default)]
    user: String,
    #[serde(default)]
    secret: String,
    #[serde(default)]
    database: String,
    #[serde(default)]
    profile: String,
}

fn some(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_string())
}

/// Sign in once, on a runtime of its own (the engine's futures stay on their thread),
/// and say where the runs will write.
async fn try_connect(target: TargetId, args: ConnectionArgs) -> crate::error::Result<String> {
    tokio::task::spawn_blocking(move || {
        crate::connection::runtime()?.block_on(async {
            let ui = Printer {
                quiet: true,
                json: false,
            };
            let (_, conn) =
                crate::targets::connect(target, &args, Duration::from_secs(30), 2, &ui).await?;
            Ok(conn.destination())
        })
    })
    .await
    .map_err(|_| crate::error::Error::usage("the sign-in stopped unexpectedly"))?
}

/// The form's connection; an empty secret field reuses the one typed before.
fn args_of(app: &App, f: &ConnectForm) -> ConnectionArgs {
    let before = app
        .session()
        .pending
        .as_ref()
        .and_then(|p| p.secret.clone());
    ConnectionArgs {
        base_url: some(&f.base_url),
        database: some(&f.database),
        profile: some(&f.profile),
        user: some(&f.user),
        secret: some(&f.secret).map(Secret::new).or(before),
        ..ConnectionArgs::default()
    }
}

/// "List my databases": SalesMania's sign-in steps 1 and 2, then the form again with a
/// picker.
async fn databases(State(app): State<Arc<App>>, Form(f): Form<ConnectForm>) -> Response {
    let args = args_of(&app, &f);
    app.session().pending = Some(args.clone());
    let listed = tokio::task::spawn_blocking(move || {
        crate::connection::runtime()?.block_on(async {
            let ui = Printer {
                quiet: true,
                json: false,
            };
            let (settings, _sandbox) =
                crate::connection::settings(&args, Duration::from_secs(30), 2, &ui).await?;
            let http = crate::connector::http_client(Duration::from_secs(30), 2)?;
            crate::connector::salesmania::SalesMania::databases(&http, &settings).await
        })
    })
    .await;
    let problem = match listed {
        Ok(Ok(dbs)) if crate::targets::get(f.target).has_databases() => {
            app.session().databases = dbs.into_iter().map(|d| (d.id, d.name)).collect();
            None
        }
        Ok(Ok(_)) => Some(format!(
            "{} has no databases to choose from",
            crate::targets::get(f.target).label()
        )),
        Ok(Err(e)) => Some(e.to_string()),
        Err(_) => Some("listing the databases stopped unexpectedly".into()),
    };
    page(Step::Connect, "Connect", &form(&app, problem.as_deref())).into_response()
}

async fn submit(State(app): State<Arc<App>>, Form(f): Form<ConnectForm>) -> Response {
    let args = args_of(&app, &f);
    app.session().pending = Some(args.clone());
    match try_connect(f.target, args.clone()).await {
        Ok(place) => {
            app.session().conn = Some(Conn {
                target: f.target,
                args,
                label: place,
            });
            Redirect::to("/upload").into_response()
        }
        Err(e) => page_with(
            StatusCode::UNPROCESSABLE_ENTITY,
            Step::Connect,
            "Connect",
            &form(&app, Some(&e.to_string())),
        ),
    }
}

/// The demo form.
#[derive(Deserialize)]
struct DemoForm {
    #[serde(default)]
    target: TargetId,
}

async fn demo(State(app): State<Arc<App>>, Form(f): Form<DemoForm>) -> Response {
    let base = {
        let running = app
            .demo
            .lock()
            .ok()
            .and_then(|d| d.as_ref().map(|h| h.base_url()));
        match running {
            Some(b) => b,
            None => match crate::sandbox::Sandbox::start(crate::sandbox::SandboxOptions::default())
                .await
            {
                Ok(h) => {
                    let b = h.base_url();
                    if let Ok(mut d) = app.demo.lock() {
                        *d = Some(h);
                    }
                    b
                }
                Err(e) => {
                    return page_with(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        Step::Connect,
                        "Connect",
                        &form(&app, Some(&format!("cannot start the demo sandbox: {e}"))),
                    );
                }
            },
        }
    };
    let target = f.target;
    let login = crate::targets::get(target).demo_login();
    let args = ConnectionArgs {
        base_url: Some(base),
        database: login.database.map(str::to_string),
        user: login.user.map(str::to_string),
        secret: Some(Secret::new(login.secret)),
        ..ConnectionArgs::default()
    };
    let label = crate::targets::get(target).label();
    app.session().conn = Some(Conn {
        target,
        args,
        label: format!("the demo sandbox ({label}, on this machine)"),
    });
    Redirect::to("/upload").into_response()
}
