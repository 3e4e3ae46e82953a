//! SalesMania's records, per database, and the server-side rules for writing
//! them. Field names and rules follow `shared/api/salesmania.md`.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use serde_json::{Number, Value, json};

use crate::sandbox::reply::{ApiError, FieldErrors};
use crate::sandbox::store::{Keyed, Table};
use crate::sandbox::validate::{Field, Obj, required};

/// The whole SalesMania store: what the state file keeps under `"salesmania"`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct SmState {
    pub(crate) next_id: NextIds,
    pub(crate) databases: Table<Database>,
}

/// Ids are global across databases and start at a different base per
/// collection, so a client that sends a customer id where a product id belongs,
/// or writes to the wrong database, gets a 404/422 instead of silently hitting
/// another record.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct NextIds {
    pub(crate) team: u64,
    pub(crate) customer: u64,
    pub(crate) product: u64,
    pub(crate) visit: u64,
    pub(crate) order: u64,
}

impl Default for NextIds {
    fn default() -> Self {
        NextIds {
            team: 24_001,
            customer: 1_000_001,
            product: 2_000_001,
            visit: 3_000_001,
            order: 4_000_001,
        }
    }
}

impl NextIds {
    pub(crate) fn take(counter: &mut u64) -> u64 {
        let id = *counter;
        *counter += 1;
        id
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Database {
    pub(crate) db_id: u64,
    pub(crate) name: String,
    pub(crate) teams: Table<Team>,
    pub(crate) customers: Table<Customer>,
    pub(crate) products: Table<Product>,
    pub(crate) visits: Table<Visit>,
    pub(crate) orders: Table<Order>,
}

impl Keyed for Database {
    fn key(&self) -> u64 {
        self.db_id
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Team {
    pub(crate) id: u64,
    pub(crate) name: String,
    pub(crate) email: String,
    pub(crate) role: String,
    pub(crate) status: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub(crate) struct Location {
    pub(crate) lat: f64,
    pub(crate) lon: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Customer {
    pub(crate) id: u64,
    pub(crate) name: String,
    pub(crate) address: Option<String>,
    pub(crate) city: Option<String>,
    pub(crate) phone: Option<String>,
    pub(crate) ext_cust_no: Option<String>,
    pub(crate) location: Option<Location>,
    pub(crate) status: bool,
    pub(crate) tags: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Unit {
    pub(crate) name: String,
    pub(crate) price: Option<Number>,
    pub(crate) ratio: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Product {
    pub(crate) id: u64,
    pub(crate) name: String,
    pub(crate) description: Option<String>,
    pub(crate) sku: Option<String>,
    pub(crate) tags: Vec<String>,
    pub(crate) status: bool,
    pub(crate) ext_product_code: Option<String>,
    pub(crate) default_disc: Option<String>,
    pub(crate) qty_on_hand: Number,
    pub(crate) product_units: Vec<Unit>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Visit {
    pub(crate) id: u64,
    pub(crate) date: String,
    pub(crate) customer_id: u64,
    pub(crate) team_id: u64,
    /// Position in the team's day: a new visit is appended as the last one.
    pub(crate) seq: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct OrderLine {
    pub(crate) product_id: u64,
    pub(crate) qty: Number,
    pub(crate) unit: String,
    pub(crate) price: Option<Number>,
    pub(crate) item_disc_percent: Option<String>,
    pub(crate) item_disc_amount: Option<Number>,
    pub(crate) description: Option<String>,
    pub(crate) ext_order_line_id: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Order {
    pub(crate) id: u64,
    pub(crate) date: String,
    pub(crate) customer_id: u64,
    pub(crate) team_id: u64,
    pub(crate) description: Option<String>,
    pub(crate) ordered_products: Vec<OrderLine>,
    pub(crate) disc_percent: Option<String>,
    pub(crate) disc_amount: Option<Number>,
    pub(crate) total_paid: Option<Number>,
    pub(crate) status: String,
    pub(crate) visit_status: Option<String>,
    pub(crate) ext_order_no: Option<String>,
    pub(crate) ext_order_status_name: Option<String>,
}

macro_rules! keyed {
    ($($t:ty),*) => {$(
        impl Keyed for $t {
            fn key(&self) -> u64 {
                self.id
            }
        }
    )*};
}
keyed!(Team, Customer, Product, Visit, Order);

/// Order statuses the API accepts.
pub(crate) const ORDER_STATUSES: [&str; 5] = ["Baru", "Diproses", "Terkirim", "Lunas", "Batal"];

/// Longest product name and unit name the API accepts.
const PRODUCT_NAME_MAX: usize = 200;
const UNIT_NAME_MAX: usize = 50;

/// Reports `null` for a field that a PATCH may change but never clear.
fn forbid_null<T>(obj: &Obj<'_>, key: &str, field: &Field<T>, errors: &mut FieldErrors) {
    if matches!(field, Field::Null) && !errors.has_under(&obj.path(key)) {
        errors.add(obj.path(key), required(&obj.path(key)));
    }
}

// ---------------------------------------------------------------- customers

pub(crate) struct CustomerFields {
    name: Field<String>,
    address: Field<String>,
    city: Field<String>,
    phone: Field<String>,
    ext_cust_no: Field<String>,
    location: Field<Location>,
    status: Field<bool>,
    tags: Field<Vec<String>>,
}

impl CustomerFields {
    pub(crate) fn read(obj: &Obj<'_>, errors: &mut FieldErrors) -> Self {
        CustomerFields {
            name: obj.non_blank("name", None, errors),
            address: obj.string("address", None, errors),
            city: obj.string("city", None, errors),
            phone: obj.string("phone", None, errors),
            ext_cust_no: obj.string("ext_cust_no", None, errors),
            location: location(obj, errors),
            status: obj.boolean("status", errors),
            tags: obj.string_list("tags", errors),
        }
    }

    pub(crate) fn create(
        self,
        id: u64,
        obj: &Obj<'_>,
        mut errors: FieldErrors,
    ) -> Result<Customer, ApiError> {
        obj.require("name", &self.name, &mut errors);
        errors.into_result()?;
        Ok(Customer {
            id,
            name: self.name.value().unwrap_or_default(),
            address: self.address.value(),
            city: self.city.value(),
            phone: self.phone.value(),
            ext_cust_no: self.ext_cust_no.value(),
            location: self.location.value(),
            status: self.status.value().unwrap_or(true),
            tags: self.tags.value().unwrap_or_default(),
        })
    }

    pub(crate) fn apply(self, customer: &mut Customer) {
        self.name.patch_required(&mut customer.name);
        self.address.patch(&mut customer.address);
        self.city.patch(&mut customer.city);
        self.phone.patch(&mut customer.phone);
        self.ext_cust_no.patch(&mut customer.ext_cust_no);
        self.location.patch(&mut customer.location);
        self.status.patch_required(&mut customer.status);
        patch_list(self.tags, &mut customer.tags);
    }
}

/// `tags: [..]` replaces the list (the docs leave replace-vs-merge open; replace
/// is what a PATCH of a JSON field means), `tags: null` empties it.
fn patch_list<T>(field: Field<Vec<T>>, target: &mut Vec<T>) {
    match field {
        Field::Absent => {}
        Field::Null => target.clear(),
        Field::Set(v) => *target = v,
    }
}

/// `location` must carry both `lat` (−90..90) and `lon` (−180..180).
fn location(obj: &Obj<'_>, errors: &mut FieldErrors) -> Field<Location> {
    match obj.object("location", errors) {
        Field::Set(loc) => {
            let lat = loc.number_between("lat", -90.0, 90.0, errors);
            let lon = loc.number_between("lon", -180.0, 180.0, errors);
            loc.require("lat", &lat, errors);
            loc.require("lon", &lon, errors);
            match (lat, lon) {
                (Field::Set(lat), Field::Set(lon)) => Field::Set(Location { lat, lon }),
                _ => Field::Null,
            }
        }
        Field::Absent => Field::Absent,
        Field::Null => Field::Null,
    }
}

// ----------------------------------------------------------------- products

pub(crate) struct ProductFields {
    name: Field<String>,
    description: Field<String>,
    sku: Field<String>,
    tags: Field<Vec<String>>,
    status: Field<bool>,
    ext_product_code: Field<String>,
    default_disc: Field<String>,
    qty_on_hand: Field<Number>,
    product_units: Field<Vec<Unit>>,
}

impl ProductFields {
    pub(crate) fn read(obj: &Obj<'_>, errors: &mut FieldErrors) -> Self {
        ProductFields {
            name: obj.non_blank("name", Some(PRODUCT_NAME_MAX), errors),
            description: obj.string("description", None, errors),
            sku: obj.string("sku", None, errors),
            tags: obj.string_list("tags", errors),
            status: obj.boolean("status", errors),
            ext_product_code: obj.string("ext_product_code", None, errors),
            default_disc: obj.discount("default_disc", errors),
            qty_on_hand: obj.number("qty_on_hand", errors),
            product_units: units(obj, errors),
        }
    }

    pub(crate) fn create(
        self,
        id: u64,
        obj: &Obj<'_>,
        mut errors: FieldErrors,
    ) -> Result<Product, ApiError> {
        obj.require("name", &self.name, &mut errors);
        obj.require("qty_on_hand", &self.qty_on_hand, &mut errors);
        obj.require("product_units", &self.product_units, &mut errors);
        errors.into_result()?;
        Ok(Product {
            id,
            name: self.name.value().unwrap_or_default(),
            description: self.description.value(),
            sku: self.sku.value(),
            tags: self.tags.value().unwrap_or_default(),
            status: self.status.value().unwrap_or(true),
            ext_product_code: self.ext_product_code.value(),
            default_disc: self.default_disc.value(),
            qty_on_hand: self.qty_on_hand.value().unwrap_or_else(|| Number::from(0)),
            product_units: self.product_units.value().unwrap_or_default(),
        })
    }

    /// Checks what a PATCH may not do (clear a required field).
    pub(crate) fn check_patch(&self, obj: &Obj<'_>, errors: &mut FieldErrors) {
        forbid_null(obj, "qty_on_hand", &self.qty_on_hand, errors);
        forbid_null(obj, "product_units", &self.product_units, errors);
    }

    pub(crate) fn apply(self, product: &mut Product) {
        self.name.patch_required(&mut product.name);
        self.description.patch(&mut product.description);
        self.sku.patch(&mut product.sku);
        patch_list(self.tags, &mut product.tags);
        self.status.patch_required(&mut product.status);
        self.ext_product_code.patch(&mut product.ext_product_code);
        self.default_disc.patch(&mut product.default_disc);
        self.qty_on_hand.patch_required(&mut product.qty_on_hand);
        // The unit list is replaced as a whole, so the ratio-1 rule keeps holding.
        self.product_units
            .patch_required(&mut product.product_units);
    }
}

/// `product_units`: a non-empty array of `{name ≤ 50, price ≥ 0, ratio ≥ 1}`
/// with distinct names and at least one unit of ratio 1 (the base unit).
fn units(obj: &Obj<'_>, errors: &mut FieldErrors) -> Field<Vec<Unit>> {
    let items = match obj.array("product_units", errors) {
        Field::Set(items) => items,
        Field::Absent => return Field::Absent,
        Field::Null => return Field::Null,
    };
    if items.is_empty() {
        errors.add(
            "product_units",
            "The product_units field must have at least 1 item.",
        );
        return Field::Null;
    }
    let before = errors.count();
    let mut units = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let Some(unit) = obj.item("product_units", i, item, errors) else {
            continue;
        };
        let name = unit.non_blank("name", Some(UNIT_NAME_MAX), errors);
        unit.require("name", &name, errors);
        let price = unit.non_negative("price", errors);
        let ratio = unit.integer("ratio", 1, errors);
        unit.require("ratio", &ratio, errors);
        if let (Field::Set(name), Field::Set(ratio)) = (name, ratio) {
            if units.iter().any(|u: &Unit| u.name == name) {
                errors.add(
                    unit.path("name"),
                    format!("The {} field has a duplicate value.", unit.path("name")),
                );
            }
            units.push(Unit {
                name,
                price: price.value(),
                ratio: u64::try_from(ratio).unwrap_or(1),
            });
        }
    }
    if errors.count() != before {
        return Field::Null;
    }
    if !units.iter().any(|u| u.ratio == 1) {
        errors.add(
            "product_units",
            "At least one of the product_units must have ratio 1 (the base unit).",
        );
        return Field::Null;
    }
    Field::Set(units)
}

// ------------------------------------------------------------------- visits

/// Validates a new visit against this database; `team_id` defaults to the team
/// of the team token.
pub(crate) fn new_visit(
    obj: &Obj<'_>,
    db: &Database,
    token_team: u64,
    id: u64,
) -> Result<Visit, ApiError> {
    let mut errors = FieldErrors::default();
    let date = obj.date("date", &mut errors);
    obj.require("date", &date, &mut errors);
    let customer_id = obj.id("customer_id", &mut errors);
    obj.require("customer_id", &customer_id, &mut errors);
    let team_id = obj.id("team_id", &mut errors);
    check_refs(db, &customer_id, &team_id, &mut errors);
    errors.into_result()?;
    let date = date.value().unwrap_or_default();
    let team_id = team_id.value().unwrap_or(token_team);
    let seq = db
        .visits
        .0
        .values()
        .filter(|v| v.team_id == team_id && v.date == date)
        .count() as u64
        + 1;
    Ok(Visit {
        id,
        date,
        customer_id: customer_id.value().unwrap_or_default(),
        team_id,
        seq,
    })
}

fn check_refs(
    db: &Database,
    customer_id: &Field<u64>,
    team_id: &Field<u64>,
    errors: &mut FieldErrors,
) {
    if let Field::Set(id) = customer_id
        && !db.customers.0.contains_key(id)
    {
        errors.add("customer_id", "The selected customer_id is invalid.");
    }
    if let Field::Set(id) = team_id
        && !db.teams.0.contains_key(id)
    {
        errors.add("team_id", "The selected team_id is invalid.");
    }
}

// ------------------------------------------------------------------- orders

pub(crate) fn new_order(
    obj: &Obj<'_>,
    db: &Database,
    token_team: u64,
    id: u64,
) -> Result<Order, ApiError> {
    let mut errors = FieldErrors::default();
    let date = obj.date("date", &mut errors);
    obj.require("date", &date, &mut errors);
    let customer_id = obj.id("customer_id", &mut errors);
    obj.require("customer_id", &customer_id, &mut errors);
    let team_id = obj.id("team_id", &mut errors);
    check_refs(db, &customer_id, &team_id, &mut errors);
    let description = obj.string("description", None, &mut errors);
    let lines = order_lines(obj, db, &mut errors);
    obj.require("ordered_products", &lines, &mut errors);
    let disc_percent = obj.discount("disc_percent", &mut errors);
    let disc_amount = obj.non_negative("disc_amount", &mut errors);
    let total_paid = obj.non_negative("total_paid", &mut errors);
    let status = match obj.string("status", None, &mut errors) {
        Field::Set(s) if !ORDER_STATUSES.contains(&s.as_str()) => {
            errors.add(
                "status",
                format!(
                    "The selected status is invalid; use one of {}.",
                    ORDER_STATUSES.join(", ")
                ),
            );
            Field::Null
        }
        other => other,
    };
    let visit_status = obj.string("visit_status", None, &mut errors);
    let ext_order_no = obj.string("ext_order_no", None, &mut errors);
    let ext_order_status_name = obj.string("ext_order_status_name", None, &mut errors);
    errors.into_result()?;
    Ok(Order {
        id,
        date: date.value().unwrap_or_default(),
        customer_id: customer_id.value().unwrap_or_default(),
        team_id: team_id.value().unwrap_or(token_team),
        description: description.value(),
        ordered_products: lines.value().unwrap_or_default(),
        disc_percent: disc_percent.value(),
        disc_amount: disc_amount.value(),
        total_paid: total_paid.value(),
        status: status
            .value()
            .unwrap_or_else(|| ORDER_STATUSES[0].to_owned()),
        visit_status: visit_status.value(),
        ext_order_no: ext_order_no.value(),
        ext_order_status_name: ext_order_status_name.value(),
    })
}

/// `ordered_products`: non-empty; each line names an existing product and one
/// of that product's unit names.
fn order_lines(obj: &Obj<'_>, db: &Database, errors: &mut FieldErrors) -> Field<Vec<OrderLine>> {
    let items = match obj.array("ordered_products", errors) {
        Field::Set(items) => items,
        Field::Absent => return Field::Absent,
        Field::Null => return Field::Null,
    };
    if items.is_empty() {
        errors.add(
            "ordered_products",
            "The ordered_products field must have at least 1 item.",
        );
        return Field::Null;
    }
    let mut lines = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let Some(line) = obj.item("ordered_products", i, item, errors) else {
            continue;
        };
        let product_id = line.id("product_id", errors);
        line.require("product_id", &product_id, errors);
        let qty = match line.number("qty", errors) {
            Field::Set(q) if q.as_f64().is_none_or(|v| v <= 0.0) => {
                errors.add(
                    line.path("qty"),
                    format!("The {} field must be greater than 0.", line.path("qty")),
                );
                Field::Null
            }
            other => other,
        };
        line.require("qty", &qty, errors);
        let unit = line.non_blank("unit", None, errors);
        line.require("unit", &unit, errors);
        let price = line.non_negative("price", errors);
        let disc_percent = line.discount("item_disc_percent", errors);
        let disc_amount = line.non_negative("item_disc_amount", errors);
        if matches!(disc_percent, Field::Set(_)) && matches!(disc_amount, Field::Set(_)) {
            errors.add(
                line.path("item_disc_amount"),
                "Give item_disc_percent or item_disc_amount, not both.",
            );
        }
        let description = line.string("description", None, errors);
        let ext_line = line.integer("ext_order_line_id", i64::MIN, errors);

        if let Field::Set(pid) = &product_id {
            match db.products.0.get(pid) {
                None => errors.add(
                    line.path("product_id"),
                    format!("The selected {} is invalid.", line.path("product_id")),
                ),
                Some(product) => {
                    if let Field::Set(unit) = &unit
                        && !product.product_units.iter().any(|u| &u.name == unit)
                    {
                        let names: Vec<&str> = product
                            .product_units
                            .iter()
                            .map(|u| u.name.as_str())
                            .collect();
                        errors.add(
                            line.path("unit"),
                            format!(
                                "The selected {} is invalid; product {pid} has units {}.",
                                line.path("unit"),
                                names.join(", ")
                            ),
                        );
                    }
                }
            }
        }
        if let (Field::Set(product_id), Field::Set(qty), Field::Set(unit)) = (product_id, qty, unit)
        {
            lines.push(OrderLine {
                product_id,
                qty,
                unit,
                price: price.value(),
                item_disc_percent: disc_percent.value(),
                item_disc_amount: disc_amount.value(),
                description: description.value(),
                ext_order_line_id: ext_line.value(),
            });
        }
    }
    if lines.len() == items.len() {
        Field::Set(lines)
    } else {
        Field::Null
    }
}

// -------------------------------------------------------------------- stats

impl SmState {
    /// Record counts and duplicated natural keys, per database and summed.
    pub(crate) fn stats(&self) -> (Value, Value, Value) {
        let mut totals: BTreeMap<&str, usize> = BTreeMap::new();
        let mut dup_totals: BTreeMap<&str, BTreeMap<String, usize>> = BTreeMap::new();
        let mut per_db = serde_json::Map::new();
        for db in self.databases.0.values() {
            let records = BTreeMap::from([
                ("customers", db.customers.0.len()),
                ("products", db.products.0.len()),
                ("visits", db.visits.0.len()),
                ("orders", db.orders.0.len()),
                ("teams", db.teams.0.len()),
            ]);
            for (k, n) in &records {
                *totals.entry(k).or_default() += n;
            }
            let dups = BTreeMap::from([
                (
                    "ext_cust_no",
                    duplicates(db.customers.0.values().map(|c| c.ext_cust_no.as_deref())),
                ),
                (
                    "ext_product_code",
                    duplicates(
                        db.products
                            .0
                            .values()
                            .map(|p| p.ext_product_code.as_deref()),
                    ),
                ),
                (
                    "ext_order_no",
                    duplicates(db.orders.0.values().map(|o| o.ext_order_no.as_deref())),
                ),
            ]);
            for (k, keys) in &dups {
                let total = dup_totals.entry(k).or_default();
                for (key, n) in keys {
                    *total.entry(key.clone()).or_default() += n;
                }
            }
            per_db.insert(
                db.db_id.to_string(),
                json!({ "name": db.name, "records": records, "duplicate_keys": dups }),
            );
        }
        for k in ["ext_cust_no", "ext_product_code", "ext_order_no"] {
            dup_totals.entry(k).or_default();
        }
        (json!(totals), json!(dup_totals), Value::Object(per_db))
    }
}

/// Non-empty keys held by more than one record, with how many hold each.
fn duplicates<'a>(keys: impl Iterator<Item = Option<&'a str>>) -> BTreeMap<String, usize> {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for key in keys.flatten().filter(|k| !k.is_empty()) {
        *counts.entry(key).or_default() += 1;
    }
    counts
        .into_iter()
        .filter(|(_, n)| *n > 1)
        .map(|(k, n)| (k.to_owned(), n))
        .collect()
}
