//! Steps 5–7: Dry run (the plan per row, old → new), Import (mode, concurrency, live
//! progress over SSE, Stop) and Results (summary, rows that did not succeed, the result
//! workbook, retry). A run's input (the uploaded file, or the fixed sheet when cells were
//! edited) and mapping are copied under `SHEETLOAD_HOME/ui/runs/`, where `resume` finds
//! them after this server has stopped.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::App;
use super::html::{Step, error_box, esc, needs, page, page_with};
use super::job::{self, Job};
use crate::dispatch::Policy;
use crate::engine::Config;

/// The run routes.
pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/dryrun", get(dry_show).post(dry_start))
        .route("/import", get(import_show).post(import_start))
        .route("/import/events", get(events))
        .route("/import/stop", post(stop))
        .route("/results", get(results))
        .route("/results/download", get(download))
        .route("/results/retry", post(retry))
}

/// The run's options from the Import form.
#[derive(Deserialize, Default)]
struct RunForm {
    #[serde(default)]
    concurrency: Option<usize>,
    #[serde(default)]
    confirm: Option<String>,
}

/// The engine config of a run of the session's sheet: its input and mapping copied to
/// a folder of their own under `ui/runs`.
async fn run_config(app: &Arc<App>, dry_run: bool, f: &RunForm) -> Result<Config, Response> {
    let conn = app.session().conn.clone().ok_or_else(|| {
        needs(
            Step::Import,
            "Connect to a target (or try the demo data) first.",
            "/connect",
            "Connect",
        )
    })?;
    let review = super::review::review(app).await?;
    let mut base = super::review::config(app)?;
    let up = app
        .session()
        .upload
        .clone()
        .ok_or_else(|| needs(Step::Import, "Upload a file first.", "/upload", "Upload"))?;
    let fail = |what: String| {
        page_with(
            StatusCode::INTERNAL_SERVER_ERROR,
            Step::Import,
            "Import",
            &error_box(&what),
        )
    };
    let folder = app.runs_dir.join(format!(
        "{}-{}",
        chrono::Local::now().format("%Y%m%d-%H%M%S%.3f"),
        std::process::id()
    ));
    super::private_dir(&folder).map_err(|e| fail(e.to_string()))?;
    let stem = up
        .name
        .rsplit_once('.')
        .map(|(s, _)| s.to_string())
        .unwrap_or_else(|| up.name.clone());
    let edited = !review.read().map(|r| r.edits.is_empty()).unwrap_or(true);
    let input = if edited {
        let path = folder.join(format!("{stem}.xlsx"));
        let p = path.clone();
        let r = review.clone();
        tokio::task::spawn_blocking(move || {
            r.read().unwrap_or_else(|p| p.into_inner()).write_fixed(&p)
        })
        .await
        .map_err(|_| fail("writing the fixed sheet stopped".into()))?
        .map_err(|e| fail(e.to_string()))?;
        base.read.sheet = None;
        base.read.encoding = None;
        base.read.delimiter = None;
        path
    } else if app.session().retry.is_some() {
        up.path.clone()
    } else {
        let path = folder.join(&up.name);
        std::fs::copy(&up.path, &path)
            .map_err(|e| fail(format!("cannot copy the input to {}: {e}", path.display())))?;
        path
    };
    let retry = app.session().retry.clone();
    if let Some(result) = retry {
        let mut cfg = super::retry::config(app, &result, edited.then_some(input)).await?;
        cfg.dry_run = dry_run;
        cfg.policy.concurrency = f.concurrency.unwrap_or(8).clamp(1, 64);
        cfg.yes = f.confirm.is_some();
        return Ok(cfg);
    }
    let map = folder.join(format!("{stem}.map.toml"));
    if let Some(m) = &base.map {
        std::fs::copy(m, &map)
            .map_err(|e| fail(format!("cannot copy the mapping to {}: {e}", map.display())))?;
        base.map = Some(map);
    }
    base.input = input;
    base.out = None;
    Ok(Config {
        base,
        conn: conn.args.clone(),
        dry_run,
        policy: Policy {
            concurrency: f.concurrency.unwrap_or(8).clamp(1, 64),
            ..Policy::default()
        },
        timeout: Duration::from_secs(30),
        max_errors: None,
        key: None,
        skip_unknown: false,
        group_by: None,
        yes: f.confirm.is_some(),
        confirm: false,
        keep: None,
        wait_for_lock: None,
        allow_excel_damage: false,
        plain_words: true,
        retrying: false,
        wait_for_quota: false,
        quota_per_day: None,
    })
}

fn running(app: &App) -> Option<Arc<Job>> {
    app.session().job.clone().filter(|j| !j.finished())
}

async fn begin(app: Arc<App>, dry_run: bool, f: RunForm, next: &str) -> Response {
    if running(&app).is_some() {
        return Redirect::to("/import").into_response();
    }
    match run_config(&app, dry_run, &f).await {
        Ok(cfg) => {
            app.session().job = Some(job::start(cfg, None));
            Redirect::to(next).into_response()
        }
        Err(page) => page,
    }
}

