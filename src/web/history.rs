//! Step 8, History: the ledger's runs (what `sheetload runs list` shows), one run's
//! rows, resume an interrupted run, undo one after a confirmation page.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::App;
use super::html::{Step, error_box, esc, note_box, page, page_with};
use crate::ledger::{self, Ledger, RunRecord};
use crate::spec::Mode;
use crate::ui::{Printer, records};

/// The History routes.
pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/history", get(list))
        .route("/history/{id}", get(show))
        .route("/history/{id}/resume", post(resume))
        .route("/history/{id}/undo", get(undo_ask).post(undo))
}

fn problem(e: impl std::fmt::Display) -> Response {
    page_with(
        StatusCode::UNPROCESSABLE_ENTITY,
        Step::History,
        "History",
        &error_box(&e.to_string()),
    )
}

fn open() -> crate::error::Result<Ledger> {
    Ledger::open(&ledger::default_home())
}

/// Run `id`, or the CLI's sentence when there is none.
fn find(ledger: &Ledger, id: i64) -> crate::error::Result<RunRecord> {
    ledger.run(id)?.ok_or_else(|| {
        crate::error::Error::usage(format!(
            "there is no run {id} in {}; `sheetload runs list` shows the runs",
            ledger.path().display()
        ))
    })
}

fn run_row(r: &RunRecord) -> String {
    let c = &r.counts;
    format!(
        r#"<tr><th scope="row"><a href="/history/{id}">{id}</a></th><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>"#,
        esc(&r
            .started_at
            .chars()
            .take(16)
            .collect::<String>()
            .replace('T', " ")),
        esc(r.state.as_str()),
        esc(r.target.as_str()),
        esc(r.entity.as_str()),
        esc(r.mode.as_str()),
        c.ok,
        c.skipped,
        c.invalid,
        c.failed,
        c.unknown,
        esc(&format!(
            "{} · {}",
            r.database_name.clone().unwrap_or_default(),
            r.input_path
        )),
        id = r.id,
    )
}

async fn list() -> Response {
    let runs = match open().and_then(|l| l.runs(100)) {
        Ok(r) => r,
        Err(e) => return problem(e),
    };
    let rows: String = runs.iter().map(run_row).collect();
    let body = if runs.is_empty() {
        "<p>No runs yet in this ledger.</p>".to_string()
    } else {
        format!(
            r#"<p class="muted">The same runs as <code>sheetload runs list</code>.</p><div class="grid-wrap"><table><thead><tr><th>Run</th><th>Started</th><th>State</th><th>Target</th><th>Entity</th><th>Mode</th><th>OK</th><th>Skipped</th><th>Invalid</th><th>Failed</th><th>Unknown</th><th>Database · input</th></tr></thead><tbody>{rows}</tbody></table></div>"#
        )
    };
    page(Step::History, "History", &body).into_response()
}

