//! Step 9, Export and Templates: a target's records written by `export`'s own code to a
//! file in the session folder and sent as a download; blank template workbooks per
//! entity and target. Also the one helper that sends a file.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Form, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

use super::App;
use super::html::{Step, error_box, esc, options, page, page_with};
use crate::spec::{Entity, ExportKind, TargetId};
use crate::ui::Printer;

/// The Export and Templates routes.
pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/export", get(show).post(export))
        .route("/templates", get(show))
        .route("/templates/{target}/{entity}", get(template))
}

/// Send a file as a download named `name` (a plain name: quotes and controls removed).
pub fn send_file(path: &std::path::Path, name: &str) -> Response {
    let name: String = name
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | '\\' | '/'))
        .collect();
    let kind = if name.ends_with(".csv") {
        "text/csv; charset=utf-8"
    } else {
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    };
    match std::fs::read(path) {
        Ok(bytes) => (
            [
                (header::CONTENT_TYPE, kind.to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{name}\""),
                ),
            ],
            bytes,
        )
            .into_response(),
        Err(e) => page_with(
            StatusCode::NOT_FOUND,
            Step::Results,
            "Download",
            &error_box(&format!("cannot read {}: {e}", path.display())),
        ),
    }
}

fn body(app: &App, problem: Option<&str>) -> String {
    let target = super::upload::target_of(app);
    let exports: Vec<&str> = crate::targets::get(target)
        .exports()
        .iter()
        .map(|e| e.as_str())
        .collect();
    let connected = app.session().conn.as_ref().map(|c| c.label.clone());
    let export = match connected {
        None => {
            r#"<p>Connect first to export records. <a href="/connect">Connect</a></p>"#.to_string()
        }
        Some(place) if exports.is_empty() => {
            format!("<p>{} has nothing to export.</p>", esc(&place))
        }
        Some(place) => format!(
            r#"<form method="post" action="/export"><p>From {place}.</p>
<label for="what">Records</label><select id="what" name="what">{what}</select>
<label for="where">Filter (column=value, e.g. city=Semarang)</label><input type="text" id="where" name="filter">
<div class="row"><div><label for="from">Visits/orders from</label><input type="text" id="from" name="from" placeholder="2026-01-01"></div>
<div><label for="to">to</label><input type="text" id="to" name="to" placeholder="2026-01-31"></div>
<div><label for="team">Team</label><input type="text" id="team" name="team"></div></div>
<label for="format">Format</label><select id="format" name="format">{fmt}</select>
<button type="submit" id="export">Export and download</button></form>"#,
            place = esc(&place),
            what = options(exports.iter().map(|e| (*e, *e)), "customers"),
            fmt = options([("xlsx", "Excel (.xlsx)"), ("csv", "CSV (UTF-8)")], "xlsx"),
        ),
    };
    let mut templates = String::new();
    for t in crate::spec::targets() {
        for e in crate::spec::entities(t) {
            templates.push_str(&format!(
                r#"<li><a href="/templates/{t}/{e}">{t} · {e}</a></li>"#
            ));
        }
    }
    format!(
        r#"{}<div class="row"><div class="card"><h2>Export</h2>{export}</div><div class="card"><h2>Templates</h2><p>Blank workbooks to fill in, with notes, drop-downs and a Guide sheet.</p><ul>{templates}</ul></div></div>"#,
        problem.map(error_box).unwrap_or_default()
    )
}

async fn show(State(app): State<Arc<App>>) -> Response {
    page(Step::Export, "Export & templates", &body(&app, None)).into_response()
}

/// The Export form.
#[derive(Deserialize)]
struct ExportForm {
    what: ExportKind,
    #[serde(default)]
    filter: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    team: String,
    #[serde(default)]
    format: String,
}

fn some(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_string())
}

async fn export(State(app): State<Arc<App>>, Form(f): Form<ExportForm>) -> Response {
    let Some(conn) = app.session().conn.clone() else {
        return page_with(
            StatusCode::CONFLICT,
            Step::Export,
            "Export & templates",
            &body(&app, Some("connect first")),
        );
    };
    let ext = if f.format == "csv" { "csv" } else { "xlsx" };
    let what = f.what;
    let out = app.dir.join(format!("{what}.{ext}"));
    let mut filters = Vec::new();
    for part in f.filter.split(',').filter(|p| !p.trim().is_empty()) {
        match part.split_once('=') {
            Some((k, v)) => filters.push((k.trim().to_string(), v.trim().to_string())),
            None => {
                return page_with(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    Step::Export,
                    "Export & templates",
                    &body(
                        &app,
                        Some(&format!(
                            "the filter '{part}' needs the form column=value, e.g. city=Semarang"
                        )),
                    ),
                );
            }
        }
    }
    let cfg = crate::export::Config {
        what,
        out: out.clone(),
        conn: conn.args.clone(),
        limit: None,
        filters,
        from: some(&f.from),
        to: some(&f.to),
        team: some(&f.team),
        bom: false,
        timeout: Duration::from_secs(30),
        target: conn.target,
    };
    let ran = tokio::task::spawn_blocking(move || {
        crate::export::run(
            &cfg,
            &Printer {
                quiet: true,
                json: false,
            },
        )
    })
    .await;
    match ran {
        Ok(Ok(_)) => send_file(&out, &format!("{what}.{ext}")),
        Ok(Err(e)) => page_with(
            StatusCode::UNPROCESSABLE_ENTITY,
            Step::Export,
            "Export & templates",
            &body(&app, Some(&e.to_string())),
        ),
        Err(_) => page_with(
            StatusCode::INTERNAL_SERVER_ERROR,
            Step::Export,
            "Export & templates",
            &body(&app, Some("the export stopped unexpectedly")),
        ),
    }
}

async fn template(
    State(app): State<Arc<App>>,
    Path((target, entity)): Path<(String, String)>,
) -> Response {
    let named = target
        .parse::<TargetId>()
        .and_then(|t| Ok((t, entity.parse::<Entity>()?)));
    let spec = match named.and_then(|(t, e)| crate::spec::builtin(t, e)) {
        Ok(s) => s,
        Err(e) => {
            return page_with(
                StatusCode::NOT_FOUND,
                Step::Export,
                "Export & templates",
                &body(&app, Some(&e.to_string())),
            );
        }
    };
    let name = format!("{}-{}-template.xlsx", spec.target, spec.entity);
    let out = app.dir.join(&name);
    match crate::output::template::write(&spec, &out) {
        Ok(()) => send_file(&out, &name),
        Err(e) => page_with(
            StatusCode::INTERNAL_SERVER_ERROR,
            Step::Export,
            "Export & templates",
            &body(&app, Some(&e.to_string())),
        ),
    }
}
