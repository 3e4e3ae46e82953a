//! Step 4, Review: the rows in a server-side paged grid, invalid cells red with their
//! reason, "only rows with problems", counts by kind of error; a cell edited in place is
//! validated again at once; "download fixed sheet".

use std::sync::{Arc, RwLock};

use axum::Router;
use axum::extract::{Form, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::App;
use super::grid::Review;
use super::html::{Step, error_box, esc, needs, note_box, page, page_with, warn_box};
use crate::engine::prepare::Config;
use crate::ui::thousands;

/// The Review routes.
pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/review", get(show))
        .route("/review/cell", post(cell))
        .route("/review/counts", get(counts))
        .route("/review/fixed.xlsx", get(fixed))
}

/// Rows per page of the grid.
const PAGE: usize = 50;

/// The validate config of the session's file and mapping (the mapping written as a
/// file in the session folder, as `--map` would read it).
// The error is the page that says what step comes first: boxing it buys nothing.
#[allow(clippy::result_large_err)]
pub fn config(app: &App) -> Result<Config, Response> {
    let target = super::upload::target_of(app);
    let Some(up) = app.session().upload.clone() else {
        return Err(needs(
            Step::Review,
            "Upload a file first.",
            "/upload",
            "Upload a file",
        ));
    };
    let text = super::mapping::session_map(app).unwrap_or_default();
    let map = app.dir.join("map.toml");
    std::fs::write(&map, text).map_err(|e| {
        page_with(
            StatusCode::INTERNAL_SERVER_ERROR,
            Step::Review,
            "Review",
            &error_box(&format!(
                "cannot write the mapping to {}: {e}",
                map.display()
            )),
        )
    })?;
    let mut read = up.read.clone();
    if !up.sheets.is_empty() {
        read.sheet = Some(up.sheet.clone());
    }
    read.header_row = Some(up.header_row);
    Ok(Config {
        input: up.path.clone(),
        target,
        entity: up.entity,
        mode: up.mode,
        read,
        map: Some(map),
        save_map: None,
        parse: up.parse.clone(),
        out: None,
    })
}

/// The session's validated sheet, built on first use.
pub async fn review(app: &Arc<App>) -> Result<Arc<RwLock<Review>>, Response> {
    if let Some(r) = app.session().review.clone() {
        return Ok(r);
    }
    let cfg = config(app)?;
    let built = tokio::task::spawn_blocking(move || Review::build(cfg)).await;
    match built {
        Ok(Ok(r)) => {
            let r = Arc::new(RwLock::new(r));
            app.session().review = Some(r.clone());
            Ok(r)
        }
        Ok(Err(e)) => Err(page_with(
            StatusCode::UNPROCESSABLE_ENTITY,
            Step::Review,
            "Review",
            &format!(
                r#"{}<p><a class="button" href="/map">Back to Map</a> <a class="button secondary" href="/upload">Back to Upload</a></p>"#,
                error_box(&e.to_string())
            ),
        )),
        Err(_) => Err(page_with(
            StatusCode::INTERNAL_SERVER_ERROR,
            Step::Review,
            "Review",
            &error_box("validating the rows stopped unexpectedly"),
        )),
    }
}

fn counts_html(r: &Review) -> String {
    let (valid, invalid, kinds) = r.counts();
    let mut out = format!(
        r#"<div class="counts"><div class="count"><b>{}</b>rows</div><div class="count"><b class="status-VALID">{}</b>valid</div><div class="count"><b class="status-INVALID">{}</b>with problems</div><div class="count"><b>{}</b>cells edited</div></div>"#,
        thousands(r.rows.len() as u64),
        thousands(valid as u64),
        thousands(invalid as u64),
        r.edits.len()
    );
    if !kinds.is_empty() {
        out.push_str("<ul class=\"kinds\">");
        for (n, k) in kinds.iter().take(12) {
            out.push_str(&format!(
                "<li>{}: {}</li>",
                crate::ui::count(*n as u64, "row"),
                esc(k)
            ));
        }
        out.push_str("</ul>");
    }
    out
}

