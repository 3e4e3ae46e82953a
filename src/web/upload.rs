//! Step 2, Upload: a file dropped or picked (capped in size, stored owner-only in the
//! session folder), what its rows are, and how to read it — sheet, header row, encoding,
//! delimiter, decimals, dates — with the reader's own refusals and notes.

use std::io::Write;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Form, Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::App;
use super::html::{Step, error_box, esc, note_box, options, page, page_with};
use super::session::Upload;
use crate::error::{Error, Result};
use crate::input::ReadOptions;
use crate::mapping::HeaderIndex;
use crate::spec::{self, Entity, Mode, TargetId};
use crate::validate::{DecimalStyle, ParseOptions};

/// The Upload routes.
pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/upload", get(show).post(receive))
        .route("/upload/options", post(reread))
}

/// The target the session's runs go to (SalesMania until connected).
pub fn target_of(app: &App) -> TargetId {
    app.session()
        .conn
        .as_ref()
        .map_or(crate::targets::DEFAULT, |c| c.target)
}

fn entity_options(target: TargetId, chosen: Entity) -> String {
    let names = spec::entities(target);
    options(
        names.iter().map(|e| (e.as_str(), e.as_str())),
        chosen.as_str(),
    )
}

fn mode_options(target: TargetId, entity: Entity, chosen: &str) -> String {
    let modes = spec::builtin(target, entity)
        .map(|s| s.modes)
        .unwrap_or_else(|_| vec![Mode::Create]);
    options(modes.iter().map(|m| (m.as_str(), m.as_str())), chosen)
}

fn body(app: &App, problem: Option<&str>) -> String {
    let target = target_of(app);
    let s = app.session();
    let (entity, mode) = s
        .upload
        .as_ref()
        .map(|u| (u.entity, u.mode.as_str()))
        .unwrap_or((Entity::Customers, "create"));
    let mut out = problem.map(error_box).unwrap_or_default();
    if s.conn.is_none() {
        out.push_str(&note_box(
            "Not connected yet: the file can be checked offline; connect before the dry run and the import.",
        ));
    }
    if let Some(u) = &s.upload {
        out.push_str(&read_options(u));
    }
    out.push_str(&format!(
        r#"<form class="card" method="post" action="/upload" enctype="multipart/form-data">
<h2>{title}</h2>
<div class="drop"><p>Drop an XLSX, XLS, ODS or CSV file here, or</p>
<input type="file" id="file" name="file" accept=".xlsx,.xlsm,.xlsb,.xls,.ods,.csv,.tsv,.txt" aria-label="Spreadsheet file">
<p class="picked muted"></p><p class="muted">At most {mb} MB and {rows} rows.</p></div>
<div class="inline"><label for="entity">These rows are</label><select id="entity" name="entity">{entities}</select>
<label for="mode">Mode</label><select id="mode" name="mode">{modes}</select></div>
<button type="submit" id="upload">Upload and read</button>
</form>"#,
        mb = app.opts.max_upload / (1024 * 1024),
        rows = crate::ui::thousands(app.opts.max_rows),
        entities = entity_options(target, entity),
        modes = mode_options(target, entity, mode),
        title = if s.upload.is_some() { "Another file" } else { "Your file" },
    ));
    out
}

