//! Orders: rows grouped by `ext_order_no` (or `--group-by`) into one order each, its
//! lines from the group's rows; references by code (customer, team, product, unit) are
//! resolved first, and a group that fails, fails as a whole. `--mode update` pushes an
//! ERP's status label (`ext_order_status_name`) to existing orders.

use std::collections::HashMap;

use reqwest::Method;
use serde_json::{Map, Value};

use crate::connection::Connected;
use crate::connector::parse::{record_id, scalar_text};
use crate::dispatch::Ctx;
use crate::engine::job::{Job, Request, RequestBody, RowPlanner, Step};
use crate::engine::prepare::Prepared;
use crate::error::{Error, Result};
use crate::input::{RawRow, Table};
use crate::ledger::{self, Ledger, Scope};
use crate::mapping::Mapping;
use crate::output::Status;
use crate::output::result::Outcome;
use crate::payload::{Action, Resolver};
use crate::spec::Verb;
use crate::spec::{Entity, EntitySpec, Mode};
use crate::validate::RowResult;

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

fn outcome(status: Status, action: Verb, error: String) -> Outcome {
    Outcome {
        status: Some(status),
        action: Some(action),
        error,
        ..Outcome::default()
    }
}

/// Orders as jobs for the dispatch loop: in create mode the rows are held until the
/// sheet is read (a group's rows may be far apart), then each group becomes one POST;
/// in update mode each row is one PATCH of its order's status label.
pub struct Grouped<'a> {
    spec: &'a EntitySpec,
    mapping: &'a Mapping,
    table: &'a Table,
    mode: Mode,
    path: String,
    resolver: Resolver,
    products: Products,
    /// Orders sheetload created before, as its ledger remembers them: order key → id.
    /// Only a memory: the server's listing ([`Grouped::on_server`]) decides.
    known: HashMap<String, String>,
    /// The server's orders, read once: ext_order_no → id.
    on_server: HashMap<String, String>,
    /// The server's orders' status labels (`ext_order_status_name`), by id.
    status_by_id: HashMap<String, Option<String>>,
    /// Whether the server's orders could be listed (an API without an order list
    /// answers 404/405): if not, the ledger decides and nothing is looked up.
    listed: bool,
    held: Vec<(RawRow, RowResult)>,
}

/// Why the ledger decided which orders exist.
const UNLISTED: &str = "the server's orders could not be listed (GET on the order list answered 404/405), so the ledger's memory decided which orders were already created, and a create whose answer is lost cannot be looked up (it ends UNKNOWN)";

