//! One row's plan: create, update (only what changed), delete or skip, decided against
//! the target's records, the references resolved to ids, and what the ledger remembers
//! of earlier runs. The dry run and the real run plan with the very same code, so a dry
//! run refuses exactly what the real run would refuse.

use std::collections::HashMap;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::excel_damage::Guard;
use super::{Action, Index, Resolver, diff};
use crate::output::Status;
use crate::output::result::Outcome;
use crate::spec::{EntitySpec, Mode, Verb};
use crate::validate::RowResult;

/// What to do with one validated row.
#[derive(Debug)]
pub enum Planned {
    /// Already decided (invalid, not found): nothing to send.
    Done(Outcome),
    /// Send this (or skip it, for [`Action::Skip`]).
    Send(Send),
}

/// A row that goes to the dispatcher.
#[derive(Debug)]
pub struct Send {
    /// What the request does.
    pub action: Action,
    /// The body: the whole record for a create, the changed fields for an update.
    pub body: Option<Value>,
    /// The key the ledger files the outcome under: the natural key, or for an entity
    /// without one the row's content identity ([`EntitySpec::remember_by_content`]).
    pub ledger_key: Option<String>,
    /// A note for `_error` that does not make the row fail (a stale id replaced).
    pub note: String,
    /// For an update, the fields that change, old → new, for `_changes`.
    pub changes: String,
}

/// Decides each row of one run. Rows are planned in sheet order (the content identity
/// of a row counts the identical rows before it).
pub struct Planner<'a> {
    /// The entity.
    pub spec: &'a EntitySpec,
    /// The run's mode.
    pub mode: Mode,
    /// The natural-key field (`ext_cust_no`, or `--key`).
    pub key_field: Option<&'a str>,
    /// The target's records, by id and key (empty in create mode without a key column).
    pub index: Index,
    /// Referenced entities' records, by the fields references use and by id.
    pub resolver: Resolver,
    /// Content identity → remote id, for the records earlier runs created.
    pub remembered: HashMap<String, String>,
    /// How many rows with each content identity this run has planned so far.
    seen: HashMap<String, u32>,
    /// Holds an update that would replace a stored value with its Excel-damaged form.
    guard: Guard,
    /// The target's records known by content: for the payload paths a row has, the
    /// ids (ascending) of the records with each content hash; built on first use.
    on_server: HashMap<Vec<String>, HashMap<String, Vec<String>>>,
    /// The target's natural keys by the forms Excel's damage gives them (`00123` under
    /// `123`); built on the first key the target lacks.
    damaged_keys: Option<HashMap<String, Vec<String>>>,
    /// What the target fills in for a record that leaves a field out (SalesMania: a
    /// visit without a team is the team token's team): matched against the target's
    /// records, never sent nor part of the ledger's content identity.
    filled_by_target: Map<String, Value>,
}

fn decided(action: Verb, status: Status, error: String) -> Planned {
    Planned::Done(Outcome {
        status: Some(status),
        action: Some(action),
        error,
        ..Outcome::default()
    })
}

fn send(action: Action, body: Option<Map<String, Value>>) -> Send {
    Send {
        action,
        body: body.map(Value::Object),
        ledger_key: None,
        note: String::new(),
        changes: String::new(),
    }
}

impl<'a> Planner<'a> {
    /// A planner for one run.
    pub fn new(
        spec: &'a EntitySpec,
        mode: Mode,
        key_field: Option<&'a str>,
        index: Index,
        resolver: Resolver,
        remembered: HashMap<String, String>,
    ) -> Self {
        Planner {
            spec,
            mode,
            key_field,
            index,
            resolver,
            remembered,
            seen: HashMap::new(),
            guard: Guard::default(),
            on_server: HashMap::new(),
            damaged_keys: None,
            filled_by_target: Map::new(),
        }
    }

    /// The planner with `filled` (payload path → value) standing for the fields a row
    /// leaves out when it is matched against the target's records by content.
    pub fn filled_by_target(mut self, filled: &[(String, String)]) -> Self {
        self.filled_by_target = filled
            .iter()
            .map(|(path, value)| {
                let v = value
                    .parse::<i64>()
                    .map_or_else(|_| Value::String(value.clone()), Value::from);
                (path.clone(), v)
            })
            .collect();
        self
    }

    /// The record as the target files it: `payload` with what the target fills in for
    /// the fields it leaves out.
    pub fn as_filed(&self, payload: &Map<String, Value>) -> Map<String, Value> {
        let mut filed = payload.clone();
        for (path, value) in &self.filled_by_target {
            filed.entry(path.clone()).or_insert_with(|| value.clone());
        }
        filed
    }

