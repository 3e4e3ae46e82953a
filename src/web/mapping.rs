//! Step 3, Map: every column with a field drop-down (the automatic match marked),
//! required fields without a column highlighted, columns to ignore, a value for every
//! row; "save this mapping" keeps it under `SHEETLOAD_HOME/ui/maps`, and a saved mapping
//! is applied by itself next time the headers match. The choices become an ordinary
//! mapping file (`--map`), so the run and `resume` read them as the CLI does.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Form, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use sha2::{Digest, Sha256};

use super::App;
use super::html::{Step, esc, needs, note_box, page};
use super::session::{Session, Upload};
use crate::mapping::{HeaderIndex, MapFile, normalize, target_name};
use crate::spec::{self, EntitySpec};

/// The Map routes.
pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/map", get(show).post(submit))
        .route("/map/download", get(download))
}

/// Every field a column can feed: the spec's fields, then each group instance's members.
fn all_fields(spec: &EntitySpec) -> Vec<String> {
    let mut v: Vec<String> = spec.fields.iter().map(|f| f.name.clone()).collect();
    for g in &spec.groups {
        for i in 1..=g.max {
            for m in &g.fields {
                v.push(g.header(i, &m.name));
            }
        }
    }
    v
}

/// The automatic match of each header.
fn auto(spec: &EntitySpec, headers: &[String]) -> Vec<Option<String>> {
    let index = HeaderIndex::new(spec);
    headers
        .iter()
        .map(|h| index.lookup(h).map(|t| target_name(spec, t)))
        .collect()
}

fn saved_path(app: &App, up: &Upload) -> PathBuf {
    let mut h = Sha256::new();
    for x in &up.headers {
        h.update(normalize(x).as_bytes());
        h.update([0]);
    }
    let hex: String = h.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    app.maps_dir.join(format!("{}-{hex}.toml", up.entity))
}

/// The session's choices, or the saved mapping for these headers, or the automatic match.
fn choices(app: &App, s: &mut Session, spec: &EntitySpec) -> Vec<Option<String>> {
    if let Some(c) = &s.choices {
        return c.clone();
    }
    let Some(up) = &s.upload else {
        return Vec::new();
    };
    let mut c = auto(spec, &up.headers);
    let saved = saved_path(app, up);
    if let Ok(m) = MapFile::load(&saved) {
        for (i, h) in up.headers.iter().enumerate() {
            if let Some(f) = m.columns.get(h) {
                c[i] = Some(f.clone());
            }
            if m.ignore.contains(h) {
                c[i] = None;
            }
        }
        s.constants = m.constants.into_iter().collect();
        s.defaults = m.defaults.into_iter().collect();
        s.map_note = Some("The mapping you saved for these headers was applied.".into());
        s.choices = Some(c.clone());
    }
    c
}

/// The mapping file the choices make: every chosen column under `[columns]`, the
/// ignored ones under `ignore`, the values for every row under `[constants]`, the
/// values for empty cells under `[defaults]`.
pub fn map_text(
    up: &Upload,
    choices: &[Option<String>],
    constants: &BTreeMap<String, String>,
    defaults: &BTreeMap<String, String>,
) -> String {
    #[derive(serde::Serialize)]
    struct Out<'a> {
        ignore: Vec<&'a str>,
        columns: BTreeMap<&'a str, &'a str>,
        constants: &'a BTreeMap<String, String>,
        defaults: &'a BTreeMap<String, String>,
    }
    let mut out = Out {
        ignore: Vec::new(),
        columns: BTreeMap::new(),
        constants,
        defaults,
    };
    for (h, c) in up.headers.iter().zip(choices) {
        match c {
            Some(f) => {
                out.columns.insert(h, f);
            }
            None if !h.is_empty() => out.ignore.push(h),
            None => {}
        }
    }
    let body = toml::to_string(&out).unwrap_or_default();
    format!(
        "# sheetload mapping of {} ({}), saved by sheetload ui; use it with --map.\n{body}",
        up.name.replace(['\n', '\r'], " "),
        up.entity
    )
}

