//! Export columns: the entity spec's fields turned into typed cells, the same fields
//! import and `template` use, so an exported row reads back as the record it came from.
//!
//! References (a visit's customer, an order line's product) are written twice: the raw
//! id, and beside it the readable key import resolves (`customer_code`, `team`,
//! `product_code`), so that a person can read and edit the sheet and import it into a
//! database where the ids differ.

use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::connector::parse;
use crate::output::export::{Cell, Column, Kind};
use crate::payload::Resolver;
use crate::spec::{Entity, EntitySpec, FieldType};

/// Where a line field's value sits in the flattened view of one order line.
const LINE: &str = "line";

/// What becomes of one record field.
pub(super) enum Source {
    /// A dotted path in the record, written as `kind`.
    Path(String, Kind),
    /// A list of text joined with ", " (tags), as import splits it.
    Joined(String),
    /// Member `field` of element `index` of the array at `path` (product units).
    Member(String, usize, String, Kind),
    /// The readable key of the `entity` record whose id is at `path` (a visit's
    /// customer by `ext_cust_no`), looked up in [`Labels`].
    Reference {
        /// Path of the id in the record.
        path: String,
        /// The referenced entity.
        entity: Entity,
        /// Its fields import resolves by, in import's order.
        by: Vec<String>,
    },
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
/// than the combined location, references by id and by readable key, and `units` groups.
pub(super) fn spec_columns(spec: &EntitySpec, units: usize) -> Vec<(Column, Source)> {
    let mut out = Vec::new();
    let mut fields: Vec<_> = spec.fields.iter().collect();
    fields.sort_by_key(|f| !f.is_id);
    for f in fields {
        // Secrets (passwords) are never written out; a location is lat/lon columns.
        if f.kind == FieldType::Location || f.secret {
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
        // An id field that import only checks to exist (`resolve` by `id`) is written
        // as the id it is.
        let reference = f.resolve.as_ref().filter(|_| f.is_code_reference());
        let source = match (reference, f.kind) {
            (Some(r), _) => Source::Reference {
                path,
                entity: r.entity,
                by: r.by.clone(),
            },
            (None, FieldType::Tags) => Source::Joined(path),
            (None, t) => Source::Path(path, if f.is_id { Kind::Text } else { kind_of(t) }),
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

/// Columns of records that have no spec (teams, databases): text, `status` as yes/no.
pub(super) fn plain_columns(names: &[&str]) -> Vec<(Column, Source)> {
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

/// The referenced entities a set of columns needs labels for, each with the fields it
/// is resolved by.
pub(super) fn referenced(columns: &[(Column, Source)]) -> Vec<(Entity, Vec<String>)> {
    let mut out: Vec<(Entity, Vec<String>)> = Vec::new();
    for (_, s) in columns {
        if let Source::Reference { entity, by, .. } = s
            && !out.iter().any(|(e, b)| e == entity && b == by)
        {
            out.push((*entity, by.clone()));
        }
    }
    out
}

/// Readable keys of referenced records by id (a customer's `ext_cust_no`, a team's
/// name), built from one list read per entity. A record's label is the first of its
/// `by` values that import's [`Resolver`] maps back to that same record, so a name two
/// teams share gives way to the e-mail, and a record with no such value gets no label
/// (its id column still says which it is).
#[derive(Debug, Default)]
pub(super) struct Labels {
    by_ref: HashMap<(Entity, Vec<String>), HashMap<String, String>>,
}

impl Labels {
    /// Label the `records` of `entity` for a reference resolved by `by`.
    pub(super) fn add(&mut self, entity: Entity, by: &[String], records: &[Value]) {
        let mut resolver = Resolver::default();
        resolver.add(entity, by, records);
        let labels = self.by_ref.entry((entity, by.to_vec())).or_default();
        for r in records {
            let Some(id) = parse::record_id(r) else {
                continue;
            };
            let label = by.iter().find_map(|f| {
                let v = r.get(f).and_then(parse::scalar_text)?;
                let v = v.trim();
                (!v.is_empty() && resolver.resolve(entity, by, v) == Some(id.as_str()))
                    .then(|| v.to_string())
            });
            if let Some(label) = label {
                labels.insert(id, label);
            }
        }
    }

    fn get(&self, entity: Entity, by: &[String], id: &str) -> Option<&str> {
        self.by_ref
            .get(&(entity, by.to_vec()))
            .and_then(|m| m.get(id))
            .map(String::as_str)
    }
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

/// One record's cells, aligned with `columns`.
pub(super) fn flatten(
    record: &Value,
    columns: &[(Column, Source)],
    labels: &Labels,
) -> Vec<Option<Cell>> {
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
            Source::Reference { path, entity, by } => at(record, path)
                .and_then(parse::scalar_text)
                .and_then(|id| labels.get(*entity, by, &id))
                .map(|l| Cell::Text(l.to_string())),
        })
        .collect()
}

/// The rows one record becomes: itself, or, for an entity with lines (orders), one view
/// per element of `lines_path` holding the record's own fields and the element under
/// `line` (where the spec's line fields point), so header fields repeat on every line.
pub(super) fn rows_of(record: &Value, lines_path: Option<&str>) -> Vec<Value> {
    let Some(lp) = lines_path else {
        return vec![record.clone()];
    };
    let Value::Object(fields) = record else {
        return vec![record.clone()];
    };
    let header: Map<String, Value> = fields
        .iter()
        .filter(|(k, _)| k.as_str() != lp)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let lines = match fields.get(lp) {
        Some(Value::Array(lines)) if !lines.is_empty() => lines.as_slice(),
        _ => return vec![Value::Object(header)],
    };
    lines
        .iter()
        .map(|line| {
            let mut view = header.clone();
            view.insert(LINE.into(), line.clone());
            Value::Object(view)
        })
        .collect()
}

/// Whether a flattened row passes every `--where`.
pub(super) fn passes(cells: &[Option<Cell>], filters: &[(usize, String)]) -> bool {
    filters.iter().all(|(i, want)| {
        let have = cells[*i].as_ref().map(Cell::text).unwrap_or_default();
        have.trim().eq_ignore_ascii_case(want.trim())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec;
    use serde_json::json;

    fn headers(cols: &[(Column, Source)]) -> Vec<&str> {
        cols.iter().map(|(c, _)| c.header.as_str()).collect()
    }

    #[test]
    fn customers_flatten_to_the_import_layout() {
        let spec = spec::builtin(spec::TargetId::SalesMania, spec::Entity::Customers).unwrap();
        let cols = spec_columns(&spec, 0);
        assert_eq!(
            headers(&cols),
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
        let cells = flatten(&rec, &cols, &Labels::default());
        assert_eq!(cells[0], Some(Cell::Text("7".into())));
        assert_eq!(cells[1], Some(Cell::Text("007".into())));
        assert_eq!(cells[6], Some(Cell::Number(-7.1)));
        assert_eq!(cells[8], Some(Cell::Bool(false)));
        assert_eq!(cells[9], Some(Cell::Text("a, b".into())));
        assert_eq!(cells[3], None);
    }

    #[test]
    fn secrets_are_never_columns() {
        let spec = spec::builtin(spec::TargetId::Trackfinity, spec::Entity::Customers).unwrap();
        assert!(spec.fields.iter().any(|f| f.secret));
        let cols = spec_columns(&spec, 0);
        for (c, _) in &cols {
            let f = spec.fields.iter().find(|f| f.name == c.header).unwrap();
            assert!(!f.secret, "{} is a secret", c.header);
        }
    }

    #[test]
    fn products_get_unit_groups() {
        let spec = spec::builtin(spec::TargetId::SalesMania, spec::Entity::Products).unwrap();
        let cols = spec_columns(&spec, 2);
        assert!(headers(&cols).ends_with(&[
            "unit_name",
            "unit_price",
            "unit_ratio",
            "unit2_name",
            "unit2_price",
            "unit2_ratio"
        ]));
        let rec = json!({"id": 1, "name": "Teh", "product_units": [{"name": "PCS", "price": 5000, "ratio": 1}]});
        let cells = flatten(&rec, &cols, &Labels::default());
        let n = cells.len();
        assert_eq!(cells[n - 6], Some(Cell::Text("PCS".into())));
        assert_eq!(cells[n - 5], Some(Cell::Number(5000.0)));
        assert_eq!(cells[n - 3], None);
    }

    #[test]
    fn visits_carry_customer_code_and_team_name_beside_the_ids() {
        let spec = spec::builtin(spec::TargetId::SalesMania, spec::Entity::Visits).unwrap();
        let cols = spec_columns(&spec, 0);
        assert_eq!(
            headers(&cols),
            ["date", "customer_id", "customer_code", "team_id", "team"]
        );
        let mut labels = Labels::default();
        for (entity, by) in referenced(&cols) {
            let records = match entity.as_str() {
                "customers" => vec![json!({"id": 10, "ext_cust_no": "007"})],
                _ => vec![
                    json!({"id": 1, "name": "Budi", "email": "b1@x.id"}),
                    json!({"id": 2, "name": "Budi", "email": "b2@x.id"}),
                    json!({"id": 3, "name": "Siti", "email": "s@x.id"}),
                ],
            };
            labels.add(entity, &by, &records);
        }
        let row = |c: u64, t: u64| {
            flatten(
                &json!({"id": 5, "date": "2026-12-01", "customer_id": c, "team_id": t}),
                &cols,
                &labels,
            )
        };
        let cells = row(10, 3);
        assert_eq!(cells[0], Some(Cell::Date("2026-12-01".into())));
        assert_eq!(cells[1], Some(Cell::Text("10".into())));
        assert_eq!(
            cells[2],
            Some(Cell::Text("007".into())),
            "leading zero kept"
        );
        assert_eq!(cells[4], Some(Cell::Text("Siti".into())));
        // The first Budi owns the name; the second is named by the e-mail that
        // import resolves back to him; an unknown customer has no code, only its id.
        assert_eq!(row(10, 1)[4], Some(Cell::Text("Budi".into())));
        assert_eq!(row(10, 2)[4], Some(Cell::Text("b2@x.id".into())));
        assert_eq!(row(99, 2)[2], None);
        assert_eq!(row(99, 2)[1], Some(Cell::Text("99".into())));
    }

    #[test]
    fn an_order_is_one_row_per_line_with_its_header_repeated() {
        let spec = spec::builtin(spec::TargetId::SalesMania, spec::Entity::Orders).unwrap();
        let cols = spec_columns(&spec, 0);
        let h = headers(&cols);
        assert_eq!(h[0], "id");
        for want in [
            "ext_order_no",
            "customer_code",
            "team",
            "product_code",
            "qty",
        ] {
            assert!(h.contains(&want), "{want} in {h:?}");
        }
        let mut labels = Labels::default();
        labels.add(
            Entity::Products,
            &["ext_product_code".into(), "sku".into()],
            &[
                json!({"id": 20, "ext_product_code": "P01", "sku": "S01"}),
                json!({"id": 21, "sku": "S02"}),
            ],
        );
        let order = json!({"id": 4000001, "ext_order_no": "SO-1", "date": "2026-12-01",
        "customer_id": 10, "team_id": 1, "status": "Baru",
        "ordered_products": [
            {"product_id": 20, "qty": 2, "unit": "BOX", "price": 57000},
            {"product_id": 21, "qty": 1.5, "unit": "PCS", "item_disc_percent": "5+2"}
        ]});
        let rows = rows_of(&order, spec.lines_path.as_deref());
        assert_eq!(rows.len(), 2);
        let col = |name: &str| h.iter().position(|x| *x == name).unwrap();
        let cells: Vec<_> = rows.iter().map(|r| flatten(r, &cols, &labels)).collect();
        for c in &cells {
            assert_eq!(c[col("id")], Some(Cell::Text("4000001".into())));
            assert_eq!(c[col("ext_order_no")], Some(Cell::Text("SO-1".into())));
            assert_eq!(c[col("status")], Some(Cell::Text("Baru".into())));
        }
        assert_eq!(
            cells[0][col("product_code")],
            Some(Cell::Text("P01".into()))
        );
        assert_eq!(
            cells[1][col("product_code")],
            Some(Cell::Text("S02".into()))
        );
        assert_eq!(cells[1][col("qty")], Some(Cell::Number(1.5)));
        assert_eq!(
            cells[1][col("item_disc_percent")],
            Some(Cell::Text("5+2".into()))
        );
        assert_eq!(cells[0][col("price")], Some(Cell::Number(57000.0)));
        // An order without lines is still one row.
        assert_eq!(
            rows_of(&json!({"id": 1}), Some("ordered_products")).len(),
            1
        );
    }
}