    /// The planner with `guard` checking every update's changes (see [`Guard`]).
    pub fn guarded(mut self, guard: Guard) -> Self {
        self.guard = guard;
        self
    }

    /// The row about to be planned, as read: which of its cells the guard judges (see
    /// [`Guard::cells`]).
    pub fn cells(&mut self, raw: &crate::input::RawRow) {
        self.guard.cells(raw);
    }

    /// Forget what planning counted so far (after the confirmation's dry pass).
    pub fn restart(&mut self) {
        self.seen.clear();
    }

    /// Count a row planned by an earlier attempt of the run without planning it again:
    /// the identical rows after it are the second, third… as they were then.
    pub fn count(&mut self, res: &RowResult) {
        if !self.spec.remember_by_content || res.key.is_some() || !res.is_valid() {
            return;
        }
        if let Ok(payload) = self.resolve(res) {
            self.identity(&payload);
        }
    }

    fn entity_one(&self) -> &str {
        self.spec.entity.one()
    }

    /// Plan one row.
    pub fn plan(&mut self, res: &RowResult) -> Planned {
        let word = Verb::from(self.mode);
        if !res.is_valid() {
            return decided(word, Status::Invalid, res.error_text());
        }
        let payload = match self.resolve(res) {
            Ok(p) => p,
            Err(why) => return decided(word, Status::Invalid, why),
        };
        let planned = match self.mode {
            Mode::Create => self.plan_create(res, payload),
            Mode::Update | Mode::Upsert => self.plan_change(res, payload),
            Mode::Delete => self.plan_delete(res),
            Mode::Lock | Mode::Unlock | Mode::Forget => decided(
                word,
                Status::Invalid,
                format!("{} has no {word} mode", self.spec.entity),
            ),
        };
        match planned {
            Planned::Send(mut s) => {
                if s.ledger_key.is_none() {
                    s.ledger_key = res.key.clone();
                }
                Planned::Send(s)
            }
            done => done,
        }
    }

    /// The payload with every reference replaced by the id it names; an unknown
    /// reference is the row's error (nothing is sent that the server would refuse).
    fn resolve(&self, res: &RowResult) -> Result<Map<String, Value>, String> {
        super::apply_refs(&self.resolver, res.payload.to_map(), &res.refs).map_err(|missing| {
            format!("{}; check the value or create it first", missing.join("; "))
        })
    }

    /// The row held when its key, which the target lacks, looks like Excel's damage of
    /// a key the target has (`123` where the server has `00123`): creating it would
    /// make a second record. `None`: the key is simply new.
    fn held_key(&mut self, res: &RowResult) -> Option<Planned> {
        let (Some(field), Some(key)) = (self.key_field, res.key.as_deref()) else {
            return None;
        };
        if !self.index.is_read() || self.index.id_for_key(key).is_some() {
            return None;
        }
        let index = &self.index;
        let by_form = self.damaged_keys.get_or_insert_with(|| {
            let mut by_form: HashMap<String, Vec<String>> = HashMap::new();
            for remote in index.keys() {
                for form in super::excel_damage::damaged_forms(remote) {
                    by_form.entry(form).or_default().push(remote.to_string());
                }
            }
            for keys in by_form.values_mut() {
                keys.sort();
            }
            by_form
        });
        let remote = by_form.get(key.trim())?;
        let why = self.guard.held_key(
            field,
            remote,
            key.trim(),
            res.number,
            self.spec.entity.one(),
        );
        Some(decided(Verb::from(self.mode), Status::Invalid, why))
    }

    fn plan_create(&mut self, res: &RowResult, payload: Map<String, Value>) -> Planned {
        let key_name = self.key_field.unwrap_or("key");
        if let Some(held) = self.held_key(res) {
            return held;
        }
        if let Some(key) = res.key.as_deref()
            && let Some(id) = self.index.id_for_key(key)
        {
            let reason = format!(
                "already exists as {} {id} ({key_name} {key}); not created again — use --mode upsert to update it",
                self.entity_one()
            );
            return Planned::Send(send(
                Action::Skip {
                    id: Some(id.to_string()),
                    reason,
                },
                None,
            ));
        }
        Planned::Send(self.create_once(res, payload))
    }

