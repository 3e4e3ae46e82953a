//! "Fix the failed rows in the grid, then retry": the result workbook's `Failed` sheet
//! opened in the Review grid with the run's own mapping; the import that follows is
//! `sheetload retry` of that workbook (the options of the run that wrote it), reading the
//! fixed sheet when cells were changed.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;

use super::App;
use super::html::{Step, error_box, page_with};
use super::session::Upload;
use crate::engine::Config;
use crate::mapping::MapFile;

/// The retry routes.
pub fn routes() -> Router<Arc<App>> {
    Router::new().route("/results/fix", post(fix))
}

fn problem(e: impl std::fmt::Display) -> Response {
    page_with(
        StatusCode::UNPROCESSABLE_ENTITY,
        Step::Results,
        "Results",
        &error_box(&e.to_string()),
    )
}

/// Open the last run's `Failed` sheet as the session's file.
async fn fix(State(app): State<Arc<App>>) -> Response {
    let Some(Ok(done)) = app.session().job.clone().and_then(|j| j.end()) else {
        return Redirect::to("/results").into_response();
    };
    let (cfg, _) = match crate::engine::again::retry(&done.result, false, None) {
        Ok(x) => x,
        Err(e) => return problem(e),
    };
    let name = done
        .result
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "result.xlsx".into());
    let mut up = Upload {
        path: done.result.clone(),
        name,
        read: cfg.base.read.clone(),
        parse: cfg.base.parse.clone(),
        entity: cfg.base.entity,
        mode: cfg.base.mode,
        headers: Vec::new(),
        sheets: Vec::new(),
        sheet: String::new(),
        header_row: 0,
        notes: Vec::new(),
    };
    if let Err(e) = super::upload::open(cfg.base.target, &mut up).await {
        return problem(e);
    }
    let map = cfg.base.map.as_deref().and_then(|m| MapFile::load(m).ok());
    let spec = match crate::spec::builtin(cfg.base.target, up.entity) {
        Ok(s) => s,
        Err(e) => return problem(e),
    };
    let index = crate::mapping::HeaderIndex::new(&spec);
    let choices = up
        .headers
        .iter()
        .map(|h| match &map {
            Some(m) if m.ignore.contains(h) => None,
            Some(m) if m.columns.contains_key(h) => m.columns.get(h).cloned(),
            _ => index
                .lookup(h)
                .map(|t| crate::mapping::target_name(&spec, t)),
        })
        .collect();
    let mut s = app.session();
    s.upload = Some(up);
    s.reset_file();
    s.choices = Some(choices);
    if let Some(m) = map {
        s.constants = m.constants.into_iter().collect();
        s.defaults = m.defaults.into_iter().collect();
    }
    s.map_note = Some("The Failed sheet of the last run, mapped as that run was.".into());
    s.retry = Some(done.result);
    drop(s);
    Redirect::to("/review").into_response()
}

/// The config of `sheetload retry RESULT` for the session's `Failed` sheet, reading
/// `edited` (the fixed sheet) instead when cells were changed.
// The error is the page that says why: boxing it buys nothing.
#[allow(clippy::result_large_err)]
pub async fn config(
    app: &Arc<App>,
    result: &Path,
    edited: Option<PathBuf>,
) -> Result<Config, Response> {
    let (mut cfg, _) = crate::engine::again::retry(result, false, None).map_err(problem)?;
    if let Some(fixed) = edited {
        cfg.base.input = fixed;
        cfg.base.read.sheet = None;
        cfg.base.read.header_row = Some(1);
    }
    if let Some(c) = app.session().conn.clone() {
        cfg.conn.user = c.args.user.clone();
        cfg.conn.secret = c.args.secret.clone();
    }
    Ok(cfg)
}