/// One grid row; password cells are never shown.
pub fn row_html(r: &Review, i: usize, secret: &[usize]) -> String {
    let row = &r.rows[i];
    let v = &r.verdicts[i];
    let status = if v.valid { "VALID" } else { "INVALID" };
    let mut out = format!(
        r#"<tr data-row="{n}"><th scope="row">{n}</th><td class="status-{status}">{status}</td>"#,
        n = row.number
    );
    for c in 0..r.prepared.table.headers.len() {
        let text = row
            .cells
            .get(c)
            .map(|x| x.shown_text().into_owned())
            .unwrap_or_default();
        let reasons: Vec<&str> = v
            .cells
            .iter()
            .filter(|(col, _)| *col == c)
            .map(|(_, w)| w.as_str())
            .collect();
        let (cls, title) = if reasons.is_empty() {
            ("", String::new())
        } else {
            ("bad", format!(r#" title="{}""#, esc(&reasons.join("; "))))
        };
        if secret.contains(&c) {
            out.push_str(&format!(
                r#"<td class="{cls}">{}</td>"#,
                if text.is_empty() { "" } else { "•••" }
            ));
            continue;
        }
        out.push_str(&format!(
            r#"<td tabindex="0" data-col="{c}" data-cell="{cell}" data-value="{val}" class="{cls}"{title}>{val}</td>"#,
            cell = esc(&r.prepared.table.cell_name(row.number, c)),
            val = esc(&text),
        ));
    }
    out.push_str(&format!(r#"<td class="why">{}</td></tr>"#, esc(&v.text)));
    out
}

/// The grid's query.
#[derive(Deserialize, Default)]
struct PageQuery {
    #[serde(default)]
    page: usize,
    #[serde(default)]
    problems: Option<String>,
}

async fn show(State(app): State<Arc<App>>, Query(q): Query<PageQuery>) -> Response {
    let r = match review(&app).await {
        Ok(r) => r,
        Err(page) => return page,
    };
    let r = r.read().unwrap_or_else(|p| p.into_inner());
    let only = q.problems.is_some();
    let picked: Vec<usize> = if only {
        (0..r.rows.len())
            .filter(|&i| !r.verdicts[i].valid)
            .collect()
    } else {
        Vec::new()
    };
    let total = if only { picked.len() } else { r.rows.len() };
    let pages = total.div_ceil(PAGE).max(1);
    let p = q.page.min(pages - 1);
    let secret = r.prepared.secret_columns();
    let mut body_rows = String::new();
    let shown: Vec<usize> = if only {
        picked.iter().copied().skip(p * PAGE).take(PAGE).collect()
    } else {
        (p * PAGE..((p + 1) * PAGE).min(total)).collect()
    };
    for i in shown {
        body_rows.push_str(&row_html(&r, i, &secret));
    }
    let heads: String = r
        .prepared
        .table
        .headers
        .iter()
        .enumerate()
        .map(|(c, h)| {
            let field = r.prepared.mapping.column_targets.get(c).cloned().flatten();
            format!(
                r#"<th scope="col">{}<br><span class="muted">{}</span></th>"#,
                esc(h),
                esc(field.as_deref().unwrap_or("not imported"))
            )
        })
        .collect();
    let f = if only { "&problems=1" } else { "" };
    let prev = if p > 0 {
        format!(r#"<a href="/review?page={}{f}">← previous</a>"#, p - 1)
    } else {
        String::new()
    };
    let next = if p + 1 < pages {
        format!(
            r#"<a href="/review?page={}{f}" id="next-page">next →</a>"#,
            p + 1
        )
    } else {
        String::new()
    };
    let toggle = if only {
        r#"<a href="/review">show all rows</a>"#
    } else {
        r#"<a href="/review?problems=1" id="only-problems">only rows with problems</a>"#
    };
    let mut warnings: String = r
        .prepared
        .mapping
        .warnings
        .iter()
        .map(|w| warn_box(w))
        .collect();
    let unmapped = r
        .prepared
        .mapping
        .unmapped_headers(&r.prepared.table.headers);
    if !unmapped.is_empty() {
        warnings.push_str(&warn_box(&format!(
            "not imported (no field): {}; map them on the Map page or ignore this",
            unmapped.join(", ")
        )));
    }
    let flags = r
        .verdicts
        .iter()
        .filter(|v| !v.valid)
        .any(|v| v.text.contains("--decimal") || v.text.contains("--date-format"));
    if flags {
        warnings.push_str(&note_box(
            "The messages name the command line's --decimal-comma, --decimal-point and --date-format: here they are the Decimals and Date format options of the Upload page.",
        ));
    }
    let body = format!(
        r#"{warnings}<div id="counts">{counts}</div>
<p class="muted">Click a cell (or focus it and press Enter) to change it; it is checked again at once. Red cells say why when you point at them.</p>
<div class="pager">{prev}<span>page {pn} of {pages}</span>{next}<span>·</span>{toggle}<span>·</span><a href="/review/fixed.xlsx">download fixed sheet</a></div>
<div class="grid-wrap"><table class="grid"><thead><tr><th>Row</th><th>Status</th>{heads}<th>Problems</th></tr></thead><tbody>{body_rows}</tbody></table></div>
<form method="post" action="/dryrun"><button type="submit" id="dry-run">Next: dry run →</button> <a class="button secondary" href="/import">Skip to import</a></form>"#,
        counts = counts_html(&r),
        pn = p + 1,
    );
    page(Step::Review, "Review the rows", &body).into_response()
}

/// A cell edit.
#[derive(Deserialize)]
struct CellForm {
    row: u32,
    col: usize,
    #[serde(default)]
    value: String,
}

async fn cell(State(app): State<Arc<App>>, Form(f): Form<CellForm>) -> Response {
    let r = match review(&app).await {
        Ok(r) => r,
        Err(page) => return page,
    };
    let mut r = r.write().unwrap_or_else(|p| p.into_inner());
    match r.edit(f.row, f.col, &f.value) {
        Ok(i) => {
            let secret = r.prepared.secret_columns();
            (
                [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                row_html(&r, i, &secret),
            )
                .into_response()
        }
        Err(e) => (StatusCode::UNPROCESSABLE_ENTITY, e.to_string()).into_response(),
    }
}

async fn counts(State(app): State<Arc<App>>) -> Response {
    match review(&app).await {
        Ok(r) => {
            let r = r.read().unwrap_or_else(|p| p.into_inner());
            (
                [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                counts_html(&r),
            )
                .into_response()
        }
        Err(page) => page,
    }
}

async fn fixed(State(app): State<Arc<App>>) -> Response {
    let r = match review(&app).await {
        Ok(r) => r,
        Err(page) => return page,
    };
    let path = app.dir.join("fixed.xlsx");
    let stem = app
        .session()
        .upload
        .as_ref()
        .map(|u| {
            u.name
                .rsplit_once('.')
                .map(|(s, _)| s.to_string())
                .unwrap_or_else(|| u.name.clone())
        })
        .unwrap_or_else(|| "sheet".into());
    let p2 = path.clone();
    let written = tokio::task::spawn_blocking(move || {
        r.read().unwrap_or_else(|p| p.into_inner()).write_fixed(&p2)
    })
    .await;
    match written {
        Ok(Ok(())) => super::files::send_file(&path, &format!("{stem}-fixed.xlsx")),
        Ok(Err(e)) => page_with(
            StatusCode::INTERNAL_SERVER_ERROR,
            Step::Review,
            "Review",
            &error_box(&e.to_string()),
        ),
        Err(_) => page_with(
            StatusCode::INTERNAL_SERVER_ERROR,
            Step::Review,
            "Review",
            &error_box("writing the fixed sheet stopped unexpectedly"),
        ),
    }
}