fn read_options(u: &Upload) -> String {
    let notes: String = u.notes.iter().map(|n| note_box(n)).collect();
    let sheets = if u.sheets.is_empty() {
        String::new()
    } else {
        format!(
            r#"<label for="sheet">Sheet</label><select id="sheet" name="sheet">{}</select>"#,
            options(u.sheets.iter().map(|s| (s.as_str(), s.as_str())), &u.sheet)
        )
    };
    let enc = u.read.encoding.map(|e| e.name()).unwrap_or("");
    let delim = match u.read.delimiter {
        Some(b'\t') => "tab".to_string(),
        Some(d) => (d as char).to_string(),
        None => String::new(),
    };
    let dec = match u.parse.decimals {
        DecimalStyle::Auto => "",
        DecimalStyle::DecimalComma => "comma",
        DecimalStyle::DecimalPoint => "point",
    };
    format!(
        r#"<form class="card" method="post" action="/upload/options">
<h2>Reading {name}</h2>{notes}
<p>{cols} columns found on header row {hr}: <span class="muted">{headers}</span></p>
{sheets}
<label for="header_row">Header row</label><input type="number" min="1" id="header_row" name="header_row" value="{hr}">
<div class="row"><div><label for="encoding">Encoding (CSV)</label><select id="encoding" name="encoding">{encs}</select></div>
<div><label for="delimiter">Delimiter (CSV)</label><select id="delimiter" name="delimiter">{delims}</select></div>
<div><label for="decimals">Decimals</label><select id="decimals" name="decimals">{decs}</select></div>
<div><label for="date_format">Date format</label><input type="text" id="date_format" name="date_format" value="{df}" placeholder="%d/%m/%Y"></div></div>
<button type="submit" class="secondary">Read again with these options</button>
<a class="button" href="/map" id="to-map">Next: map the columns →</a>
</form>"#,
        name = esc(&u.name),
        cols = u.headers.len(),
        hr = u.header_row,
        headers = esc(&u.headers.join(" · ")),
        encs = options(
            [
                ("", "detect (UTF-8 unless marked)"),
                ("UTF-8", "UTF-8"),
                ("windows-1252", "Windows-1252 (Western)"),
                ("windows-1254", "Windows-1254 (Turkish)"),
                ("ISO-8859-2", "ISO-8859-2"),
                ("UTF-16LE", "UTF-16LE"),
            ],
            enc
        ),
        delims = options(
            [
                ("", "detect"),
                (",", ","),
                (";", ";"),
                ("tab", "tab"),
                ("|", "|")
            ],
            &delim
        ),
        decs = options(
            [
                ("", "refuse ambiguous numbers"),
                ("comma", "1.234,56 (decimal comma)"),
                ("point", "1,234.56 (decimal point)")
            ],
            dec
        ),
        df = esc(u.parse.date_format.as_deref().unwrap_or("")),
    )
}

async fn show(State(app): State<Arc<App>>) -> Response {
    page(Step::Upload, "Upload", &body(&app, None)).into_response()
}

fn refuse(app: &App, status: StatusCode, why: &str) -> Response {
    page_with(status, Step::Upload, "Upload", &body(app, Some(why)))
}

/// Keep only a plain file name: letters, digits, `.`, `-`, `_`, spaces.
fn safe_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '_' | ' '))
        .take(100)
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').to_string();
    if cleaned.is_empty() {
        "upload.xlsx".into()
    } else {
        cleaned
    }
}

/// A file only its owner may read.
pub fn private_file(path: &std::path::Path) -> std::io::Result<std::fs::File> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o.open(path)
}

async fn receive(State(app): State<Arc<App>>, mut form: Multipart) -> Response {
    let limit = app.opts.max_upload;
    let (mut entity, mut mode, mut stored) = (Entity::Customers, Mode::Create, None);
    loop {
        let field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                return refuse(
                    &app,
                    StatusCode::BAD_REQUEST,
                    &format!("the upload was cut off or malformed ({e}): try again"),
                );
            }
        };
        match field.name().unwrap_or("") {
            "entity" => match field.text().await.unwrap_or_default().parse::<Entity>() {
                Ok(e) => entity = e,
                Err(e) => return refuse(&app, StatusCode::BAD_REQUEST, &e.to_string()),
            },
            "mode" => {
                let m = field.text().await.unwrap_or_default();
                mode = m.parse().unwrap_or(Mode::Create);
            }
            "file" => {
                let name = safe_name(field.file_name().unwrap_or("upload"));
                let n = {
                    let mut s = app.session();
                    s.uploads += 1;
                    s.uploads
                };
                let path = app.dir.join(format!("{n}-{name}"));
                match save_capped(field, &path, limit).await {
                    Ok(0) => {
                        let _ = std::fs::remove_file(&path);
                    }
                    Ok(_) => stored = Some((path, name)),
                    Err(e) => {
                        let _ = std::fs::remove_file(&path);
                        return refuse(&app, StatusCode::PAYLOAD_TOO_LARGE, &e);
                    }
                }
            }
            _ => {}
        }
    }
    let Some((path, name)) = stored else {
        return refuse(
            &app,
            StatusCode::BAD_REQUEST,
            "no file was chosen: drop a spreadsheet on the box or pick one, then Upload",
        );
    };
    let mut up = Upload {
        path,
        name,
        read: ReadOptions {
            max_rows: Some(app.opts.max_rows),
            ..ReadOptions::default()
        },
        parse: ParseOptions::default(),
        entity,
        mode,
        headers: Vec::new(),
        sheets: Vec::new(),
        sheet: String::new(),
        header_row: 0,
        notes: Vec::new(),
    };
    let target = target_of(&app);
    match open(target, &mut up).await {
        Ok(()) => {
            let mut s = app.session();
            if let Some(old) = s.upload.take()
                && old.path.starts_with(&app.dir)
            {
                let _ = std::fs::remove_file(&old.path);
            }
            s.upload = Some(up);
            s.reset_file();
            s.retry = None;
            drop(s);
            Redirect::to("/upload").into_response()
        }
        Err(e) => {
            let _ = std::fs::remove_file(&up.path);
            refuse(
                &app,
                StatusCode::UNPROCESSABLE_ENTITY,
                &format!("{}: {e}", up.name),
            )
        }
    }
}

