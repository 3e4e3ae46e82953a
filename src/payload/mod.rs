//! The import plan: what to do with each valid row (create, update, delete, skip),
//! decided against the target's current records, and the references by natural key
//! (a visit's customer code, a team's name) resolved to ids.

pub mod excel_damage;
pub mod plan;

use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::connector::parse::{record_id, scalar_text};
use crate::spec::Entity;

/// What a row asks for once compared with the target.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// POST the body.
    Create,
    /// PATCH these fields of record `id`.
    Update {
        /// Remote id.
        id: String,
    },
    /// DELETE record `id`.
    Delete {
        /// Remote id.
        id: String,
    },
    /// Nothing to send; the reason says why.
    Skip {
        /// Remote id, when a record matched.
        id: Option<String>,
        /// Why nothing is sent.
        reason: String,
    },
}

impl Action {
    /// The word in `_action`.
    pub fn word(&self) -> crate::spec::Verb {
        use crate::spec::Verb;
        match self {
            Action::Create => Verb::Create,
            Action::Update { .. } => Verb::Update,
            Action::Delete { .. } => Verb::Delete,
            Action::Skip { .. } => Verb::Skip,
        }
    }
}

/// The target's current records of one entity, by id and by natural key.
///
/// An import holds every record of the target for its whole run, so each is kept as
/// its compact JSON text and read back only for the rows that match it. With 10,000
/// records already in a sandbox, a million-row import peaked at 61–73 MB holding them
/// as JSON trees, 50 MB holding their texts (37–41 MB into an empty one).
#[derive(Debug, Default)]
pub struct Index {
    by_id: HashMap<String, Box<str>>,
    by_key: HashMap<String, String>,
    /// Whether the target's records were read (an index left empty knows nothing).
    read: bool,
}

impl Index {
    /// Index one more record by id and, when given, by the natural-key field (trimmed);
    /// a record without an id is left out. A listing's pages go in as they come, so
    /// that no page outlives its turn.
    pub fn add(&mut self, record: Value, key_field: Option<&str>) {
        let Some(id) = record_id(&record) else { return };
        if let Some(k) = key_field.and_then(|f| record.get(f)).and_then(scalar_text) {
            self.by_key.insert(k.trim().to_string(), id.clone());
        }
        self.by_id.insert(id, record.to_string().into_boxed_str());
    }

    /// Say that the target's records were read into it: what it lacks, the target
    /// lacks.
    pub fn mark_read(&mut self) {
        self.read = true;
    }

    /// Whether the target's records were read into it.
    pub fn is_read(&self) -> bool {
        self.read
    }

    /// Every record with its id, read back from its text.
    pub fn records(&self) -> impl Iterator<Item = (&str, Value)> + '_ {
        self.by_id
            .iter()
            .filter_map(|(id, text)| serde_json::from_str(text).ok().map(|v| (id.as_str(), v)))
    }

    /// Every natural key the index holds.
    pub fn keys(&self) -> impl Iterator<Item = &str> + '_ {
        self.by_key.keys().map(String::as_str)
    }

    /// The id holding natural key `key`.
    pub fn id_for_key(&self, key: &str) -> Option<&str> {
        self.by_key.get(key.trim()).map(String::as_str)
    }

    /// Whether a record has this id.
    pub fn contains(&self, id: &str) -> bool {
        self.by_id.contains_key(id)
    }

    /// The record with this id, read back from its text (which serde_json wrote, so it
    /// reads back as the same value).
    pub fn record(&self, id: &str) -> Option<Value> {
        self.by_id
            .get(id)
            .and_then(|text| serde_json::from_str(text).ok())
    }

    /// How many records are indexed.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Whether nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }
}

/// The references of a row that must resolve: a code or name given beside the id (as
/// exports write them) wins, and the id, which may be another database's, is then not
/// checked.
pub fn effective_refs(refs: &[crate::validate::Reference]) -> Vec<&crate::validate::Reference> {
    let is_id_check = |r: &crate::validate::Reference| r.by.iter().all(|b| b == "id");
    let coded: Vec<&str> = refs
        .iter()
        .filter(|r| !is_id_check(r))
        .map(|r| r.path.as_str())
        .collect();
    refs.iter()
        .filter(|r| !(is_id_check(r) && coded.contains(&r.path.as_str())))
        .collect()
}

/// `payload` with every reference of `refs` replaced by the id it names (see
/// [`effective_refs`]), or one reason per reference that names nothing.
pub fn apply_refs(
    resolver: &Resolver,
    mut payload: Map<String, Value>,
    refs: &[crate::validate::Reference],
) -> Result<Map<String, Value>, Vec<String>> {
    let mut missing = Vec::new();
    for r in effective_refs(refs) {
        match resolver.resolve(r.entity, &r.by, &r.value) {
            Some(id) => {
                let v = id
                    .parse::<i64>()
                    .map(Value::from)
                    .unwrap_or_else(|_| Value::String(id.to_string()));
                crate::validate::set_path(&mut payload, &r.path, v);
            }
            None => missing.push(format!(
                "{}: no {} with {} '{}' in this database",
                r.column,
                r.entity.one(),
                r.by.join(" or "),
                r.value
            )),
        }
    }
    if missing.is_empty() {
        Ok(payload)
    } else {
        Err(missing)
    }
}

/// Lookup tables for references: (entity, field) → (folded value → id).
#[derive(Debug, Default)]
pub struct Resolver {
    tables: HashMap<(Entity, String), HashMap<String, String>>,
}