    /// A create, unless the row has no natural key and the target holds the same
    /// content ([`EntitySpec::remember_by_content`]). The target's listing decides where
    /// it was read; the ledger's memory only where it was not, and a memory the target
    /// contradicts is said in a note.
    fn create_once(&mut self, res: &RowResult, payload: Map<String, Value>) -> Send {
        if !self.spec.remember_by_content || res.key.is_some() {
            return send(Action::Create, Some(payload));
        }
        let identity = self.identity(&payload);
        let one = self.spec.entity.one();
        let same = describe_identity(&payload);
        let remembered = self.remembered.get(&identity).cloned();
        let found = if self.index.is_read() {
            self.found_by_content(&payload, &identity)
        } else {
            remembered.clone()
        };
        let mut s = match (found, remembered) {
            (Some(id), remembered) => {
                let reason = if remembered.as_deref() == Some(id.as_str()) {
                    format!(
                        "already created by an earlier sheetload run as {one} {id} (the same {same}); not created again"
                    )
                } else {
                    format!(
                        "already on the server as {one} {id} (the same {same}); not created again"
                    )
                };
                send(
                    Action::Skip {
                        id: Some(id),
                        reason,
                    },
                    None,
                )
            }
            // The listing's shape may hide the content (a field renamed or typed
            // differently): the remembered id, listed, still proves it is there.
            (None, Some(id)) if self.index.is_read() && self.index.contains(&id) => send(
                Action::Skip {
                    id: Some(id.clone()),
                    reason: format!(
                        "already created by an earlier sheetload run as {one} {id}, and the server lists {one} {id} (found by id; its listed fields did not show the same {same}); not created again"
                    ),
                },
                None,
            ),
            (None, Some(id)) => {
                let mut s = send(Action::Create, Some(payload));
                s.note = format!(
                    "note: the ledger had this as {one} {id} (the same {same}) but the server has no such {one}: created again"
                );
                s
            }
            (None, None) => send(Action::Create, Some(payload)),
        };
        s.ledger_key = Some(identity);
        s
    }

    /// The id of the target's record with this row's content and occurrence (`#n`: the
    /// n-th such record by ascending id), if the target has it.
    fn found_by_content(&mut self, payload: &Map<String, Value>, identity: &str) -> Option<String> {
        let mut pairs = Vec::new();
        flatten("", &self.as_filed(payload), &mut pairs);
        pairs.sort();
        let paths: Vec<String> = pairs.iter().map(|(k, _)| k.clone()).collect();
        let index = &self.index;
        let by_hash = self.on_server.entry(paths.clone()).or_insert_with(|| {
            let mut by_hash: HashMap<String, Vec<String>> = HashMap::new();
            for (id, record) in index.records() {
                let Value::Object(map) = record else { continue };
                let mut all = Vec::new();
                flatten("", &map, &mut all);
                // A listed value stands for the row's when the API only shapes it
                // differently (a date listed as a timestamp).
                let mut mine: Vec<(String, String)> = all
                    .into_iter()
                    .filter_map(|(k, v)| {
                        let sent = pairs.iter().find(|(p, _)| *p == k)?;
                        let v = crate::connector::parse::listed_as_sent(&sent.1, &v);
                        Some((k, v.to_string()))
                    })
                    .collect();
                mine.sort();
                if mine.len() == paths.len() {
                    by_hash
                        .entry(content_hash(&mine))
                        .or_default()
                        .push(id.to_string());
                }
            }
            for ids in by_hash.values_mut() {
                ids.sort_by_key(|id| (id.parse::<u64>().unwrap_or(u64::MAX), id.clone()));
            }
            by_hash
        });
        // The ledger's identity hashes the row as sent; the target's records are
        // matched with what it fills in (the same for every row of this run).
        let (_, nth) = identity.trim_start_matches("content:").split_once('#')?;
        let nth: usize = nth.parse().ok()?;
        by_hash
            .get(&content_hash(&pairs))?
            .get(nth.checked_sub(1)?)
            .cloned()
    }

    /// The identity of a record without a natural key: a hash of what it is (its
    /// payload, references resolved), and which of the identical rows of this file it
    /// is, so that two identical rows create two records once, and nothing on a rerun.
    fn identity(&mut self, payload: &Map<String, Value>) -> String {
        let mut pairs: Vec<(String, String)> = Vec::new();
        flatten("", payload, &mut pairs);
        pairs.sort();
        let content = content_hash(&pairs);
        let n = self.seen.entry(content.clone()).or_insert(0);
        *n += 1;
        format!("content:{content}#{n}")
    }