async fn dry_start(State(app): State<Arc<App>>) -> Response {
    begin(app, true, RunForm::default(), "/dryrun").await
}

async fn import_start(State(app): State<Arc<App>>, Form(f): Form<RunForm>) -> Response {
    begin(app, false, f, "/import").await
}

fn live(j: &Job, step: Step, title: &str) -> Response {
    let stop = if j.dry_run {
        String::new()
    } else {
        r#"<form method="post" action="/import/stop"><button type="submit" class="danger" id="stop">Stop</button> <span class="muted">Requests in flight finish; nothing is lost; the run can be resumed.</span></form>"#.into()
    };
    let p = j.progress();
    let body = format!(
        r#"<div class="card" id="live">
<p><strong id="p-state">{state}</strong></p>
<div class="progress"><div id="p-bar"></div></div>
<p><span id="p-done">{done}</span> / <span id="p-total">{total}</span> rows · <span id="p-rate">{rate}</span> · ETA <span id="p-eta">{eta}</span> · OK <span id="p-ok">{ok}</span> · failed <span id="p-failed">{failed}</span></p>
{stop}<p class="muted">This page updates by itself; <a href="/results">results</a> appear when the run ends.</p></div>"#,
        state = p.state,
        done = p.done,
        total = p.total.map(|t| t.to_string()).unwrap_or_else(|| "?".into()),
        rate = esc(&p.rate),
        eta = esc(&p.eta),
        ok = p.ok,
        failed = p.failed,
    );
    page(step, title, &body).into_response()
}

async fn dry_show(State(app): State<Arc<App>>) -> Response {
    let Some(j) = app.session().job.clone().filter(|j| j.dry_run) else {
        let body = r#"<p>The dry run plans every row against what the target already holds — create, update, skip or invalid, and for updates the fields that change — with read calls only.</p>
<form method="post" action="/dryrun"><button type="submit" id="dry-run">Start the dry run</button></form>"#;
        return page(Step::DryRun, "Dry run", body).into_response();
    };
    match j.end() {
        None => live(&j, Step::DryRun, "Dry run"),
        Some(Err(e)) => page_with(
            StatusCode::UNPROCESSABLE_ENTITY,
            Step::DryRun,
            "Dry run",
            &error_box(&e),
        ),
        Some(Ok(d)) => {
            let mut rows = String::new();
            for r in &d.rows {
                rows.push_str(&format!(
                    r#"<tr><th scope="row">{}</th><td class="status-{st}">{st}</td><td>{}</td><td>{}</td><td>{}</td><td class="why">{}</td></tr>"#,
                    r.row, esc(&r.action), esc(&r.id), esc(&r.changes), esc(&r.error), st = esc(&r.status)
                ));
            }
            let body = format!(
                r#"{lines}<div class="grid-wrap"><table class="plan"><thead><tr><th>Row</th><th>Status</th><th>Plan</th><th>Matched id</th><th>Changes (old → new)</th><th>Problems</th></tr></thead><tbody>{rows}</tbody></table></div>{more}
<p><a class="button" href="/import" id="to-import">Next: import →</a> <a class="button secondary" href="/results/download">Download the dry-run workbook</a></p>"#,
                lines = summary(&d.lines),
                more = more_rows(d.more),
            );
            page(Step::DryRun, "Dry run", &body).into_response()
        }
    }
}

/// The line under a row list cut short: how many rows it leaves out, and where they are.
fn more_rows(more: u64) -> String {
    if more == 0 {
        return String::new();
    }
    format!(
        r#"<p class="muted" id="more-rows">… and {} more: the result workbook lists every row</p>"#,
        crate::ui::thousands(more)
    )
}