fn fold(s: &str) -> String {
    s.trim().to_lowercase()
}

impl Resolver {
    /// Add the records of `entity`, indexed by each of `fields` (case-insensitively).
    pub fn add(&mut self, entity: Entity, fields: &[String], records: &[Value]) {
        for f in fields {
            let table = self.tables.entry((entity, f.clone())).or_default();
            for r in records {
                // `id` means the record's own id, wherever the API puts it.
                let value = if f == "id" {
                    record_id(r)
                } else {
                    r.get(f).and_then(scalar_text)
                };
                if let (Some(id), Some(v)) = (record_id(r), value) {
                    table.entry(fold(&v)).or_insert(id);
                }
            }
        }
    }

    /// The id of the `entity` whose `fields` (tried in order) hold `value`.
    pub fn resolve(&self, entity: Entity, fields: &[String], value: &str) -> Option<&str> {
        fields.iter().find_map(|f| {
            self.tables
                .get(&(entity, f.clone()))
                .and_then(|t| t.get(&fold(value)))
                .map(String::as_str)
        })
    }
}

/// Whether a payload value already holds on the remote record: numbers compared as
/// numbers, lists of text as sets, lists of objects (units) matched element by element
/// in any order, objects on the payload's own keys only.
pub fn same(want: &Value, have: &Value) -> bool {
    match (want, have) {
        (Value::Number(a), Value::Number(b)) => match (a.as_f64(), b.as_f64()) {
            (Some(x), Some(y)) => (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0),
            _ => a == b,
        },
        (Value::Number(a), Value::String(b)) | (Value::String(b), Value::Number(a)) => {
            b.trim().parse::<f64>().ok() == a.as_f64()
        }
        (Value::Object(w), Value::Object(h)) => w
            .iter()
            .all(|(k, v)| h.get(k).is_some_and(|hv| same(v, hv))),
        (Value::Array(w), Value::Array(h)) => {
            if w.len() != h.len() {
                return false;
            }
            let mut used = vec![false; h.len()];
            w.iter().all(|x| {
                h.iter().enumerate().any(|(i, y)| {
                    if !used[i] && same(x, y) {
                        used[i] = true;
                        true
                    } else {
                        false
                    }
                })
            })
        }
        (a, b) => a == b,
    }
}

/// The fields of `payload` that differ from `remote`: what an update must send.
pub fn diff(payload: &Map<String, Value>, remote: &Value) -> Map<String, Value> {
    payload
        .iter()
        .filter(|(k, v)| !remote.get(k.as_str()).is_some_and(|r| same(v, r)))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn diff_sends_only_changes() {
        let remote = json!({"id": 5, "name": "Toko", "phone": "0812", "location": {"lat": -7.1, "lon": 110.4}, "tags": ["a", "b"], "status": true});
        let payload = json!({"name": "Toko", "phone": "0813", "location": {"lat": -7.1, "lon": 110.4}, "tags": ["b", "a"], "status": true});
        let d = diff(payload.as_object().unwrap(), &remote);
        assert_eq!(Value::Object(d), json!({"phone": "0813"}));
    }

    #[test]
    fn units_compare_in_any_order() {
        let a = json!([{"name": "PCS", "price": 5000, "ratio": 1}, {"name": "BOX", "price": 57000, "ratio": 12}]);
        let b = json!([{"name": "BOX", "price": 57000.0, "ratio": 12}, {"name": "PCS", "price": 5000, "ratio": 1, "id": 9}]);
        assert!(same(&a, &b));
        let c = json!([{"name": "BOX", "price": 58000, "ratio": 12}, {"name": "PCS", "price": 5000, "ratio": 1}]);
        assert!(!same(&a, &c));
    }

    #[test]
    fn index_and_resolver() {
        let recs = vec![
            json!({"id": 1, "ext_cust_no": "C1"}),
            json!({"id": 2, "ext_cust_no": " C2 "}),
            json!({"name": "no id"}),
        ];
        let mut i = Index::default();
        for r in &recs {
            i.add(r.clone(), Some("ext_cust_no"));
        }
        assert_eq!(i.id_for_key("C2"), Some("2"));
        assert_eq!(i.len(), 2);
        assert!(i.contains("1") && !i.contains("3"));
        assert_eq!(i.record("2"), Some(recs[1].clone()));
        // Kept as text, a record reads back as the same value: numbers of every kind,
        // characters beyond ASCII, nesting, nulls.
        let tricky = json!({
            "id": "9", "name": "İğdır Şube \"A\"\n", "limit": 12345678901234567u64,
            "debt": -0.1, "ratio": 1e-7, "location": {"lat": -7.110383, "lon": 110.473812},
            "tags": ["a", null, true], "note": null
        });
        let mut t = Index::default();
        t.add(tricky.clone(), Some("name"));
        assert_eq!(t.record("9"), Some(tricky));
        assert_eq!(t.id_for_key("İğdır Şube \"A\""), Some("9"));
        let mut r = Resolver::default();
        let teams = vec![json!({"id": 7, "name": "Budi Santoso", "email": "budi@x.id"})];
        r.add(Entity::Teams, &["name".into(), "email".into()], &teams);
        assert_eq!(
            r.resolve(Entity::Teams, &["name".into(), "email".into()], "BUDI@x.id"),
            Some("7")
        );
        assert_eq!(
            r.resolve(Entity::Teams, &["name".into()], "budi santoso "),
            Some("7")
        );
        assert_eq!(
            r.resolve(Entity::Customers, &["ext_cust_no".into()], "x"),
            None
        );
    }
}
