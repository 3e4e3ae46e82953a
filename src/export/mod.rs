//! The export pipeline (`sheetload export`): teams, products, customers, visits, orders or databases to Excel
//! or CSV, in the import template's layout plus `id`, so that export → edit → import
//! back is a normal workflow (`--mode upsert` for customers and products; visits and
//! orders into another database, their references carried by code and name too).
//!
//! Records are written page by page as they arrive (products are gathered first, to
//! know how many unit column groups they need), so memory does not grow with the count;
//! referenced customers, teams and products are listed once each, up front.

mod columns;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::Value;

use crate::connection::{self, ConnectionArgs};
use crate::connector::parse;
use crate::connector::salesmania::SalesMania;
use crate::dispatch::{Ctx, Limiter, Policy};
use crate::error::{Error, Result, exit};
use crate::output::export::{self, Cell, Column, ExportSink};
use crate::spec::{self, Entity, EntitySpec, ExportKind, Mode, TargetId};
use crate::ui::Printer;
use columns::{Labels, Source, flatten, passes, plain_columns, rows_of, spec_columns};

/// Everything `export` needs.
#[derive(Debug, Clone)]
pub struct Config {
    /// What to export.
    pub what: ExportKind,
    /// `.xlsx` or `.csv`.
    pub out: PathBuf,
    /// Where from.
    pub conn: ConnectionArgs,
    /// At most this many records.
    pub limit: Option<u64>,
    /// `column=value` filters, all of which must hold (case-insensitive).
    pub filters: Vec<(String, String)>,
    /// Visits or orders from this date (`YYYY-MM-DD`).
    pub from: Option<String>,
    /// Visits or orders up to this date.
    pub to: Option<String>,
    /// Visits or orders of this team (id, name or e-mail).
    pub team: Option<String>,
    /// Start a CSV with a UTF-8 BOM, for Excel.
    pub bom: bool,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Where from (a target that can list its records).
    pub target: TargetId,
}

/// Run the export and return its exit code.
pub fn run(cfg: &Config, ui: &Printer) -> Result<u8> {
    connection::runtime()?.block_on(export(cfg, ui))
}

fn now() -> String {
    chrono::Local::now()
        .format("%Y-%m-%d %H:%M:%S %z")
        .to_string()
}

/// The databases the user reaches (no database needs to be chosen for this).
async fn export_databases(cfg: &Config, ui: &Printer) -> Result<u8> {
    let (settings, _sb) = connection::settings(&cfg.conn, cfg.timeout, 2, ui).await?;
    let http = crate::connector::http_client(cfg.timeout, 2)?;
    let dbs = SalesMania::databases(&http, &settings).await?;
    let columns = plain_columns(&["id", "name"]);
    let cols: Vec<Column> = columns.iter().map(|(c, _)| c.clone()).collect();
    let mut sink = export::create(&cfg.out, "Databases", &cols, cfg.bom)?;
    for d in &dbs {
        sink.row(&[
            Some(Cell::Text(d.id.clone())),
            Some(Cell::Text(d.name.clone())),
        ])?;
    }
    let path = sink.finish(&[
        ("Export".into(), "databases".into()),
        ("From".into(), settings.base_url.to_string()),
        ("Records".into(), dbs.len().to_string()),
        ("Exported at".into(), now()),
    ])?;
    ui.summary(&[format!("{} databases → {}", dbs.len(), path.display())]);
    Ok(exit::OK)
}

/// Whole lists of referenced collections, each read once per export.
struct Lists<'a> {
    ctx: &'a Ctx,
    conn: &'a connection::Connected,
    read: Vec<(Entity, Vec<Value>)>,
}

impl Lists<'_> {
    async fn of(&mut self, entity: Entity) -> Result<&[Value]> {
        if let Some(i) = self.read.iter().position(|(e, _)| *e == entity) {
            return Ok(&self.read[i].1);
        }
        let path = self.conn.collection(entity).ok_or_else(|| {
            Error::usage(format!("cannot export: this target has no {entity} list"))
        })?;
        let records = self
            .ctx
            .list_all(path, &[])
            .await
            .map_err(|e| Error::usage(format!("cannot read the {entity}: {e}")))?;
        self.read.push((entity, records));
        Ok(&self.read[self.read.len() - 1].1)
    }
}