fn summary(lines: &[String]) -> String {
    let mut out = String::from(r#"<div class="card summary">"#);
    for (i, l) in lines.iter().enumerate() {
        out.push_str(&if i == 0 {
            format!("<p><strong>{}</strong></p>", esc(l))
        } else {
            format!("<p>{}</p>", esc(l))
        });
    }
    out.push_str("</div>");
    out
}

async fn import_show(State(app): State<Arc<App>>) -> Response {
    if let Some(j) = running(&app).filter(|j| !j.dry_run) {
        return live(&j, Step::Import, "Import");
    }
    let s = app.session();
    let (Some(conn), Some(up)) = (s.conn.clone(), s.upload.clone()) else {
        drop(s);
        return needs(
            Step::Import,
            "Connect and upload a file first.",
            "/connect",
            "Connect",
        );
    };
    drop(s);
    let destructive = matches!(
        up.mode,
        crate::spec::Mode::Delete | crate::spec::Mode::Forget
    );
    let confirm = if destructive {
        format!(
            r#"<label><input type="checkbox" name="confirm" value="yes" required> Yes, {} these records in {}</label>"#,
            up.mode.as_str(),
            esc(&conn.label)
        )
    } else {
        String::new()
    };
    let body = format!(
        r#"<form class="card" method="post" action="/import">
<p>Send the valid rows of <strong>{name}</strong> ({entity}, mode <strong>{mode}</strong>) to {place}. Invalid rows are never sent; every outcome is kept in the run ledger.</p>
<label for="concurrency">Requests at a time</label><input type="number" id="concurrency" name="concurrency" min="1" max="64" value="8">
{confirm}
<button type="submit" id="start-import">Start the import</button>
</form>"#,
        name = esc(&up.name),
        entity = esc(up.entity.as_str()),
        mode = up.mode.as_str(),
        place = esc(&conn.label),
    );
    page(Step::Import, "Import", &body).into_response()
}

async fn events(State(app): State<Arc<App>>) -> Response {
    let Some(j) = app.session().job.clone() else {
        return (StatusCode::NOT_FOUND, "no run").into_response();
    };
    let stream = futures_util::stream::unfold((j, false), |(j, ended)| async move {
        if ended {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
        let p = j.progress();
        let ev = if j.finished() {
            let next = if j.dry_run { "/dryrun" } else { "/results" };
            SseEvent::default().event("done").data(next)
        } else {
            SseEvent::default()
                .event("progress")
                .data(serde_json::to_string(&p).unwrap_or_default())
        };
        let finished = j.finished();
        Some((Ok::<_, Infallible>(ev), (j, finished)))
    });
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}

async fn stop(State(app): State<Arc<App>>) -> Response {
    if let Some(j) = running(&app) {
        j.stop.interrupt();
    }
    Redirect::to("/import").into_response()
}

async fn results(State(app): State<Arc<App>>) -> Response {
    let Some(j) = app.session().job.clone() else {
        return needs(
            Step::Results,
            "No run yet in this session.",
            "/import",
            "Import",
        );
    };
    let d = match j.end() {
        None => return live(&j, Step::Results, "Results"),
        Some(Err(e)) => {
            return page_with(
                StatusCode::UNPROCESSABLE_ENTITY,
                Step::Results,
                "Results",
                &error_box(&e),
            );
        }
        Some(Ok(d)) => d,
    };
    let mut rows = String::new();
    for r in d.rows.iter().filter(|r| r.status != "VALID" || !j.dry_run) {
        rows.push_str(&format!(
            r#"<tr><th scope="row">{}</th><td class="status-{st}">{st}</td><td>{}</td><td class="why">{}</td></tr>"#,
            r.row, esc(&r.action), esc(&r.error), st = esc(&r.status)
        ));
    }
    let table = if rows.is_empty() {
        "<p>Every row went through.</p>".to_string()
    } else {
        format!(
            r#"<h2>Rows that did not go through</h2><div class="grid-wrap"><table><thead><tr><th>Row</th><th>Status</th><th>Action</th><th>Reason (column and cell)</th></tr></thead><tbody>{rows}</tbody></table></div>{more}"#,
            more = if j.dry_run {
                String::new()
            } else {
                more_rows(d.more)
            },
        )
    };
    let retry = if d.bad > 0 && d.run_id.is_some() {
        r#"<form method="post" action="/results/fix" class="inline-form"><button type="submit" class="secondary" id="fix-failed">Fix the failed rows in the grid</button></form> <form method="post" action="/results/retry" class="inline-form"><button type="submit" class="secondary" id="retry">Retry the failed rows as they are</button></form>"#
    } else {
        ""
    };
    let resume = match (d.interrupted, d.run_id) {
        (true, Some(id)) => format!(
            r#"<form method="post" action="/history/{id}/resume" class="inline-form"><button type="submit" class="secondary">Resume run {id}</button></form>"#
        ),
        _ => String::new(),
    };
    let body = format!(
        r#"{lines}<p><a class="button" href="/results/download" id="download-result">Download the result workbook</a> {retry} {resume} <a class="button secondary" href="/history">History</a></p><p class="muted">Result: {path}</p>{table}"#,
        lines = summary(&d.lines),
        path = esc(&d.result.display().to_string()),
    );
    page(Step::Results, "Results", &body).into_response()
}

async fn download(State(app): State<Arc<App>>) -> Response {
    match app.session().job.clone().and_then(|j| j.end()) {
        Some(Ok(d)) => {
            let name = d
                .result
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "result.xlsx".into());
            super::files::send_file(&d.result, &name)
        }
        _ => needs(
            Step::Results,
            "No result workbook yet.",
            "/import",
            "Import",
        ),
    }
}

async fn retry(State(app): State<Arc<App>>) -> Response {
    let Some(Ok(d)) = app.session().job.clone().and_then(|j| j.end()) else {
        return Redirect::to("/results").into_response();
    };
    let conn = app.session().conn.clone();
    match crate::engine::again::retry(&d.result, false, None) {
        Ok((mut cfg, _)) => {
            cfg.plain_words = true;
            if let Some(c) = conn {
                cfg.conn.user = c.args.user.clone();
                cfg.conn.secret = c.args.secret.clone();
            }
            app.session().job = Some(job::start(cfg, None));
            Redirect::to("/import").into_response()
        }
        Err(e) => page_with(
            StatusCode::UNPROCESSABLE_ENTITY,
            Step::Results,
            "Results",
            &error_box(&e.to_string()),
        ),
    }
}