    fn plan_change(&mut self, res: &RowResult, payload: Map<String, Value>) -> Planned {
        let word = Verb::from(self.mode);
        let spec = self.spec;
        let one = spec.entity.one();
        let key_name = self.key_field.unwrap_or("key");
        let key = res.key.as_deref();
        let by_key = key
            .and_then(|k| self.index.id_for_key(k))
            .map(str::to_string);
        let mut note = String::new();
        let target = match res.id.map(|i| i.to_string()) {
            Some(id) if self.index.contains(&id) => Some(id),
            // The sheet names an id the database no longer has (an old export).
            Some(id) => match (self.mode, key) {
                (Mode::Upsert, Some(k)) => {
                    note = match &by_key {
                        Some(found) => format!(
                            "note: {one} {id} no longer exists; matched by {key_name} {k} ({one} {found})"
                        ),
                        None => format!(
                            "note: {one} {id} no longer exists; created anew by its {key_name} {k}"
                        ),
                    };
                    by_key
                }
                (Mode::Upsert, None) => {
                    return decided(
                        word,
                        Status::Invalid,
                        format!(
                            "no {one} with id {id} in this database, and the row has no {key_name} to create it by: fix the id, or empty it to create the {one}"
                        ),
                    );
                }
                _ => {
                    return decided(
                        word,
                        Status::Failed,
                        format!("no {one} with id {id} in this database"),
                    );
                }
            },
            None => by_key,
        };
        let Some(id) = target else {
            if let Some(held) = self.held_key(res) {
                return held;
            }
            if self.mode == Mode::Upsert {
                let mut s = self.create_once(res, payload);
                s.note = note;
                return Planned::Send(s);
            }
            if key.is_none() {
                return decided(
                    word,
                    Status::Invalid,
                    nothing_identifies(one, key_name, "update", res),
                );
            }
            return decided(
                word,
                Status::Failed,
                format!(
                    "no {one} with {key_name} '{}' in this database; use --mode upsert to create it",
                    key.unwrap_or_default()
                ),
            );
        };
        let remote = self.index.record(&id).filter(|r| !r.is_null());
        let changes = match &remote {
            Some(remote) => diff(&payload, remote),
            None => payload,
        };
        if let Some(remote) = &remote {
            let held = self.guard.held(&changes, remote, res.number, &res.secrets);
            if !held.is_empty() {
                return decided(word, Status::Invalid, held.join("; "));
            }
        }
        let mut s = if changes.is_empty() {
            send(
                Action::Skip {
                    id: Some(id),
                    reason: String::new(),
                },
                None,
            )
        } else {
            let described = describe_changes(&changes, remote.as_ref(), &res.secrets);
            let mut s = send(Action::Update { id }, Some(changes));
            s.changes = described;
            s
        };
        s.note = note;
        Planned::Send(s)
    }

    fn plan_delete(&self, res: &RowResult) -> Planned {
        let one = self.entity_one();
        let key_name = self.key_field.unwrap_or("key");
        let key = res.key.as_deref();
        let target = match res.id.map(|id| id.to_string()) {
            // The same answer as the real run's DELETE: the target was read, and it
            // has no such record.
            Some(id) if self.index.is_read() && !self.index.contains(&id) => {
                return decided(
                    Verb::Delete,
                    Status::Failed,
                    format!(
                        "no {one} with id {id} in this database (not found): nothing to delete"
                    ),
                );
            }
            Some(id) => Some(id),
            None => key
                .and_then(|k| self.index.id_for_key(k))
                .map(str::to_string),
        };
        match target {
            Some(id) => Planned::Send(send(Action::Delete { id }, None)),
            None if key.is_none() => decided(
                Verb::Delete,
                Status::Invalid,
                nothing_identifies(one, key_name, "delete", res),
            ),
            None => decided(
                Verb::Delete,
                Status::Failed,
                format!(
                    "no {one} with {key_name} '{}' in this database",
                    key.unwrap_or_default()
                ),
            ),
        }
    }
}

/// Why a row without id and key cannot be updated or deleted (a shared key such as the
/// anonymous-consumer tax number says which record it is not).
fn nothing_identifies(one: &str, key_name: &str, verb: &str, res: &RowResult) -> String {
    let mut why = format!(
        "nothing says which {one} to {verb}: give its id, or a {key_name} that only it has"
    );
    for w in &res.warnings {
        why.push_str("; ");
        why.push_str(w);
    }
    why
}