async fn show(Path(id): Path<i64>) -> Response {
    let ledger = match open() {
        Ok(l) => l,
        Err(e) => return problem(e),
    };
    let r = match find(&ledger, id) {
        Ok(r) => r,
        Err(e) => return problem(e),
    };
    let rows = ledger.rows(id).unwrap_or_default();
    let mut table = String::new();
    for row in rows.iter().take(2000) {
        let st = row
            .status
            .map(|s| s.as_str())
            .unwrap_or(if row.sending { "SENDING" } else { "" });
        table.push_str(&format!(
            r#"<tr><th scope="row">{}</th><td class="status-{st}">{st}</td><td>{}</td><td>{}</td><td>{}</td><td class="why">{}</td></tr>"#,
            row.row,
            esc(row.action.map(|a| a.as_str()).unwrap_or_default()),
            esc(row.remote_id.as_deref().unwrap_or("")),
            row.http.map(|h| h.to_string()).unwrap_or_default(),
            esc(&row.error),
        ));
    }
    let mut actions = String::new();
    if r.state.is_unfinished() {
        actions.push_str(&format!(r#"<form method="post" action="/history/{id}/resume" class="inline-form"><button type="submit" id="resume">Resume run {id}</button></form> "#));
    }
    if r.undone_at.is_none() {
        actions.push_str(&format!(
            r#"<a class="button secondary" href="/history/{id}/undo" id="undo">Undo run {id}…</a>"#
        ));
    }
    let body = format!(
        r#"<div class="card"><p>Run {id}: {state}, {target} {entity} ({mode}) into {db}, from {input}, started {start}.</p>{actions}</div>
<div class="grid-wrap"><table><thead><tr><th>Row</th><th>Status</th><th>Action</th><th>Id</th><th>HTTP</th><th>Reason</th></tr></thead><tbody>{table}</tbody></table></div>"#,
        state = esc(r.state.as_str()),
        target = esc(r.target.as_str()),
        entity = esc(r.entity.as_str()),
        mode = esc(r.mode.as_str()),
        db = esc(&r
            .database_name
            .clone()
            .unwrap_or_else(|| r.base_url.clone())),
        input = esc(&r.input_path),
        start = esc(&r.started_at),
    );
    page(Step::History, &format!("Run {id}"), &body).into_response()
}

async fn resume(State(app): State<Arc<App>>, Path(id): Path<i64>) -> Response {
    match crate::engine::again::resume(Some(id)) {
        Ok((mut cfg, _)) => {
            if let Some(c) = app.session().conn.clone() {
                cfg.conn.user = c.args.user.clone();
                cfg.conn.secret = c.args.secret.clone();
            }
            app.session().job = Some(super::job::start(cfg, Some(id)));
            Redirect::to("/import").into_response()
        }
        Err(e) => problem(e),
    }
}

async fn undo_ask(Path(id): Path<i64>) -> Response {
    let ledger = match open() {
        Ok(l) => l,
        Err(e) => return problem(e),
    };
    let (r, created) = match find(&ledger, id).and_then(|r| Ok((r, ledger.created(id)?))) {
        Ok(x) => x,
        Err(e) => return problem(e),
    };
    let body = format!(
        r#"<form class="card" method="post" action="/history/{id}/undo"><p>Delete the <strong>{what}</strong> that run {id} created in "{db}" ({url})? This cannot be taken back.</p>
<input type="hidden" name="confirm" value="yes"><button type="submit" class="danger" id="confirm-undo">Yes, delete them</button> <a class="button secondary" href="/history/{id}">No, keep them</a></form>"#,
        what = esc(&records(created.len() as u64, r.entity.as_str())),
        db = esc(&r.database_name.clone().unwrap_or_default()),
        url = esc(&r.base_url),
    );
    page(Step::History, &format!("Undo run {id}"), &body).into_response()
}

/// The undo confirmation.
#[derive(Deserialize)]
struct UndoForm {
    #[serde(default)]
    confirm: String,
}

async fn undo(
    State(app): State<Arc<App>>,
    Path(id): Path<i64>,
    Form(f): Form<UndoForm>,
) -> Response {
    if f.confirm != "yes" {
        return Redirect::to(&format!("/history/{id}/undo")).into_response();
    }
    let conn = app.session().conn.clone();
    let done = tokio::task::spawn_blocking(move || -> crate::error::Result<String> {
        let mut ledger = open()?;
        let r = find(&ledger, id)?;
        if !crate::spec::builtin(r.target, r.entity)?.modes.contains(&Mode::Delete) {
            return Err(crate::error::Error::usage(format!(
                "{} {} cannot be deleted through the API, so run {id} cannot be undone: remove them in the app",
                r.target, r.entity
            )));
        }
        let mut args = conn.map(|c| c.args).unwrap_or_default();
        if args.base_url.is_none() {
            args.base_url = Some(r.base_url.clone());
        }
        if args.database.is_none() {
            args.database = r.database_id.clone();
        }
        let target = crate::targets::get(r.target);
        let ui = Printer { quiet: true, json: false };
        let out = crate::connection::runtime()?.block_on(crate::engine::undo::delete_created(target, &r, &args, None, &ui))?;
        ledger.mark_undone(id, &out.deleted)?;
        let undone = ledger.finish_undo(id)?;
        let mut msg = format!("run {id}: deleted {} of {} it created{}", out.deleted.len(), records(out.created as u64, r.entity.as_str()), if undone { "; the run is now marked undone" } else { "" });
        for f in out.failures.iter().take(20) {
            msg.push_str(&format!("; not deleted: {f}"));
        }
        Ok(msg)
    })
    .await;
    match done {
        Ok(Ok(msg)) => page(
            Step::History,
            &format!("Run {id} undone"),
            &format!(
                r#"{}<p><a class="button" href="/history">Back to History</a></p>"#,
                note_box(&msg)
            ),
        )
        .into_response(),
        Ok(Err(e)) => problem(e),
        Err(_) => problem("the undo stopped unexpectedly"),
    }
}