/// Write the field to `path`, stopping at `limit` bytes; the byte count.
async fn save_capped(
    mut field: axum::extract::multipart::Field<'_>,
    path: &std::path::Path,
    limit: u64,
) -> std::result::Result<u64, String> {
    let mut file = private_file(path).map_err(|e| format!("cannot store the upload: {e}"))?;
    let mut n = 0u64;
    loop {
        let chunk = match field.chunk().await {
            Ok(Some(c)) => c,
            Ok(None) => break,
            Err(e) => return Err(format!("the upload was cut off ({e}): try again")),
        };
        n += chunk.len() as u64;
        if n > limit {
            return Err(format!(
                "the file is larger than the upload limit of {} MB: split it into smaller files, or start `sheetload ui --max-upload-mb N` with a higher limit",
                limit / (1024 * 1024)
            ));
        }
        file.write_all(&chunk)
            .map_err(|e| format!("cannot store the upload: {e}"))?;
    }
    Ok(n)
}

/// Open the stored file as the reader will, filling in what it found.
pub async fn open(target: TargetId, up: &mut Upload) -> Result<()> {
    let spec = spec::builtin(target, up.entity)?;
    if !spec.modes.contains(&up.mode) {
        up.mode = spec.modes.first().copied().unwrap_or(Mode::Create);
    }
    let (path, read) = (up.path.clone(), up.read.clone());
    let table = tokio::task::spawn_blocking(move || {
        let index = HeaderIndex::new(&spec);
        crate::input::open(&path, &read, &|row: &[String]| index.score(row))
    })
    .await
    .map_err(|_| Error::input("reading the file stopped unexpectedly"))??;
    up.headers = table.headers.clone();
    up.sheets = table.sheets.clone();
    up.sheet = table.sheet.clone();
    up.header_row = table.header_row;
    up.notes = table.notes.clone();
    Ok(())
}

/// The reading-options form.
#[derive(Deserialize)]
struct ReadForm {
    #[serde(default)]
    sheet: String,
    #[serde(default)]
    header_row: String,
    #[serde(default)]
    encoding: String,
    #[serde(default)]
    delimiter: String,
    #[serde(default)]
    decimals: String,
    #[serde(default)]
    date_format: String,
}

async fn reread(State(app): State<Arc<App>>, Form(f): Form<ReadForm>) -> Response {
    let Some(mut up) = app.session().upload.clone() else {
        return Redirect::to("/upload").into_response();
    };
    let changed_sheet = !f.sheet.is_empty() && f.sheet != up.sheet;
    up.read.sheet = (!f.sheet.is_empty()).then(|| f.sheet.clone());
    up.read.header_row = if changed_sheet {
        None
    } else {
        f.header_row
            .trim()
            .parse()
            .ok()
            .filter(|&n: &u32| n != up.header_row || up.read.header_row.is_some())
    };
    up.read.encoding = encoding_rs::Encoding::for_label(f.encoding.as_bytes());
    up.read.delimiter = match f.delimiter.as_str() {
        "tab" => Some(b'\t'),
        d if d.len() == 1 => Some(d.as_bytes()[0]),
        _ => None,
    };
    up.parse.decimals = match f.decimals.as_str() {
        "comma" => DecimalStyle::DecimalComma,
        "point" => DecimalStyle::DecimalPoint,
        _ => DecimalStyle::Auto,
    };
    let df = f.date_format.trim();
    up.parse.date_format = if df.is_empty() {
        None
    } else {
        match crate::validate::check_date_format(df) {
            Ok(d) => Some(d),
            Err(e) => return refuse(&app, StatusCode::UNPROCESSABLE_ENTITY, &e.to_string()),
        }
    };
    let target = target_of(&app);
    match open(target, &mut up).await {
        Ok(()) => {
            let mut s = app.session();
            s.upload = Some(up);
            s.reset_file();
            drop(s);
            Redirect::to("/upload").into_response()
        }
        Err(e) => refuse(&app, StatusCode::UNPROCESSABLE_ENTITY, &e.to_string()),
    }
}