/// `--from`, `--to` and `--team` as the list's query (visits and orders); the team by
/// id, name or e-mail.
async fn server_query(
    cfg: &Config,
    lists: &mut Lists<'_>,
    database: &str,
) -> Result<Vec<(String, String)>> {
    let mut query: Vec<(String, String)> = Vec::new();
    if let Some(f) = &cfg.from {
        query.push(("date_from".into(), f.clone()));
    }
    if let Some(t) = &cfg.to {
        query.push(("date_to".into(), t.clone()));
    }
    if let Some(team) = &cfg.team {
        let id = if team.chars().all(|c| c.is_ascii_digit()) {
            team.clone()
        } else {
            lists
                .of(Entity::Teams)
                .await
                .map_err(|e| Error::usage(format!("cannot look the team up: {e}")))?
                .iter()
                .find(|t| {
                    ["name", "email"].iter().any(|k| {
                        t.get(*k)
                            .and_then(Value::as_str)
                            .is_some_and(|v| v.trim().eq_ignore_ascii_case(team.trim()))
                    })
                })
                .and_then(parse::record_id)
                .ok_or_else(|| {
                    Error::usage(format!(
                        "there is no team '{team}' in \"{database}\": give its id, name or e-mail as `sheetload export teams` lists them"
                    ))
                })?
        };
        query.push(("team_id".into(), id));
    }
    Ok(query)
}

/// Turns records into rows and writes them: `--where` and `--limit` count records, and a
/// record with lines (an order) is written whole or not at all, so that the file
/// imports back as the same orders.
struct Writer<'a> {
    columns: &'a [(Column, Source)],
    filters: &'a [(usize, String)],
    labels: &'a Labels,
    lines_path: Option<&'a str>,
    limit: u64,
    written: u64,
    rows: u64,
    bar: &'a indicatif::ProgressBar,
}

impl Writer<'_> {
    /// Write what passes; false once the limit is reached.
    fn records(&mut self, records: &[Value], sink: &mut dyn ExportSink) -> Result<bool> {
        for r in records {
            if self.written >= self.limit {
                return Ok(false);
            }
            let rows: Vec<Vec<Option<Cell>>> = rows_of(r, self.lines_path)
                .iter()
                .map(|row| flatten(row, self.columns, self.labels))
                .collect();
            if !rows.iter().any(|cells| passes(cells, self.filters)) {
                continue;
            }
            for cells in &rows {
                sink.row(cells)?;
            }
            self.rows += rows.len() as u64;
            self.written += 1;
            self.bar.inc(1);
        }
        Ok(self.written < self.limit)
    }
}

