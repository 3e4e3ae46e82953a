//! `sheetload export`: teams, products, customers, visits or databases to Excel or CSV,
//! in the import template's layout plus `id`, so that export → edit → import back
//! (`--mode update` or `upsert`) is a normal workflow.
//!
//! Records are written page by page as they arrive (products are gathered first, to
//! know how many unit column groups they need), so memory does not grow with the count.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::Value;

use super::connection::{self, ConnectionArgs};
use crate::connector::parse;
use crate::connector::salesmania::SalesMania;
use crate::dispatch::{Ctx, Limiter, Policy};
use crate::error::{Error, Result, exit};
use crate::output::export::{self, Cell, Column, Kind};
use crate::spec::{self, EntitySpec, FieldType};
use crate::ui::{Printer, thousands};

/// Everything `export` needs.
#[derive(Debug, Clone)]
pub struct Config {
    /// teams, products, customers, visits or databases.
    pub what: String,
    /// `.xlsx` or `.csv`.
    pub out: PathBuf,
    /// Where from.
    pub conn: ConnectionArgs,
    /// At most this many records.
    pub limit: Option<u64>,
    /// `column=value` filters, all of which must hold (case-insensitive).
    pub filters: Vec<(String, String)>,
    /// Visits from this date (`YYYY-MM-DD`).
    pub from: Option<String>,
    /// Visits up to this date.
    pub to: Option<String>,
    /// Visits of this team (id, name or e-mail).
    pub team: Option<String>,
    /// Start a CSV with a UTF-8 BOM, for Excel.
    pub bom: bool,
    /// Per-request timeout.
    pub timeout: Duration,
    /// salesmania or fatura.
    pub target: String,
}

/// What becomes of one record field.
enum Source {
    /// A dotted path in the record, written as `kind`.
    Path(String, Kind),
    /// A list of text joined with ", " (tags), as import splits it.
    Joined(String),
    /// Member `field` of element `index` of the array at `path` (product units).
    Member(String, usize, String, Kind),
}

fn kind_of(t: FieldType) -> Kind {
    match t {
        FieldType::Integer | FieldType::Decimal | FieldType::Latitude | FieldType::Longitude => {
            Kind::Number
        }
        FieldType::Boolean => Kind::Bool,
        FieldType::Date => Kind::Date,
        _ => Kind::Text,
    }
}

/// The columns of an entity: the spec's fields in order (the id first), lat/lon rather
/// than the combined location, raw ids instead of references, and `units` groups.
fn spec_columns(spec: &EntitySpec, units: usize) -> Vec<(Column, Source)> {
    let mut out = Vec::new();
    let mut fields: Vec<_> = spec.fields.iter().collect();
    fields.sort_by_key(|f| !f.is_id);
    for f in fields {
        if f.kind == FieldType::Location || f.is_code_reference() {
            continue;
        }
        let path = if f.is_id {
            "id".to_string()
        } else {
            match &f.path {
                Some(p) => p.clone(),
                None => continue,
            }
        };
        let source = match f.kind {
            FieldType::Tags => Source::Joined(path),
            t => Source::Path(path, if f.is_id { Kind::Text } else { kind_of(t) }),
        };
        out.push((
            Column {
                header: f.name.clone(),
                kind: match &source {
                    Source::Path(_, k) => *k,
                    _ => Kind::Text,
                },
            },
            source,
        ));
    }
    for g in &spec.groups {
        for k in 0..units {
            for m in &g.fields {
                let Some(mp) = &m.path else { continue };
                let kind = kind_of(m.kind);
                out.push((
                    Column {
                        header: g.header(k + 1, &m.name),
                        kind,
                    },
                    Source::Member(g.path.clone(), k, mp.clone(), kind),
                ));
            }
        }
    }
    out
}

fn plain_columns(names: &[&str]) -> Vec<(Column, Source)> {
    names
        .iter()
        .map(|n| {
            let kind = if *n == "status" {
                Kind::Bool
            } else {
                Kind::Text
            };
            (
                Column {
                    header: n.to_string(),
                    kind,
                },
                Source::Path(n.to_string(), kind),
            )
        })
        .collect()
}

fn at<'v>(v: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('.').try_fold(v, |cur, k| cur.get(k))
}

fn typed(v: &Value, kind: Kind) -> Option<Cell> {
    match (kind, v) {
        (_, Value::Null) => None,
        (Kind::Number, Value::Number(n)) => n.as_f64().map(Cell::Number),
        (Kind::Bool, Value::Bool(b)) => Some(Cell::Bool(*b)),
        (Kind::Date, Value::String(s)) => Some(Cell::Date(s.get(..10).unwrap_or(s).to_string())),
        (_, Value::String(s)) if s.is_empty() => None,
        (_, Value::String(s)) => Some(Cell::Text(s.clone())),
        (_, other) => parse::scalar_text(other)
            .map(Cell::Text)
            .or_else(|| Some(Cell::Text(other.to_string()))),
    }
}