impl<'a> Grouped<'a> {
    /// Read what the orders refer to (customers, teams, products as far as the sheet uses
    /// them) and what the ledger knows of earlier runs' orders.
    pub async fn new(
        prepared: &'a Prepared,
        mode: Mode,
        ctx: &Ctx,
        conn: &Connected,
    ) -> Result<Grouped<'a>> {
        let spec = &prepared.spec;
        let path = conn
            .collection(Entity::Orders)
            .map(str::to_string)
            .unwrap_or_else(|| spec.endpoint.clone());
        let (resolver, mut lists) = crate::engine::references(ctx, conn, prepared).await?;
        let mut by_id = HashMap::new();
        if mode == Mode::Create
            && let Some(ppath) = conn.collection(Entity::Products)
        {
            let records = match lists.remove(&Entity::Products) {
                Some(r) => r,
                None => ctx
                    .list_all(ppath, &[])
                    .await
                    .map_err(|e| Error::usage(format!("cannot read the products: {e}")))?,
            };
            by_id = records
                .into_iter()
                .filter_map(|r| record_id(&r).map(|id| (id, r)))
                .collect();
        }
        let mut on_server = HashMap::new();
        let mut status_by_id = HashMap::new();
        let listing = ctx
            .list_each(&path, &[], |page| {
                for order in page {
                    let Some(id) = record_id(&order) else {
                        continue;
                    };
                    if let Some(no) = order.get("ext_order_no").and_then(scalar_text) {
                        on_server.insert(no.trim().to_string(), id.clone());
                    }
                    let status = order.get("ext_order_status_name").and_then(scalar_text);
                    status_by_id.insert(id, status);
                }
            })
            .await;
        // The vendor documents no order list: where the server has none, the ledger's
        // memory decides, and a lost create cannot be looked up (UNKNOWN).
        let listed = match listing {
            Ok(()) => true,
            Err(e) if e.contains("failed: HTTP 404") || e.contains("failed: HTTP 405") => {
                eprintln!("note: {UNLISTED}");
                false
            }
            Err(e) => return Err(Error::usage(format!("cannot plan the import: {e}"))),
        };
        let ledger = Ledger::open(&ledger::default_home())?;
        let known = ledger.known_ids(&Scope {
            target: spec.target,
            base_url: conn.base_url.clone(),
            database_id: Some(conn.database.id.clone()),
            entity: spec.entity,
        })?;
        Ok(Grouped {
            spec,
            mapping: &prepared.mapping,
            table: &prepared.table,
            mode,
            path,
            resolver,
            products: Products { by_id },
            known,
            on_server,
            status_by_id,
            listed,
            held: Vec::new(),
        })
    }

    /// `--mode update`: the order's status label, by id or by the order number on the
    /// server; a label the order already has is not sent.
    fn update(&self, res: &RowResult) -> Step {
        let number = res.number;
        if !res.is_valid() {
            return settle(
                number,
                res,
                outcome(Status::Invalid, Verb::Update, res.error_text()),
            );
        }
        let id = res.id.map(|id| id.to_string()).or_else(|| {
            res.key
                .as_ref()
                .and_then(|k| self.on_server.get(k.trim()).cloned())
        });
        let Some(id) = id else {
            return settle(
                number,
                res,
                outcome(
                    Status::Failed,
                    Verb::Update,
                    format!(
                        "no order with ext_order_no '{}' on the server; check the order number, or give the SalesMania order id in an id column",
                        res.key.clone().unwrap_or_default()
                    ),
                ),
            );
        };
        let mut body = Map::new();
        let wanted = res.payload.get("ext_order_status_name");
        if let Some(v) = wanted {
            body.insert("ext_order_status_name".into(), v.clone());
        }
        let body = Value::Object(body);
        let now = self.status_by_id.get(&id).cloned().flatten();
        let unchanged = now.is_some() && wanted.and_then(scalar_text) == now;
        let action = if unchanged {
            Action::Skip {
                id: Some(id.clone()),
                reason: format!(
                    "unchanged: order {id} already has ext_order_status_name '{}'",
                    now.unwrap_or_default()
                ),
            }
        } else {
            Action::Update { id: id.clone() }
        };
        Step::Send(Job {
            rows: vec![number],
            key: res.key.clone(),
            lookup: None,
            word: action.word(),
            action,
            request: (!unchanged).then(|| Request {
                method: Method::PATCH,
                path: format!("{}/{id}", self.path),
                body: RequestBody::Json(body.clone()),
            }),
            note: String::new(),
            changes: String::new(),
            sequence: None,
            shown: body.to_string(),
        })
    }

    /// The rows of every order, in order of first appearance; a row without an order
    /// number is INVALID at once.
    fn groups(&self, out: &mut Vec<Step>) -> Vec<Group> {
        let group_field = self
            .spec
            .group_by
            .clone()
            .unwrap_or_else(|| "ext_order_no".into());
        let gf = self.spec.fields.iter().position(|f| f.name == group_field);
        let mut groups: Vec<Group> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        for (i, (raw, res)) in self.held.iter().enumerate() {
            let key = gf
                .and_then(|g| self.mapping.fields[g].column)
                .map(|c| raw.cells[c].text.trim().to_string())
                .or_else(|| res.key.clone())
                .unwrap_or_default();
            if key.is_empty() {
                let why = if res.is_valid() {
                    format!("{group_field} is empty: it says which order the line belongs to")
                } else {
                    res.error_text()
                };
                out.push(settle(
                    raw.number,
                    res,
                    outcome(Status::Invalid, Verb::Create, why),
                ));
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
        groups
    }

    /// Every row of `group` fails with the group's reason, after its own.
    fn fail_all(
        &self,
        group: &Group,
        why: &str,
        own: &dyn Fn(usize) -> String,
        out: &mut Vec<Step>,
    ) {
        let rows = group
            .rows
            .iter()
            .map(|&i| {
                let (raw, res) = &self.held[i];
                let mine = own(i);
                let text = if mine.is_empty() {
                    why.to_string()
                } else {
                    format!("{mine}; {why}")
                };
                (
                    raw.number,
                    res.key.clone(),
                    outcome(Status::Invalid, Verb::Create, text),
                )
            })
            .collect();
        out.push(Step::SettleAll(rows));
    }

    /// Columns of the order's own fields whose values differ between its rows.
    fn conflicts(&self, group: &Group) -> Vec<String> {
        let mut conflicts = Vec::new();
        for (fi, f) in self.spec.fields.iter().enumerate() {
            if f.line || f.is_id {
                continue;
            }
            let Some(col) = self.mapping.fields[fi].column else {
                continue;
            };
            let mut seen: Vec<(u32, String)> = Vec::new();
            for &i in &group.rows {
                let raw = &self.held[i].0;
                let t = raw.cells[col].text.trim().to_string();
                if !t.is_empty() && !seen.iter().any(|(_, v)| *v == t) {
                    seen.push((raw.number, t));
                }
            }
            if seen.len() > 1 {
                conflicts.push(format!(
                    "column {} differs between rows: {}",
                    self.table.column_name(col),
                    seen.iter()
                        .map(|(n, v)| format!("row {n} '{v}'"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
        }
        conflicts
    }

    /// The order's body from its rows (one line per row), or each row's reasons.
    fn assemble(
        &self,
        group: &Group,
    ) -> std::result::Result<Map<String, Value>, Vec<(usize, String)>> {
        let mut body = Map::new();
        let mut errors: Vec<(usize, String)> = Vec::new();
        let mut lines = Vec::new();
        for &i in &group.rows {
            let res = &self.held[i].1;
            let mut payload =
                match crate::payload::apply_refs(&self.resolver, res.payload.to_map(), &res.refs) {
                    Ok(p) => p,
                    Err(missing) => {
                        errors.extend(missing.into_iter().map(|m| (i, m)));
                        res.payload.to_map()
                    }
                };
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
                match self.products.unit(&p, &u) {
                    Ok((name, price)) => {
                        line.insert("unit".into(), Value::String(name));
                        if !line.contains_key("price")
                            && let Some(price) = price
                        {
                            line.insert("price".into(), price);
                        }
                    }
                    Err(e) => errors.push((i, e)),
                }
            }
            lines.push(Value::Object(line));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let lines_path = self
            .spec
            .lines_path
            .clone()
            .unwrap_or_else(|| "ordered_products".into());
        body.insert(lines_path, Value::Array(lines));
        Ok(body)
    }

    /// One order: INVALID as a whole, SKIPPED when an earlier run created it, or a POST.
    fn order(&self, group: &Group, out: &mut Vec<Step>) {
        let numbers: Vec<u32> = group.rows.iter().map(|&i| self.held[i].0.number).collect();
        let list = numbers
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        let label = format!("order {} (rows {list})", group.key);
        // 1. Row errors make the whole order invalid.
        let bad: Vec<String> = group
            .rows
            .iter()
            .filter(|&&i| !self.held[i].1.is_valid())
            .map(|&i| self.held[i].0.number.to_string())
            .collect();
        if !bad.is_empty() {
            let why = format!("{label} is not sent: row {} has errors", bad.join(", "));
            self.fail_all(group, &why, &|i| self.held[i].1.error_text(), out);
            return;
        }
        // 2. The order's own fields must agree across its rows.
        let conflicts = self.conflicts(group);
        if !conflicts.is_empty() {
            let why = format!("{label} is not sent: {}", conflicts.join("; "));
            self.fail_all(group, &why, &|_| String::new(), out);
            return;
        }
        // 3. Assemble: the order's fields from its rows, one line per row.
        let body = match self.assemble(group) {
            Ok(b) => b,
            Err(errors) => {
                let mut mine: HashMap<usize, Vec<String>> = HashMap::new();
                for (i, e) in errors {
                    mine.entry(i).or_default().push(e);
                }
                let mut bad: Vec<u32> = mine.keys().map(|&i| self.held[i].0.number).collect();
                bad.sort_unstable();
                let bad: Vec<String> = bad.iter().map(u32::to_string).collect();
                let why = format!(
                    "{label} is not sent: row {} cannot be resolved",
                    bad.join(", ")
                );
                self.fail_all(
                    group,
                    &why,
                    &|i| mine.get(&i).map(|v| v.join("; ")).unwrap_or_default(),
                    out,
                );
                return;
            }
        };
        let body = Value::Object(body);
        // 4. Never create the same order twice: the server's listing decides, the
        // ledger's memory only explains.
        let number = body.get("ext_order_no").and_then(scalar_text);
        let number = number.as_deref().map(str::trim);
        let remembered = self.known.get(&group.key);
        let mut note = match self.listed {
            true => String::new(),
            false => format!("note: {UNLISTED}"),
        };
        // Without an order number the server cannot be asked: the memory decides.
        let on_server = match number {
            Some(n) if self.listed => self.on_server.get(n),
            _ => remembered,
        };
        let action = match (on_server, remembered) {
            (Some(id), Some(was)) if was == id => Action::Skip {
                id: Some(id.clone()),
                reason: format!(
                    "order {} was already created as {id} by an earlier run; not sent again",
                    group.key
                ),
            },
            (Some(id), _) => Action::Skip {
                id: Some(id.clone()),
                reason: format!(
                    "order {} is already on the server as {id}; not sent again",
                    group.key
                ),
            },
            // The listing may not show the number: the remembered id, listed, proves it.
            (None, Some(was)) if self.status_by_id.contains_key(was) => Action::Skip {
                id: Some(was.clone()),
                reason: format!(
                    "order {} was created as {was} by an earlier run and the server lists {was} (found by id; the listing did not show its order number); not sent again",
                    group.key
                ),
            },
            (None, Some(was)) => {
                note = format!(
                    "note: the ledger had this as order {was} but the server has no such order: created again"
                );
                Action::Create
            }
            (None, None) => Action::Create,
        };
        let request = (action == Action::Create).then(|| Request {
            method: Method::POST,
            path: self.path.clone(),
            body: RequestBody::Json(body.clone()),
        });
        out.push(Step::Send(Job {
            rows: numbers,
            key: Some(group.key.clone()),
            // An order whose POST ended without an answer (or named no id) is found in
            // the order listing by its number; without one it is UNKNOWN rather than
            // risked twice.
            lookup: number
                .filter(|_| self.listed)
                .map(|n| crate::dispatch::Key::natural("ext_order_no", n)),
            word: action.word(),
            action,
            request,
            note,
            changes: String::new(),
            sequence: None,
            shown: body.to_string(),
        }));
    }
}

impl RowPlanner for Grouped<'_> {
    fn reset(&mut self) {
        self.held.clear();
    }

    fn row(&mut self, raw: &RawRow, res: RowResult, out: &mut Vec<Step>) {
        if self.mode == Mode::Update {
            out.push(self.update(&res));
        } else {
            self.held.push((raw.clone(), res));
        }
    }

    fn finish(&mut self, out: &mut Vec<Step>) {
        for group in self.groups(out) {
            self.order(&group, out);
        }
    }
}

fn settle(row: u32, res: &RowResult, outcome: Outcome) -> Step {
    Step::Settle {
        row,
        key: res.key.clone(),
        outcome,
    }
}