/// `--where column=value` as column indexes; an unknown column is a usage error
/// listing the columns.
fn where_filters(cfg: &Config, columns: &[(Column, Source)]) -> Result<Vec<(usize, String)>> {
    cfg.filters
        .iter()
        .map(|(k, v)| {
            columns
                .iter()
                .position(|(c, _)| c.header.eq_ignore_ascii_case(k))
                .map(|i| (i, v.clone()))
                .ok_or_else(|| {
                    Error::usage(format!(
                        "--where {k}=…: {} have no column {k}; columns: {}",
                        cfg.what,
                        columns
                            .iter()
                            .map(|(c, _)| c.header.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                })
        })
        .collect()
}

/// Pages fetched a few ahead, concurrently, and written in order.
async fn stream_pages(
    ctx: &std::sync::Arc<Ctx>,
    path: &str,
    query: &[(String, String)],
    what: ExportKind,
    writer: &mut Writer<'_>,
    sink: &mut dyn ExportSink,
) -> Result<()> {
    const AHEAD: u32 = 4;
    let size = ctx.client.fields().page_size.max(1);
    let fetch = |page: u32| {
        let ctx = ctx.clone();
        let path = path.to_string();
        let mut q = query.to_vec();
        let f = ctx.client.fields();
        q.push((f.page_param.clone(), page.to_string()));
        q.push((f.limit_param.clone(), size.to_string()));
        let what = what.as_str();
        tokio::spawn(async move {
            let (r, _) = ctx.idempotent(Method::GET, &path, &q, None).await;
            let r = r.map_err(|e| {
                Error::usage(format!(
                    "cannot export {what}: page {page}: {}",
                    e.describe()
                ))
            })?;
            if !r.is_success() {
                return Err(Error::usage(format!(
                    "cannot export {what}: page {page}: {}",
                    ctx.describe(&r)
                )));
            }
            Ok(parse::page(&r.json()))
        })
    };
    let mut queue: std::collections::VecDeque<_> = (1..=AHEAD).map(fetch).collect();
    let mut next = AHEAD + 1;
    let mut seen = 0u64;
    while let Some(handle) = queue.pop_front() {
        let (items, total) = handle
            .await
            .map_err(|_| Error::output("a page download stopped unexpectedly"))??;
        if let Some(t) = total {
            writer.bar.set_length(t.min(writer.limit));
        }
        let n = items.len();
        seen += n as u64;
        let more = writer.records(&items, sink)?;
        if !more
            || n < size as usize
            || n == 0
            || total.is_some_and(|t| seen >= t)
            || next > 1_000_000
        {
            for h in queue {
                h.abort();
            }
            break;
        }
        queue.push_back(fetch(next));
        next += 1;
    }
    Ok(())
}

/// The command that imports the file back, for the Summary sheet.
fn import_back(spec: &EntitySpec) -> String {
    let mode = if spec.modes.contains(&Mode::Upsert) {
        " --mode upsert"
    } else {
        ""
    };
    format!(
        "sheetload import FILE --target {} --entity {}{mode}",
        spec.target, spec.entity
    )
}

/// Products are gathered before anything is written: the number of unit column groups
/// depends on them all. Returns the records and that number (at least 1).
async fn gather_units(
    ctx: &Ctx,
    path: &str,
    query: &[(String, String)],
    spec: &EntitySpec,
) -> Result<(Option<Vec<Value>>, usize)> {
    let all = ctx
        .list_all(path, query)
        .await
        .map_err(|e| Error::usage(format!("cannot export {}: {e}", spec.entity)))?;
    let most = all
        .iter()
        .filter_map(|r| {
            spec.groups[0]
                .path
                .split('.')
                .try_fold(r, |cur, k| cur.get(k))
                .and_then(Value::as_array)
                .map(Vec::len)
        })
        .max()
        .unwrap_or(1);
    Ok((Some(all), most.max(1)))
}

/// The Summary sheet: what, from where, how many, and how to import it back.
fn summary(
    cfg: &Config,
    spec: Option<&EntitySpec>,
    conn: &connection::Connected,
    writer: &Writer<'_>,
    seconds: f64,
) -> Vec<(String, String)> {
    let mut summary: Vec<(String, String)> = vec![
        ("Export".into(), cfg.what.to_string()),
        ("From".into(), conn.base_url.clone()),
        (
            "Database".into(),
            format!("{} (id {})", conn.database.name, conn.database.id),
        ),
        ("Records".into(), writer.written.to_string()),
    ];
    if writer.lines_path.is_some() {
        summary.push(("Rows (one per line)".into(), writer.rows.to_string()));
    }
    summary.push(("Exported at".into(), now()));
    summary.push(("Seconds".into(), format!("{seconds:.2}")));
    for (k, v) in &cfg.filters {
        summary.push(("Where".into(), format!("{k} = {v}")));
    }
    if let Some(s) = spec {
        summary.push(("Import back".into(), import_back(s)));
    }
    summary.push(("sheetload".into(), env!("CARGO_PKG_VERSION").into()));
    summary
}

/// The collection to export `what` from, or why this target cannot export it.
fn export_path(
    target: &dyn crate::targets::Target,
    conn: &connection::Connected,
    what: ExportKind,
) -> Result<String> {
    let exports = target.exports();
    if exports.is_empty() {
        return Err(Error::usage(format!(
            "{} has no way to list its records, so nothing can be exported from it",
            target.label()
        )));
    }
    what.entity()
        .and_then(|e| conn.collection(e))
        .filter(|_| exports.contains(&what))
        .map(str::to_string)
        .ok_or_else(|| {
            let choices: Vec<&str> = exports.iter().map(|e| e.as_str()).collect();
            Error::usage(format!(
                "cannot export '{what}' from {}: choose {}",
                target.label(),
                choices.join(", ")
            ))
        })
}

/// `visits` → `Visits`: the sheet's name.
fn sheet_title(what: &str) -> String {
    let mut s = what.to_string();
    if let Some(first) = s.get_mut(..1) {
        first.make_ascii_uppercase();
    }
    s
}

async fn export(cfg: &Config, ui: &Printer) -> Result<u8> {
    let started = Instant::now();
    let what = cfg.what;
    let ext_ok = cfg
        .out
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("xlsx") || e.eq_ignore_ascii_case("csv"));
    if !ext_ok {
        return Err(Error::usage(format!(
            "--out {} must end in .xlsx or .csv",
            cfg.out.display()
        )));
    }
    let Some(entity) = what.entity() else {
        return export_databases(cfg, ui).await;
    };

    let (target, conn) = crate::targets::connect(cfg.target, &cfg.conn, cfg.timeout, 4, ui).await?;
    let database = conn.database.clone();
    let ctx = std::sync::Arc::new(Ctx {
        client: conn.transport.clone(),
        limiter: Limiter::new(None),
        policy: Policy::default(),
        columns: Default::default(),
        interrupted: Default::default(),
        service: target.label(),
    });
    let path = export_path(target, &conn, what)?;
    let spec = match entity {
        Entity::Teams => None,
        other => Some(spec::builtin(cfg.target, other)?),
    };
    let mut lists = Lists {
        ctx: &ctx,
        conn: &conn,
        read: Vec::new(),
    };
    // Visits and orders: date and team filters go to the server.
    let query = if matches!(entity, Entity::Visits | Entity::Orders) {
        server_query(cfg, &mut lists, &database.name).await?
    } else {
        Vec::new()
    };

    let (gathered, units) = match &spec {
        Some(s) if !s.groups.is_empty() => gather_units(&ctx, &path, &query, s).await?,
        _ => (None, 0),
    };
    let columns = match &spec {
        Some(s) => spec_columns(s, units),
        None => plain_columns(&["id", "name", "email", "role", "status"]),
    };
    let filters = where_filters(cfg, &columns)?;
    let mut labels = Labels::default();
    for (entity, by) in columns::referenced(&columns) {
        labels.add(entity, &by, lists.of(entity).await?);
    }
    drop(lists);

    let cols: Vec<Column> = columns.iter().map(|(c, _)| c.clone()).collect();
    let sheet = sheet_title(what.as_str());
    let mut sink = export::create(&cfg.out, &sheet, &cols, cfg.bom)?;
    let bar = ui.progress(None, "exporting");
    let mut writer = Writer {
        columns: &columns,
        filters: &filters,
        labels: &labels,
        lines_path: spec.as_ref().and_then(|s| s.lines_path.as_deref()),
        limit: cfg.limit.unwrap_or(u64::MAX),
        written: 0,
        rows: 0,
        bar: &bar,
    };
    match gathered {
        Some(all) => {
            writer.records(&all, sink.as_mut())?;
        }
        None => stream_pages(&ctx, &path, &query, what, &mut writer, sink.as_mut()).await?,
    }
    let written = writer.written;
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    let summary = summary(cfg, spec.as_ref(), &conn, &writer, seconds);
    let out = sink.finish(&summary)?;
    ui.summary(&[format!(
        "{} from {} → {} ({seconds:.1}s)",
        crate::ui::records(written, what.as_str()),
        conn.destination(),
        out.display()
    )]);
    ui.json(&serde_json::json!({
        "command": "export",
        "what": what,
        "records": written,
        "seconds": seconds,
        "out": out.display().to_string(),
    }));
    Ok(exit::OK)
}