fn flatten(record: &Value, columns: &[(Column, Source)]) -> Vec<Option<Cell>> {
    columns
        .iter()
        .map(|(_, source)| match source {
            Source::Path(p, kind) => at(record, p).and_then(|v| typed(v, *kind)),
            Source::Joined(p) => match at(record, p) {
                Some(Value::Array(items)) if !items.is_empty() => Some(Cell::Text(
                    items
                        .iter()
                        .filter_map(parse::scalar_text)
                        .collect::<Vec<_>>()
                        .join(", "),
                )),
                Some(Value::String(s)) if !s.is_empty() => Some(Cell::Text(s.clone())),
                _ => None,
            },
            Source::Member(p, k, m, kind) => at(record, p)
                .and_then(|a| a.get(*k))
                .and_then(|u| u.get(m))
                .and_then(|v| typed(v, *kind)),
        })
        .collect()
}

/// Whether a flattened record passes every `--where`.
fn passes(cells: &[Option<Cell>], filters: &[(usize, String)]) -> bool {
    filters.iter().all(|(i, want)| {
        let have = cells[*i].as_ref().map(Cell::text).unwrap_or_default();
        have.trim().eq_ignore_ascii_case(want.trim())
    })
}

/// Run the export and return its exit code.
pub fn run(cfg: &Config, ui: &Printer) -> Result<u8> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::usage(format!("cannot start the network runtime: {e}")))?
        .block_on(export(cfg, ui))
}

