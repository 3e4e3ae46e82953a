//! Orders: rows grouped by `ext_order_no` (or `--group-by`) into one order each, its
//! lines from the group's rows; references by code (customer, team, product, unit) are
//! resolved first, and a group that fails, fails as a whole. `--mode update` pushes an
//! ERP's status label (`ext_order_status_name`) to existing orders.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use reqwest::Method;
use serde_json::{Map, Value};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::connection;
use super::import::Config;
use super::report::{Finished, report};
use super::validate::Prepared;
use crate::connector::parse::{record_id, scalar_text};
use crate::dispatch::{Ctx, Done, Limiter};
use crate::error::{Error, Result};
use crate::input::RawRow;
use crate::ledger::{self, Ledger, NewRun, PendingRow, RowOutcome, RunState, Scope};
use crate::output::Status;
use crate::output::result::Outcome;
use crate::payload::Resolver;
use crate::spec::Mode;
use crate::ui::Printer;
use crate::validate::{RowResult, Validator, set_path};

/// One order being assembled from its rows.
struct Group {
    key: String,
    rows: Vec<usize>,
}

/// Products by id, for unit names and prices.
struct Products {
    by_id: HashMap<String, Value>,
}

impl Products {
    /// The product's unit with this name (case-insensitive): (server spelling, price).
    fn unit(
        &self,
        product: &str,
        unit: &str,
    ) -> std::result::Result<(String, Option<Value>), String> {
        let Some(p) = self.by_id.get(product) else {
            return Err(format!("there is no product {product} in this database"));
        };
        let units: Vec<&Value> = p
            .get("product_units")
            .and_then(Value::as_array)
            .map(|a| a.iter().collect())
            .unwrap_or_default();
        let found = units.iter().find(|u| {
            u.get("name")
                .and_then(Value::as_str)
                .is_some_and(|n| n.trim().to_lowercase() == unit.trim().to_lowercase())
        });
        match found {
            Some(u) => Ok((
                u.get("name")
                    .and_then(Value::as_str)
                    .unwrap_or(unit)
                    .to_string(),
                u.get("price").filter(|v| !v.is_null()).cloned(),
            )),
            None => {
                let names: Vec<&str> = units
                    .iter()
                    .filter_map(|u| u.get("name").and_then(Value::as_str))
                    .collect();
                let label = p
                    .get("ext_product_code")
                    .and_then(scalar_text)
                    .unwrap_or_else(|| product.to_string());
                Err(format!(
                    "'{unit}' is not a unit of product {label}; its units are {}",
                    names.join(", ")
                ))
            }
        }
    }
}

fn outcome(status: Status, action: &str, error: String) -> Outcome {
    Outcome {
        status: Some(status),
        action: Some(action.into()),
        error,
        ..Outcome::default()
    }
}

/// Record a finished request's outcome on every row it covered, in the ledger at once
/// (so a rerun after a crash knows the order exists).
fn settle(
    (members, action, done): (Vec<usize>, String, Done),
    rows: &[RawRow],
    results: &[RowResult],
    outcomes: &mut HashMap<u32, Outcome>,
    ledger: &mut Ledger,
    run: Option<i64>,
) -> Result<()> {
    let mut records = Vec::new();
    for i in members {
        let o = Outcome {
            status: done.status,
            action: Some(action.clone()),
            id: done.id.clone(),
            http: done.http,
            error: done.error.clone(),
            attempts: Some(done.attempts),
            ..Outcome::default()
        };
        if let Some(status) = o.status {
            records.push(RowOutcome {
                row: rows[i].number,
                key: results[i].key.clone(),
                action: action.clone(),
                status,
                remote_id: o.id.clone(),
                http: o.http,
                error: o.error.clone(),
                attempts: done.attempts,
            });
        }
        outcomes.insert(rows[i].number, o);
    }
    if let Some(run) = run {
        ledger.record(run, &records)?;
    }
    Ok(())
}