/// A short hash of sorted `path=value` pairs.
fn content_hash(pairs: &[(String, String)]) -> String {
    let mut h = Sha256::new();
    for (k, v) in pairs {
        h.update(k.as_bytes());
        h.update([0]);
        h.update(v.as_bytes());
        h.update([1]);
    }
    h.finalize()
        .iter()
        .take(12)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `path=value` pairs of a payload, nested objects flattened with dots (strings
/// trimmed and lowercased, anything else as JSON: what [`crate::dispatch::Content`]
/// compares).
pub fn flatten(prefix: &str, map: &Map<String, Value>, out: &mut Vec<(String, String)>) {
    for (k, v) in map {
        let path = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            Value::Object(inner) => flatten(&path, inner, out),
            Value::String(s) => out.push((path, s.trim().to_lowercase())),
            other => out.push((path, other.to_string())),
        }
    }
}

/// `date 2026-12-01, customer_id 1000001, team_id 7`: what identifies a record
/// remembered by content, for messages.
pub fn describe_identity(payload: &Map<String, Value>) -> String {
    let mut pairs = Vec::new();
    flatten("", payload, &mut pairs);
    pairs
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn shown(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "(empty)".into(),
        Some(Value::String(s)) if s.is_empty() => "(empty)".into(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// `phone: 0811 → 0812; city: Semarang → Solo` — what an update changes on the record.
/// Secret fields show as `***`.
pub fn describe_changes(
    changes: &Map<String, Value>,
    remote: Option<&Value>,
    secrets: &[String],
) -> String {
    changes
        .iter()
        .map(|(k, new)| {
            if secrets.iter().any(|s| s == k) {
                return format!("{k}: *** → ***");
            }
            let old = remote.and_then(|r| r.get(k));
            format!("{k}: {} → {}", shown(old), shown(Some(new)))
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The body as `_payload` shows it: JSON with secret fields masked.
pub fn display_body(body: Option<&Value>, secrets: &[String]) -> String {
    let Some(body) = body else {
        return String::new();
    };
    let mut shown = body.clone();
    if let Value::Object(m) = &mut shown {
        for s in secrets {
            if let Some(v) = m.get_mut(s) {
                *v = Value::String("***".into());
            }
        }
    }
    serde_json::to_string(&shown).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn changes_read_old_to_new() {
        let remote = json!({"phone": "0811", "city": "Semarang"});
        let changes = json!({"phone": "0812", "city": null});
        let text = describe_changes(changes.as_object().unwrap(), Some(&remote), &[]);
        assert_eq!(text, "city: Semarang → (empty); phone: 0811 → 0812");
        let masked = describe_changes(
            changes.as_object().unwrap(),
            Some(&remote),
            &["phone".into()],
        );
        assert!(masked.ends_with("phone: *** → ***"), "{masked}");
    }

    #[test]
    fn identical_rows_get_distinct_identities_in_order() {
        let spec = crate::spec::builtin(
            crate::spec::TargetId::SalesMania,
            crate::spec::Entity::Visits,
        )
        .unwrap();
        let new = || {
            Planner::new(
                &spec,
                Mode::Create,
                None,
                Index::default(),
                Resolver::default(),
                HashMap::new(),
            )
        };
        let mut p = new();
        let a = json!({"date": "2026-12-01", "customer_id": 5});
        let b = json!({"customer_id": 5, "date": "2026-12-01"});
        let first = p.identity(a.as_object().unwrap());
        let second = p.identity(b.as_object().unwrap());
        assert_ne!(first, second, "the second identical row is another visit");
        assert_eq!(first.split('#').next(), second.split('#').next());
        let mut again = new();
        assert_eq!(again.identity(b.as_object().unwrap()), first);
    }

    #[test]
    fn the_team_the_target_fills_in_is_matched_not_remembered() {
        let spec = crate::spec::builtin(
            crate::spec::TargetId::SalesMania,
            crate::spec::Entity::Visits,
        )
        .unwrap();
        let new = |filled: &[(String, String)]| {
            Planner::new(
                &spec,
                Mode::Create,
                None,
                Index::default(),
                Resolver::default(),
                HashMap::new(),
            )
            .filled_by_target(filled)
        };
        let mut p = new(&[("team_id".into(), "24728".into())]);
        let teamless = json!({"date": "2026-12-01", "customer_id": 5});
        let own = json!({"date": "2026-12-01", "customer_id": 5, "team_id": 7});
        let filed = p.as_filed(teamless.as_object().unwrap());
        assert_eq!(filed["team_id"], json!(24728));
        assert_eq!(p.as_filed(own.as_object().unwrap())["team_id"], json!(7));
        // The ledger's identity stays that of the row as sent.
        assert_eq!(
            p.identity(teamless.as_object().unwrap()),
            new(&[]).identity(teamless.as_object().unwrap())
        );
    }
}