async fn export(cfg: &Config, ui: &Printer) -> Result<u8> {
    let started = Instant::now();
    let what = cfg.what.as_str();
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
    if what == "databases" {
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
            (
                "Exported at".into(),
                chrono::Local::now()
                    .format("%Y-%m-%d %H:%M:%S %z")
                    .to_string(),
            ),
        ])?;
        ui.summary(&[format!("{} databases → {}", dbs.len(), path.display())]);
        return Ok(exit::OK);
    }

    let conn = connection::connect_target(&cfg.conn, &cfg.target, cfg.timeout, 4, ui).await?;
    let database = conn.database.clone();
    let ctx = std::sync::Arc::new(Ctx {
        client: conn.transport.clone(),
        limiter: Limiter::new(None),
        policy: Policy::default(),
        columns: Default::default(),
    });
    if cfg.target == "trackfinity" {
        return Err(Error::usage(
            "Trackfinity has no way to list customers, so they cannot be exported",
        ));
    }
    let path = conn.collection(what).map(str::to_string).ok_or_else(|| {
        Error::usage(format!(
            "cannot export '{what}' from {}: choose {}",
            cfg.target,
            if cfg.target == "salesmania" {
                "teams, products, customers, visits or databases"
            } else {
                "customers"
            }
        ))
    })?;
    let spec = match what {
        "teams" => None,
        other => Some(spec::builtin(&cfg.target, other)?),
    };

    // Visits: date and team filters go to the server.
    let mut query: Vec<(String, String)> = Vec::new();
    if what == "visits" {
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
                let teams = ctx
                    .list_all(conn.collection("teams").unwrap_or_default(), &[])
                    .await
                    .map_err(|e| Error::usage(format!("cannot look the team up: {e}")))?;
                teams
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
                            "there is no team '{team}' in \"{}\"",
                            database.name
                        ))
                    })?
            };
            query.push(("team_id".into(), id));
        }
    }

    // Products are gathered first: the number of unit column groups depends on them all.
    let mut gathered: Option<Vec<Value>> = None;
    let units = match &spec {
        Some(s) if !s.groups.is_empty() => {
            let all = ctx
                .list_all(&path, &query)
                .await
                .map_err(|e| Error::usage(format!("cannot export {what}: {e}")))?;
            let most = all
                .iter()
                .filter_map(|r| {
                    at(r, &s.groups[0].path)
                        .and_then(Value::as_array)
                        .map(Vec::len)
                })
                .max()
                .unwrap_or(1);
            gathered = Some(all);
            most.max(1)
        }
        _ => 0,
    };
    let columns = match &spec {
        Some(s) => spec_columns(s, units),
        None => plain_columns(&["id", "name", "email", "role", "status"]),
    };
    let filters: Vec<(usize, String)> = cfg
        .filters
        .iter()
        .map(|(k, v)| {
            columns
                .iter()
                .position(|(c, _)| c.header.eq_ignore_ascii_case(k))
                .map(|i| (i, v.clone()))
                .ok_or_else(|| {
                    Error::usage(format!(
                        "--where {k}=…: {what} have no column {k}; columns: {}",
                        columns
                            .iter()
                            .map(|(c, _)| c.header.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                })
        })
        .collect::<Result<_>>()?;
    let cols: Vec<Column> = columns.iter().map(|(c, _)| c.clone()).collect();
    let sheet = {
        let mut s = what.to_string();
        if let Some(first) = s.get_mut(..1) {
            first.make_ascii_uppercase();
        }
        s
    };
    let mut sink = export::create(&cfg.out, &sheet, &cols, cfg.bom)?;
    let bar = ui.progress(None, "exporting");
    let mut written = 0u64;
    let mut seen = 0u64;
    let limit = cfg.limit.unwrap_or(u64::MAX);
    let mut write = |records: &[Value], sink: &mut Box<dyn export::ExportSink>| -> Result<bool> {
        for r in records {
            let cells = flatten(r, &columns);
            if !passes(&cells, &filters) {
                continue;
            }
            if written >= limit {
                return Ok(false);
            }
            sink.row(&cells)?;
            written += 1;
            bar.inc(1);
        }
        Ok(written < limit)
    };
    match gathered {
        Some(all) => {
            write(&all, &mut sink)?;
        }
        None => {
            // Pages are fetched a few ahead, concurrently, and written in order.
            const AHEAD: u32 = 4;
            let size = ctx.client.fields().page_size.max(1);
            let fetch = |page: u32| {
                let ctx = ctx.clone();
                let path = path.clone();
                let mut q = query.clone();
                let f = ctx.client.fields();
                q.push((f.page_param.clone(), page.to_string()));
                q.push((f.limit_param.clone(), size.to_string()));
                let what = what.to_string();
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
            while let Some(handle) = queue.pop_front() {
                let (items, total) = handle
                    .await
                    .map_err(|_| Error::output("a page download stopped unexpectedly"))??;
                if let Some(t) = total {
                    bar.set_length(t.min(limit));
                }
                let n = items.len();
                seen += n as u64;
                let more = write(&items, &mut sink)?;
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
        }
    }
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    let mut summary: Vec<(String, String)> = vec![
        ("Export".into(), what.into()),
        ("From".into(), conn.base_url.clone()),
        (
            "Database".into(),
            format!("{} (id {})", database.name, database.id),
        ),
        ("Records".into(), written.to_string()),
        (
            "Exported at".into(),
            chrono::Local::now()
                .format("%Y-%m-%d %H:%M:%S %z")
                .to_string(),
        ),
        ("Seconds".into(), format!("{seconds:.2}")),
    ];
    for (k, v) in &cfg.filters {
        summary.push(("Where".into(), format!("{k} = {v}")));
    }
    if spec.is_some() {
        summary.push((
            "Import back".into(),
            format!(
                "sheetload import FILE --target {} --entity {what} --mode upsert",
                cfg.target
            ),
        ));
    }
    summary.push(("sheetload".into(), env!("CARGO_PKG_VERSION").into()));
    let out = sink.finish(&summary)?;
    ui.summary(&[format!(
        "{} {what} from \"{}\" (db {}) → {} ({seconds:.1}s)",
        thousands(written),
        database.name,
        database.id,
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn customers_flatten_to_the_import_layout() {
        let spec = spec::builtin("salesmania", "customers").unwrap();
        let cols = spec_columns(&spec, 0);
        let headers: Vec<&str> = cols.iter().map(|(c, _)| c.header.as_str()).collect();
        assert_eq!(
            headers,
            [
                "id",
                "ext_cust_no",
                "name",
                "address",
                "city",
                "phone",
                "latitude",
                "longitude",
                "status",
                "tags"
            ]
        );
        let rec = json!({"id": 7, "ext_cust_no": "007", "name": "Toko", "phone": "0812", "location": {"lat": -7.1, "lon": 110.4}, "status": false, "tags": ["a", "b"]});
        let cells = flatten(&rec, &cols);
        assert_eq!(cells[0], Some(Cell::Text("7".into())));
        assert_eq!(cells[1], Some(Cell::Text("007".into())));
        assert_eq!(cells[6], Some(Cell::Number(-7.1)));
        assert_eq!(cells[8], Some(Cell::Bool(false)));
        assert_eq!(cells[9], Some(Cell::Text("a, b".into())));
        assert_eq!(cells[3], None);
    }

    #[test]
    fn products_get_unit_groups() {
        let spec = spec::builtin("salesmania", "products").unwrap();
        let cols = spec_columns(&spec, 2);
        let headers: Vec<&str> = cols.iter().map(|(c, _)| c.header.as_str()).collect();
        assert!(headers.ends_with(&[
            "unit_name",
            "unit_price",
            "unit_ratio",
            "unit2_name",
            "unit2_price",
            "unit2_ratio"
        ]));
        let rec = json!({"id": 1, "name": "Teh", "product_units": [{"name": "PCS", "price": 5000, "ratio": 1}]});
        let cells = flatten(&rec, &cols);
        let n = cells.len();
        assert_eq!(cells[n - 6], Some(Cell::Text("PCS".into())));
        assert_eq!(cells[n - 5], Some(Cell::Number(5000.0)));
        assert_eq!(cells[n - 3], None);
    }
}