/// Mark rows as being sent, before their request leaves.
fn mark_sending(
    ledger: &mut Ledger,
    run: Option<i64>,
    members: &[usize],
    rows: &[RawRow],
    key: Option<&str>,
    action: &str,
    body: &Value,
) -> Result<()> {
    let Some(run) = run else { return Ok(()) };
    let hash = ledger::payload_hash(body.to_string().as_bytes());
    let pending: Vec<PendingRow> = members
        .iter()
        .map(|&i| PendingRow {
            row: rows[i].number,
            key: key.map(str::to_string),
            action: action.to_string(),
            payload_hash: hash.clone(),
        })
        .collect();
    ledger.mark_sending(run, &pending)
}

/// Import an orders sheet (create or update) and write the result workbook.
pub async fn import(cfg: Config, ui: &Printer, prepared: Prepared) -> Result<u8> {
    let started = Instant::now();
    let spec = &prepared.spec;
    let mode = cfg.base.mode;
    let (client, _sandbox) =
        connection::connect(&cfg.conn, cfg.timeout, cfg.policy.concurrency, ui).await?;
    let database = client.database().clone();
    let path = client
        .paths()
        .collection("orders")
        .map(str::to_string)
        .unwrap_or_else(|| spec.endpoint.clone());
    let ctx = Arc::new(Ctx {
        client: client.clone(),
        limiter: Limiter::new(cfg.policy.rate),
        policy: cfg.policy.clone(),
        columns: HashMap::new(),
    });

    // References: customers, teams and products as far as the sheet uses them.
    let mut resolver = Resolver::default();
    for (i, f) in spec.fields.iter().enumerate() {
        let (Some(r), true) = (&f.resolve, prepared.mapping.fields[i].is_bound()) else {
            continue;
        };
        let Some(rpath) = client.paths().collection(&r.entity) else {
            continue;
        };
        let records = ctx
            .list_all(rpath, &[])
            .await
            .map_err(|e| Error::usage(format!("cannot resolve {} references: {e}", r.entity)))?;
        resolver.add(&r.entity, &r.by, &records);
    }
    let products = if mode == Mode::Create {
        let records = ctx
            .list_all(&client.paths().products, &[])
            .await
            .map_err(|e| Error::usage(format!("cannot read the products: {e}")))?;
        Products {
            by_id: records
                .into_iter()
                .filter_map(|r| record_id(&r).map(|id| (id, r)))
                .collect(),
        }
    } else {
        Products {
            by_id: HashMap::new(),
        }
    };

    // Orders sheetload created before (there is no order search): ext_order_no → id.
    let mut ledger = Ledger::open(&ledger::default_home())?;
    let scope = Scope {
        target: spec.target.clone(),
        base_url: client.base_url().to_string(),
        database_id: Some(database.id.clone()),
        entity: spec.entity.clone(),
    };
    let known = ledger.known_ids(&scope)?;

    // Every row, validated; orders sheets are small enough to hold.
    let validator = Validator::new(
        spec,
        &prepared.mapping,
        &prepared.table,
        mode,
        cfg.base.parse.clone(),
        None,
    );
    let mut rows: Vec<RawRow> = Vec::new();
    for r in prepared.table.rows()? {
        rows.push(r?);
    }
    let results: Vec<RowResult> = rows.iter().map(|r| validator.validate(r)).collect();
    let mut outcomes: HashMap<u32, Outcome> = HashMap::new();
    let mut payloads: HashMap<u32, String> = HashMap::new();

    let run_id = if cfg.dry_run {
        None
    } else {
        Some(ledger.begin_run(&NewRun {
            target: spec.target.clone(),
            base_url: client.base_url().to_string(),
            database_id: Some(database.id.clone()),
            database_name: Some(database.name.clone()),
            entity: spec.entity.clone(),
            mode: mode.to_string(),
            input_path: cfg.base.input.display().to_string(),
            input_fingerprint: ledger::file_fingerprint(&cfg.base.input)?,
            sheet: (!prepared.table.sheets.is_empty()).then(|| prepared.table.sheet.clone()),
            config_json: super::import::stored_options(&cfg),
            total_rows: rows.len() as u64,
        })?)
    };

    let dispatch_started = Instant::now();
    let sem = Arc::new(Semaphore::new(cfg.policy.concurrency.max(1)));
    // (row indexes, action, done)
    let mut tasks: JoinSet<(Vec<usize>, String, Done)> = JoinSet::new();

    if mode == Mode::Update {
        for (i, res) in results.iter().enumerate() {
            let number = rows[i].number;
            if !res.is_valid() {
                outcomes.insert(number, outcome(Status::Invalid, "update", res.error_text()));
                continue;
            }
            let id = res
                .id
                .map(|id| id.to_string())
                .or_else(|| res.key.as_ref().and_then(|k| known.get(k).cloned()));
            let Some(id) = id else {
                outcomes.insert(
                    number,
                    outcome(
                        Status::Failed,
                        "update",
                        format!(
                            "no order with ext_order_no '{}' is known to sheetload's ledger; give the SalesMania order id in an id column",
                            res.key.clone().unwrap_or_default()
                        ),
                    ),
                );
                continue;
            };
            let mut body = Map::new();
            if let Some(v) = res.payload.get("ext_order_status_name") {
                body.insert("ext_order_status_name".into(), v.clone());
            }
            if cfg.dry_run {
                payloads.insert(number, Value::Object(body).to_string());
                let mut o = outcome(Status::Valid, "update", String::new());
                o.id = Some(id);
                outcomes.insert(number, o);
                continue;
            }
            let body = Value::Object(body);
            mark_sending(
                &mut ledger,
                run_id,
                &[i],
                &rows,
                res.key.as_deref(),
                "update",
                &body,
            )?;
            let permit = sem
                .clone()
                .acquire_owned()
                .await
                .map_err(|_| Error::output("dispatch stopped unexpectedly"))?;
            while let Some(finished) = tasks.try_join_next() {
                if let Ok(f) = finished {
                    settle(f, &rows, &results, &mut outcomes, &mut ledger, run_id)?;
                }
            }
            let ctx = ctx.clone();
            let url = format!("{path}/{id}");
            tasks.spawn(async move {
                let mut done = ctx.change(Method::PATCH, &url, Some(&body), None).await;
                done.id = Some(id);
                drop(permit);
                (vec![i], "update".to_string(), done)
            });
        }
    } else {
        // Group the rows by their order number, in order of first appearance.
        let group_field = spec
            .group_by
            .clone()
            .unwrap_or_else(|| "ext_order_no".into());
        let gf = spec.fields.iter().position(|f| f.name == group_field);
        let mut groups: Vec<Group> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        for (i, res) in results.iter().enumerate() {
            let key = gf
                .and_then(|g| prepared.mapping.fields[g].column)
                .map(|c| rows[i].cells[c].text.trim().to_string())
                .or_else(|| res.key.clone())
                .unwrap_or_default();
            if key.is_empty() {
                outcomes.insert(
                    rows[i].number,
                    outcome(
                        Status::Invalid,
                        "create",
                        if res.is_valid() {
                            format!(
                                "{group_field} is empty: it says which order the line belongs to"
                            )
                        } else {
                            res.error_text()
                        },
                    ),
                );
                continue;
            }
            let g = *index.entry(key.clone()).or_insert_with(|| {
                groups.push(Group {
                    key: key.clone(),
                    rows: Vec::new(),
                });
                groups.len() - 1
            });
            groups[g].rows.push(i);
        }
        let lines_path = spec
            .lines_path
            .clone()
            .unwrap_or_else(|| "ordered_products".into());
        for group in groups {
            let numbers: Vec<u32> = group.rows.iter().map(|&i| rows[i].number).collect();
            let fail_all = |outcomes: &mut HashMap<u32, Outcome>,
                            status: Status,
                            why: &str,
                            own: &dyn Fn(usize) -> String| {
                for &i in &group.rows {
                    let mine = own(i);
                    let text = if mine.is_empty() {
                        why.to_string()
                    } else {
                        format!("{mine}; {why}")
                    };
                    outcomes.insert(rows[i].number, outcome(status, "create", text));
                }
            };
            let list = numbers
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(", ");
            let order_label = format!("order {} (rows {list})", group.key);
            // 1. Row errors make the whole order invalid.
            if group.rows.iter().any(|&i| !results[i].is_valid()) {
                let bad: Vec<String> = group
                    .rows
                    .iter()
                    .filter(|&&i| !results[i].is_valid())
                    .map(|&i| rows[i].number.to_string())
                    .collect();
                fail_all(
                    &mut outcomes,
                    Status::Invalid,
                    &format!(
                        "{order_label} is not sent: row {} has errors",
                        bad.join(", ")
                    ),
                    &|i| results[i].error_text(),
                );
                continue;
            }
            // 2. The order's own fields must agree across its rows.
            let mut conflicts = Vec::new();
            for (fi, f) in spec.fields.iter().enumerate() {
                if f.line || f.is_id {
                    continue;
                }
                let Some(col) = prepared.mapping.fields[fi].column else {
                    continue;
                };
                let mut seen: Vec<(u32, String)> = Vec::new();
                for &i in &group.rows {
                    let t = rows[i].cells[col].text.trim().to_string();
                    if !t.is_empty() && !seen.iter().any(|(_, v)| *v == t) {
                        seen.push((rows[i].number, t));
                    }
                }
                if seen.len() > 1 {
                    conflicts.push(format!(
                        "column {} differs between rows: {}",
                        prepared.table.column_name(col),
                        seen.iter()
                            .map(|(n, v)| format!("row {n} '{v}'"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
            }
            if !conflicts.is_empty() {
                fail_all(
                    &mut outcomes,
                    Status::Invalid,
                    &format!("{order_label} is not sent: {}", conflicts.join("; ")),
                    &|_| String::new(),
                );
                continue;
            }
            // 3. Assemble: the order's fields from its rows, one line per row.
            let mut body = Map::new();
            let mut line_errors: Vec<(usize, String)> = Vec::new();
            let mut lines = Vec::new();
            for &i in &group.rows {
                let res = &results[i];
                let mut payload = res.payload.clone();
                for r in crate::payload::effective_refs(&res.refs) {
                    match resolver.resolve(&r.entity, &r.by, &r.value) {
                        Some(id) => {
                            let v = id
                                .parse::<i64>()
                                .map(Value::from)
                                .unwrap_or_else(|_| Value::String(id.to_string()));
                            set_path(&mut payload, &r.path, v);
                        }
                        None => line_errors.push((
                            i,
                            format!(
                                "{}: no {} with {} '{}' in this database",
                                r.column,
                                r.entity.trim_end_matches('s'),
                                r.by.join(" or "),
                                r.value
                            ),
                        )),
                    }
                }
                let mut line = match payload.remove("line") {
                    Some(Value::Object(l)) => l,
                    _ => Map::new(),
                };
                for (k, v) in payload {
                    body.entry(k).or_insert(v);
                }
                let product = line.get("product_id").and_then(scalar_text);
                let unit = line.get("unit").and_then(Value::as_str).map(str::to_string);
                if let (Some(p), Some(u)) = (product, unit) {
                    match products.unit(&p, &u) {
                        Ok((name, price)) => {
                            line.insert("unit".into(), Value::String(name));
                            if !line.contains_key("price")
                                && let Some(price) = price
                            {
                                line.insert("price".into(), price);
                            }
                        }
                        Err(e) => line_errors.push((i, e)),
                    }
                }
                lines.push(Value::Object(line));
            }
            if !line_errors.is_empty() {
                let mine: HashMap<usize, Vec<String>> =
                    line_errors.iter().fold(HashMap::new(), |mut m, (i, e)| {
                        m.entry(*i).or_default().push(e.clone());
                        m
                    });
                let bad: Vec<String> = mine.keys().map(|&i| rows[i].number.to_string()).collect();
                fail_all(
                    &mut outcomes,
                    Status::Invalid,
                    &format!(
                        "{order_label} is not sent: row {} cannot be resolved",
                        bad.join(", ")
                    ),
                    &|i| mine.get(&i).map(|v| v.join("; ")).unwrap_or_default(),
                );
                continue;
            }
            body.insert(lines_path.clone(), Value::Array(lines));
            // 4. Never create the same order twice.
            if let Some(id) = known.get(&group.key) {
                for &i in &group.rows {
                    let mut o = outcome(
                        Status::Skipped,
                        "skip",
                        format!(
                            "order {} was already created as {id} by an earlier run; not sent again",
                            group.key
                        ),
                    );
                    o.id = Some(id.clone());
                    outcomes.insert(rows[i].number, o);
                }
                continue;
            }
            if cfg.dry_run {
                let shown = Value::Object(body.clone()).to_string();
                for &i in &group.rows {
                    payloads.insert(rows[i].number, shown.clone());
                    outcomes.insert(
                        rows[i].number,
                        outcome(Status::Valid, "create", String::new()),
                    );
                }
                continue;
            }
            let body = Value::Object(body);
            mark_sending(
                &mut ledger,
                run_id,
                &group.rows,
                &rows,
                Some(&group.key),
                "create",
                &body,
            )?;
            let permit = sem
                .clone()
                .acquire_owned()
                .await
                .map_err(|_| Error::output("dispatch stopped unexpectedly"))?;
            while let Some(finished) = tasks.try_join_next() {
                if let Ok(f) = finished {
                    settle(f, &rows, &results, &mut outcomes, &mut ledger, run_id)?;
                }
            }
            let ctx = ctx.clone();
            let path = path.clone();
            let members = group.rows.clone();
            tasks.spawn(async move {
                // No order search exists, so an unknown outcome cannot be looked up:
                // it ends UNKNOWN rather than risk a duplicate.
                let done = ctx.create(&path, &body, None, None).await;
                drop(permit);
                (members, "create".to_string(), done)
            });
        }
    }

    while let Some(joined) = tasks.join_next().await {
        if let Ok(finished) = joined {
            settle(
                finished,
                &rows,
                &results,
                &mut outcomes,
                &mut ledger,
                run_id,
            )?;
        }
    }
    let dispatch_seconds = dispatch_started.elapsed().as_secs_f64();

    if let Some(run) = run_id {
        let records: Vec<RowOutcome> = rows
            .iter()
            .zip(&results)
            .filter_map(|(raw, res)| {
                let o = outcomes.get(&raw.number)?;
                Some(RowOutcome {
                    row: raw.number,
                    key: res.key.clone(),
                    action: o.action.clone().unwrap_or_default(),
                    status: o.status?,
                    remote_id: o.id.clone(),
                    http: o.http,
                    error: o.error.clone(),
                    attempts: o.attempts.unwrap_or(0),
                })
            })
            .collect();
        ledger.record(run, &records)?;
        ledger.finish_run(run, RunState::Completed)?;
    }
    report(
        &Finished {
            cfg: &cfg,
            prepared: &prepared,
            run_id,
            state: RunState::Completed,
            started,
            dispatch_seconds,
            base_url: client.base_url(),
            database: &database,
            interrupted: false,
            stop_reason: None,
            problem: None,
        },
        outcomes,
        payloads,
        ui,
    )
}