/// The session's mapping as a file's text, for prepare, runs and the download.
pub fn session_map(app: &App) -> Option<String> {
    let target = super::upload::target_of(app);
    let mut s = app.session();
    let spec = spec::builtin(target, s.upload.as_ref()?.entity).ok()?;
    let c = choices(app, &mut s, &spec);
    let sorted = |m: &std::collections::HashMap<String, String>| -> BTreeMap<String, String> {
        m.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    };
    Some(map_text(
        s.upload.as_ref()?,
        &c,
        &sorted(&s.constants),
        &sorted(&s.defaults),
    ))
}

async fn show(State(app): State<Arc<App>>) -> Response {
    let target = super::upload::target_of(&app);
    let mut s = app.session();
    let Some(up) = s.upload.clone() else {
        drop(s);
        return needs(
            Step::Map,
            "Upload a file first.",
            "/upload",
            "Upload a file",
        );
    };
    let spec = match spec::builtin(target, up.entity) {
        Ok(sp) => sp,
        Err(e) => return needs(Step::Map, &e.to_string(), "/upload", "Back to Upload"),
    };
    let c = choices(&app, &mut s, &spec);
    let automatic = auto(&spec, &up.headers);
    let fields = all_fields(&spec);
    let mut rows = String::new();
    for (i, h) in up.headers.iter().enumerate() {
        let chosen = c.get(i).cloned().flatten();
        let is_auto = chosen.is_some() && chosen == automatic[i];
        let mut opts = format!(
            r#"<option value=""{}>— ignore —</option>"#,
            if chosen.is_none() { " selected" } else { "" }
        );
        for f in &fields {
            opts.push_str(&format!(
                r#"<option value="{v}"{sel}>{v}</option>"#,
                v = esc(f),
                sel = if chosen.as_deref() == Some(f) {
                    " selected"
                } else {
                    ""
                }
            ));
        }
        rows.push_str(&format!(
            r#"<tr class="{cls}"><td><label for="col_{i}">{h}</label></td><td class="field"><select id="col_{i}" name="col_{i}">{opts}</select></td></tr>"#,
            cls = if is_auto { "auto" } else { "" },
            h = esc(if h.is_empty() { "(no header)" } else { h }),
        ));
    }
    let mut missing = String::new();
    for f in spec.fields.iter().filter(|f| f.required_in(up.mode)) {
        if c.iter().any(|x| x.as_deref() == Some(f.name.as_str())) {
            continue;
        }
        let v = s.constants.get(&f.name).cloned().unwrap_or_default();
        missing.push_str(&format!(
            r#"<tr class="missing"><td>{n} <strong>required, no column</strong></td><td><label for="const_{n}">choose its column above, or the same value for every row:</label><input type="text" id="const_{n}" name="const_{n}" value="{v}"></td></tr>"#,
            n = esc(&f.name),
            v = esc(&v)
        ));
    }
    for (k, v) in &s.constants {
        if !missing.contains(&format!("name=\"const_{}\"", esc(k))) {
            missing.push_str(&value_row("const", "same value for every row", k, v));
        }
    }
    for (k, v) in &s.defaults {
        missing.push_str(&value_row("default", "value when the cell is empty", k, v));
    }
    let field_opts: String = fields
        .iter()
        .map(|f| format!(r#"<option value="{v}">{v}</option>"#, v = esc(f)))
        .collect();
    missing.push_str(&format!(
        r#"<tr class="extra"><td><label for="extra_kind">Add a value</label> <select id="extra_kind" name="extra_kind"><option value="const">for every row</option><option value="default">when the cell is empty</option></select></td><td><select name="extra_field" aria-label="Field">{field_opts}</select> <input type="text" name="extra_value" aria-label="Value" placeholder="value"></td></tr>"#
    ));
    let note = s.map_note.clone().map(|n| note_box(&n)).unwrap_or_default();
    drop(s);
    let body = format!(
        r#"{note}<form method="post" action="/map" class="card">
<p class="muted">{entity} · mode {mode} · columns marked <span class="status-VALID">auto</span> were matched by their header.</p>
<table class="mapping"><thead><tr><th>Column in the file</th><th>Field</th></tr></thead><tbody>{rows}{missing}</tbody></table>
<label><input type="checkbox" name="save" value="1"> Save this mapping (applied next time the headers match)</label>
<button type="submit" id="to-review">Next: review the rows →</button>
<a class="button secondary" href="/map/download">Download as map.toml</a>
</form>"#,
        entity = esc(up.entity.as_str()),
        mode = up.mode.as_str(),
    );
    page(Step::Map, "Map the columns", &body).into_response()
}

/// A row of the Map table holding a constant or default (clear it to drop it).
fn value_row(kind: &str, what: &str, field: &str, value: &str) -> String {
    format!(
        r#"<tr><td><label for="{kind}_{f}">{f}: {what}</label></td><td><input type="text" id="{kind}_{f}" name="{kind}_{f}" value="{v}"></td></tr>"#,
        f = esc(field),
        v = esc(value)
    )
}

async fn submit(State(app): State<Arc<App>>, Form(f): Form<Vec<(String, String)>>) -> Response {
    let mut s = app.session();
    let Some(up) = s.upload.clone() else {
        drop(s);
        return Redirect::to("/upload").into_response();
    };
    let mut c: Vec<Option<String>> = vec![None; up.headers.len()];
    let mut constants = std::collections::HashMap::new();
    let mut defaults = std::collections::HashMap::new();
    let (mut extra_kind, mut extra_field, mut extra_value) =
        (String::new(), String::new(), String::new());
    let mut save = false;
    for (k, v) in f {
        if let Some(i) = k.strip_prefix("col_").and_then(|i| i.parse::<usize>().ok()) {
            if i < c.len() && !v.is_empty() {
                c[i] = Some(v);
            }
        } else if let Some(field) = k.strip_prefix("const_") {
            if !v.trim().is_empty() {
                constants.insert(field.to_string(), v.trim().to_string());
            }
        } else if let Some(field) = k.strip_prefix("default_") {
            if !v.trim().is_empty() {
                defaults.insert(field.to_string(), v.trim().to_string());
            }
        } else if k == "extra_kind" {
            extra_kind = v;
        } else if k == "extra_field" {
            extra_field = v;
        } else if k == "extra_value" {
            extra_value = v.trim().to_string();
        } else if k == "save" {
            save = true;
        }
    }
    if !extra_value.is_empty() && !extra_field.is_empty() {
        let into = if extra_kind == "default" {
            &mut defaults
        } else {
            &mut constants
        };
        into.insert(extra_field, extra_value);
    }
    s.choices = Some(c.clone());
    s.constants = constants.clone();
    s.defaults = defaults.clone();
    s.review = None;
    s.map_note = None;
    drop(s);
    if save {
        let text = map_text(
            &up,
            &c,
            &constants.into_iter().collect(),
            &defaults.into_iter().collect(),
        );
        let path = saved_path(&app, &up);
        let saved = super::upload::private_file(&path)
            .and_then(|mut f| std::io::Write::write_all(&mut f, text.as_bytes()));
        app.session().map_note = Some(match saved {
            Ok(()) => format!("Mapping saved as {}.", path.display()),
            Err(e) => format!("The mapping could not be saved to {}: {e}", path.display()),
        });
    }
    Redirect::to("/review").into_response()
}

async fn download(State(app): State<Arc<App>>) -> Response {
    match session_map(&app) {
        Some(text) => (
            [
                (header::CONTENT_TYPE, "application/toml; charset=utf-8"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"map.toml\"",
                ),
            ],
            text,
        )
            .into_response(),
        None => Redirect::to("/upload").into_response(),
    }
}
