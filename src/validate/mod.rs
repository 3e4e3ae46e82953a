//! Row validation: typed values from cells per the spec, row rules, and payloads.
//!
//! An invalid row is data, not an abort: it comes back with every reason, each naming
//! its column and cell, and the run goes on.

pub mod duplicates;
pub mod turkish;
pub mod values;

use serde_json::{Map, Value as Json};

use crate::input::{Cell, CellKind, RawRow, Table};
use crate::mapping::{Binding, Mapping};
use crate::spec::{EntitySpec, FieldSpec, FieldType, GroupSpec, Mode, RuleKind};
pub use values::{DecimalStyle, ParseOptions, ValueError};

/// One reason a row is not acceptable.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// The field (`phone`, `unit2_ratio`), for summaries.
    pub field: String,
    /// The column as the file names it (or the field name for constants and rules).
    pub column: String,
    /// The cell, `Customers!D14`, when one cell is to blame.
    pub cell: Option<String>,
    /// Value-free text for grouping: "is not a phone number".
    pub summary: String,
    /// The full reason, with the value and how to fix it.
    pub detail: String,
}

impl Problem {
    /// How the problem reads in `_error` and messages: `Telepon (D14): '…' is not …`.
    pub fn render(&self) -> String {
        match &self.cell {
            Some(c) => format!("{} ({}): {}", self.column, short_ref(c), self.detail),
            None => format!("{}: {}", self.column, self.detail),
        }
    }
}

/// `Customers!D14` → `D14`: the sheet is the same for the whole file.
fn short_ref(cell: &str) -> &str {
    cell.rsplit_once('!').map_or(cell, |(_, r)| r)
}

/// A reference to another entity that is resolved to an id before sending.
#[derive(Debug, Clone, PartialEq)]
pub struct Reference {
    /// Payload path the resolved id goes to (`customer_id`).
    pub path: String,
    /// The referenced entity (`customers`).
    pub entity: String,
    /// Fields of that entity that may match (`ext_cust_no`).
    pub by: Vec<String>,
    /// The value written in the sheet.
    pub value: String,
    /// The column it came from.
    pub column: String,
}

/// The verdict on one row.
#[derive(Debug, Clone)]
pub struct RowResult {
    /// Row number in the sheet.
    pub number: u32,
    /// Every reason the row is invalid; empty when valid.
    pub problems: Vec<Problem>,
    /// The body to send (without references still to resolve); built even when invalid
    /// so that a user sees what was understood.
    pub payload: Map<String, Json>,
    /// The natural key (`ext_cust_no`), trimmed, when given.
    pub key: Option<String>,
    /// The remote id, when the row names one.
    pub id: Option<i64>,
    /// References to resolve before sending.
    pub refs: Vec<Reference>,
    /// Things worth a look that do not make the row invalid (the anonymous-consumer
    /// tax number, a VKN on a person).
    pub warnings: Vec<String>,
    /// Payload paths holding secrets (passwords), masked wherever the payload is shown.
    pub secrets: Vec<String>,
}

impl RowResult {
    /// Valid when nothing is wrong.
    pub fn is_valid(&self) -> bool {
        self.problems.is_empty()
    }

    /// The payload as shown in `_payload`: the body, plus a `_resolve` object naming the
    /// references still to look up.
    pub fn payload_display(&self) -> String {
        if self.refs.is_empty() && self.secrets.is_empty() {
            return serde_json::to_string(&self.payload).unwrap_or_default();
        }
        let mut shown = self.payload.clone();
        for path in &self.secrets {
            if shown.contains_key(path) {
                shown.insert(path.clone(), Json::String("***".into()));
            }
        }
        let mut resolve = Map::new();
        for r in &self.refs {
            resolve.insert(
                r.path.clone(),
                Json::String(format!("{} by {} = {}", r.entity, r.by.join("/"), r.value)),
            );
        }
        shown.insert("_resolve".into(), Json::Object(resolve));
        Json::Object(shown).to_string()
    }

    /// All problems joined for the `_error` column.
    pub fn error_text(&self) -> String {
        self.problems
            .iter()
            .map(Problem::render)
            .chain(self.warnings.iter().map(|w| format!("warning: {w}")))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// A typed value ready for the payload.
#[derive(Debug, Clone, PartialEq)]
enum Typed {
    /// The clear marker: send "empty this field".
    Clear,
    Json(Json),
    /// A value that passes with a warning.
    Warned(Json, String),
    Location(f64, f64),
    Reference(String),
    Id(i64),
}

/// Validates rows of one table against one spec and mapping; shareable across threads.
pub struct Validator<'a> {
    spec: &'a EntitySpec,
    mapping: &'a Mapping,
    table: &'a Table,
    mode: Mode,
    opts: ParseOptions,
    key_field: Option<usize>,
    duplicates: Option<&'a duplicates::DuplicateIndex>,
}

/// A value's text with where it came from.
///
/// Cell references and column names are only rendered when a problem needs them: most
/// values are fine, and formatting them for every cell would dominate the run time.
struct Sourced<'c> {
    field: &'c str,
    text: &'c str,
    kind: CellKind,
    origin: Origin,
}

/// Where a value came from.
#[derive(Clone, Copy)]
enum Origin {
    Constant,
    Default,
    Cell { row: u32, col: usize },
}

impl<'a> Validator<'a> {
    /// Prepare a validator; `duplicates` comes from a first pass over the file.
    pub fn new(
        spec: &'a EntitySpec,
        mapping: &'a Mapping,
        table: &'a Table,
        mode: Mode,
        opts: ParseOptions,
        duplicates: Option<&'a duplicates::DuplicateIndex>,
    ) -> Self {
        let key_field = spec
            .natural_key
            .as_ref()
            .and_then(|k| spec.fields.iter().position(|f| &f.name == k));
        Validator {
            spec,
            mapping,
            table,
            mode,
            opts,
            key_field,
            duplicates,
        }
    }

    /// The text a binding gives for this row: constant, then cell, then default.
    fn source<'c>(&self, b: &'c Binding, row: &'c RawRow, name: &'c str) -> Option<Sourced<'c>> {
        if let Some(c) = &b.constant {
            return Some(Sourced {
                field: name,
                text: c,
                kind: CellKind::Text,
                origin: Origin::Constant,
            });
        }
        if let Some(col) = b.column {
            let cell: &Cell = &row.cells[col];
            if !cell.is_empty() {
                return Some(Sourced {
                    field: name,
                    text: &cell.text,
                    kind: cell.kind,
                    origin: Origin::Cell {
                        row: row.number,
                        col,
                    },
                });
            }
        }
        b.default.as_ref().map(|d| Sourced {
            field: name,
            text: d,
            kind: CellKind::Text,
            origin: Origin::Default,
        })
    }

    /// The column a value came from, as the file names it.
    fn column_name(&self, src: &Sourced<'_>) -> String {
        match src.origin {
            Origin::Constant => format!("{} (constant)", src.field),
            Origin::Default => format!("{} (default)", src.field),
            Origin::Cell { col, .. } => self.table.column_name(col),
        }
    }

    /// The cell a value came from, when it came from one.
    fn cell_ref(&self, src: &Sourced<'_>) -> Option<String> {
        match src.origin {
            Origin::Cell { row, col } => Some(self.table.cell_ref(row, col)),
            _ => None,
        }
    }

    /// The column name to blame for a field with no value.
    fn column_of(&self, b: &Binding, name: &str) -> String {
        b.column
            .map(|c| self.table.column_name(c))
            .unwrap_or_else(|| name.to_string())
    }

    /// Validate one row.
    pub fn validate(&self, row: &RawRow) -> RowResult {
        let mut res = RowResult {
            number: row.number,
            problems: Vec::new(),
            payload: Map::new(),
            key: None,
            id: None,
            refs: Vec::new(),
            warnings: Vec::new(),
            secrets: Vec::new(),
        };
        let mut present = vec![false; self.spec.fields.len()];
        for (i, f) in self.spec.fields.iter().enumerate() {
            let b = &self.mapping.fields[i];
            let Some(src) = self.source(b, row, &f.name) else {
                continue;
            };
            present[i] = true;
            match self.typed(f, &src) {
                Ok(v) => {
                    if Some(i) == self.key_field {
                        // The key as it will be stored (a tax number without its dots).
                        res.key = Some(match &v {
                            Typed::Json(Json::String(s)) | Typed::Warned(Json::String(s), _) => {
                                s.clone()
                            }
                            _ => src.text.trim().to_string(),
                        });
                    }
                    self.place(f, v, &src, &mut res);
                }
                Err(p) => res.problems.push(p),
            }
        }
        if let Some(k) = res.key.take_if(|k| self.spec.is_shared_key(k)) {
            // Shared by many records, it identifies none: the row is matched by its id
            // only, and otherwise created.
            let field = self
                .key_field
                .map_or("key", |i| self.spec.fields[i].name.as_str());
            res.warnings.push(format!(
                "{field} {k} is shared by many records, so it is not used to find one: the row is created, or updated only by its id"
            ));
        }
        self.check_tax_type(&mut res);
        self.check_required(row, &present, &mut res);
        self.check_rules(&present, &mut res);
        for (g, group) in self.spec.groups.iter().enumerate() {
            self.group(g, group, row, &mut res);
        }
        if let (Some(dups), Some(key)) = (self.duplicates, &res.key)
            && let Some(others) = dups.others(key, row.number)
            && let Some(kf) = self.key_field
        {
            let b = &self.mapping.fields[kf];
            let shown: Vec<String> = others.iter().take(10).map(|r| r.to_string()).collect();
            let more = if others.len() > 10 {
                format!(" and {} more", others.len() - 10)
            } else {
                String::new()
            };
            res.problems.push(Problem {
                field: self.spec.fields[kf].name.clone(),
                column: self.column_of(b, &self.spec.fields[kf].name),
                cell: b.column.map(|c| self.table.cell_ref(row.number, c)),
                summary: "is duplicated in the file".into(),
                detail: format!(
                    "'{}' is duplicated in the file: it also appears in row{} {}{more}; keep one row per {}",
                    key,
                    if others.len() == 1 { "" } else { "s" },
                    shown.join(", "),
                    self.spec.fields[kf].name
                ),
            });
        }
        res
    }

    fn problem(&self, src: &Sourced<'_>, e: ValueError) -> Problem {
        Problem {
            field: src.field.to_string(),
            column: self.column_name(src),
            cell: self.cell_ref(src),
            summary: e.summary,
            detail: e.detail,
        }
    }

    /// Parse one value per its field type and constraints.
    fn typed(&self, f: &FieldSpec, src: &Sourced<'_>) -> Result<Typed, Problem> {
        use values::*;
        if src.kind == CellKind::Error {
            return Err(Problem {
                field: src.field.to_string(),
                column: self.column_name(src),
                cell: self.cell_ref(src),
                summary: "holds a formula error".into(),
                detail: format!(
                    "the cell holds the error {} (a broken formula): fix the formula or type the value",
                    src.text
                ),
            });
        }
        let numeric = src.kind == CellKind::Number;
        let text = src.text;
        let word = text.trim();
        if word == crate::spec::CLEAR_MARKER || self.spec.clear_words.iter().any(|w| w == word) {
            let refuse = |why: String| Problem {
                field: src.field.to_string(),
                column: self.column_name(src),
                cell: self.cell_ref(src),
                summary: "cannot be cleared".into(),
                detail: why,
            };
            if f.secret {
                return Err(refuse(format!(
                    "'{word}' cannot clear a password: leave the cell empty to keep it, or type the new one"
                )));
            }
            if f.required_in(self.mode) || f.is_id || f.resolve.is_some() {
                return Err(refuse(format!(
                    "'{word}' cannot clear a field that is required here"
                )));
            }
            return Ok(Typed::Clear);
        }
        // A secret's value is never quoted back in a message.
        let err = |e: ValueError| {
            let mut p = self.problem(src, e);
            if f.secret {
                p.detail = format!("{} (the value is not shown)", p.summary);
            }
            p
        };
        let v = match f.kind {
            FieldType::String => {
                let t = text.trim();
                if let Some(max) = f.max_len {
                    let n = t.chars().count();
                    if n > max {
                        return Err(err(ValueError {
                            summary: format!("is longer than {max} characters"),
                            detail: format!(
                                "{n} characters is longer than the {max} allowed: shorten it"
                            ),
                        }));
                    }
                }
                if f.resolve.is_some() {
                    return Ok(Typed::Reference(t.to_string()));
                }
                Typed::Json(Json::String(t.to_string()))
            }
            FieldType::Integer => {
                let n = parse_integer(text, numeric, &self.opts).map_err(err)?;
                self.range(f, n as f64, text).map_err(err)?;
                Typed::Json(Json::from(n))
            }
            FieldType::Decimal => {
                let n = parse_decimal(text, numeric, &self.opts).map_err(err)?;
                self.range(f, n, text).map_err(err)?;
                Typed::Json(json_number(n))
            }
            FieldType::Boolean => Typed::Json(Json::Bool(parse_bool(text).map_err(err)?)),
            FieldType::Date => {
                let d = parse_date(text, &self.opts).map_err(err)?;
                Typed::Json(Json::String(d.format("%Y-%m-%d").to_string()))
            }
            FieldType::Latitude => Typed::Json(json_number(parse_latitude(text).map_err(err)?)),
            FieldType::Longitude => Typed::Json(json_number(parse_longitude(text).map_err(err)?)),
            FieldType::Location => {
                let (lat, lon) = parse_location(text).map_err(err)?;
                Typed::Location(lat, lon)
            }
            FieldType::Phone => Typed::Json(Json::String(parse_phone(text).map_err(err)?)),
            FieldType::Email => Typed::Json(Json::String(parse_email(text).map_err(err)?)),
            FieldType::Tags => Typed::Json(Json::Array(
                parse_tags(text).into_iter().map(Json::String).collect(),
            )),
            FieldType::Discount => Typed::Json(Json::String(parse_discount(text).map_err(err)?)),
            FieldType::Enum => Typed::Json(Json::String(self.enum_value(f, text).map_err(err)?)),
            FieldType::TaxNumber => match turkish::parse_tax_number(text).map_err(err)? {
                turkish::Checked::Ok(v) => Typed::Json(Json::String(v)),
                turkish::Checked::Warn(v, why) => Typed::Warned(Json::String(v), why),
            },
            FieldType::Iban => Typed::Json(Json::String(turkish::parse_iban(text).map_err(err)?)),
            FieldType::TrPhone => {
                Typed::Json(Json::String(turkish::parse_tr_phone(text).map_err(err)?))
            }
            FieldType::Id => {
                let id = parse_id(text).map_err(err)?;
                if f.is_id {
                    Typed::Id(id)
                } else {
                    Typed::Json(Json::from(id))
                }
            }
        };
        Ok(v)
    }

    fn range(&self, f: &FieldSpec, n: f64, text: &str) -> Result<(), ValueError> {
        let shown = text.trim();
        if let Some(min) = f.min
            && n < min
        {
            return Err(ValueError {
                summary: format!("is below {min}"),
                detail: format!("'{shown}' is below the minimum of {min}"),
            });
        }
        if let Some(max) = f.max
            && n > max
        {
            return Err(ValueError {
                summary: format!("is above {max}"),
                detail: format!("'{shown}' is above the maximum of {max}"),
            });
        }
        Ok(())
    }

    fn enum_value(&self, f: &FieldSpec, text: &str) -> Result<String, ValueError> {
        let norm = crate::mapping::normalize(text);
        if let Some(v) = f
            .values
            .iter()
            .find(|v| crate::mapping::normalize(v) == norm)
        {
            return Ok(v.clone());
        }
        if let Some((_, v)) = f
            .value_aliases
            .iter()
            .find(|(k, _)| crate::mapping::normalize(k) == norm)
        {
            return Ok(v.clone());
        }
        Err(ValueError {
            summary: "is not an allowed value".into(),
            detail: format!("'{}' is not one of: {}", text.trim(), f.values.join(", ")),
        })
    }

    /// Put a typed value where it belongs: payload path, id, or reference list.
    fn place(&self, f: &FieldSpec, v: Typed, src: &Sourced<'_>, res: &mut RowResult) {
        if f.secret
            && let Some(path) = &f.path
        {
            res.secrets.push(path.clone());
        }
        match v {
            Typed::Clear => {
                if let Some(path) = &f.path {
                    set_path(&mut res.payload, path, Json::Null);
                }
            }
            Typed::Warned(j, why) => {
                res.warnings
                    .push(format!("{} ({}): {why}", self.column_name(src), f.name));
                if let Some(path) = &f.path {
                    set_path(&mut res.payload, path, j);
                }
            }
            Typed::Id(id) => res.id = Some(id),
            Typed::Reference(value) => {
                if let (Some(path), Some(r)) = (&f.path, &f.resolve) {
                    res.refs.push(Reference {
                        path: path.clone(),
                        entity: r.entity.clone(),
                        by: r.by.clone(),
                        value,
                        column: self.column_name(src),
                    });
                }
            }
            Typed::Location(lat, lon) => {
                if let Some(path) = &f.path {
                    set_path(&mut res.payload, &format!("{path}.lat"), json_number(lat));
                    set_path(&mut res.payload, &format!("{path}.lon"), json_number(lon));
                }
            }
            Typed::Json(j) => {
                if let Some(path) = &f.path {
                    // An id that refers to another entity (a visit's customer_id) is
                    // checked to exist before anything is sent, as a code would be.
                    if let (FieldType::Id, Some(r)) = (f.kind, &f.resolve)
                        && let Some(value) = crate::connector::parse::scalar_text(&j)
                    {
                        res.refs.push(Reference {
                            path: path.clone(),
                            entity: r.entity.clone(),
                            by: r.by.clone(),
                            value,
                            column: self.column_name(src),
                        });
                    }
                    set_path(&mut res.payload, path, j);
                }
            }
        }
    }

    /// A company is expected to have a 10-digit VKN and a person an 11-digit TCKN; the
    /// API takes either, so a mismatch is a warning, not an error.
    fn check_tax_type(&self, res: &mut RowResult) {
        let (Some(kind), Some(number)) = (
            res.payload.get("type").and_then(Json::as_str),
            res.payload.get("tax_number").and_then(Json::as_str),
        ) else {
            return;
        };
        let expected = match kind {
            "company" => 10,
            "person" => 11,
            _ => return,
        };
        if number.len() != expected && number != "11111111111" {
            res.warnings.push(format!(
                "a {kind} usually has a {expected}-digit {}; '{number}' has {} digits",
                if expected == 10 { "VKN" } else { "TCKN" },
                number.len()
            ));
        }
    }

    fn check_required(&self, row: &RawRow, present: &[bool], res: &mut RowResult) {
        for (i, f) in self.spec.fields.iter().enumerate() {
            if f.required_in(self.mode) && !present[i] {
                let b = &self.mapping.fields[i];
                res.problems.push(Problem {
                    field: f.name.clone(),
                    column: self.column_of(b, &f.name),
                    cell: b.column.map(|c| self.table.cell_ref(row.number, c)),
                    summary: "is required".into(),
                    detail: format!("is empty but required for {}: {}", self.mode, f.help),
                });
            }
        }
    }

    fn check_rules(&self, present: &[bool], res: &mut RowResult) {
        let idx = |name: &str| self.spec.fields.iter().position(|f| f.name == name);
        for rule in self.spec.rules.iter().filter(|r| r.applies(self.mode)) {
            let given: Vec<&str> = rule
                .fields
                .iter()
                .filter(|n| idx(n).is_some_and(|i| present[i]))
                .map(String::as_str)
                .collect();
            let cols = |names: &[&str]| -> String {
                names
                    .iter()
                    .map(|n| {
                        idx(n)
                            .map(|i| self.column_of(&self.mapping.fields[i], n))
                            .unwrap_or_else(|| n.to_string())
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let all: Vec<&str> = rule.fields.iter().map(String::as_str).collect();
            let problem = match rule.kind {
                RuleKind::Together if !given.is_empty() && given.len() < all.len() => {
                    let missing: Vec<&str> =
                        all.iter().copied().filter(|n| !given.contains(n)).collect();
                    Some((
                        missing.join("/"),
                        cols(&missing),
                        format!("is required with {}", given.join("/")),
                        format!(
                            "is empty while {} is given: fill both or neither",
                            cols(&given)
                        ),
                    ))
                }
                RuleKind::OneOf if given.is_empty() => Some((
                    all.join("/"),
                    cols(&all),
                    "has none of the required columns".to_string(),
                    format!("all are empty: one of {} is required", cols(&all)),
                )),
                RuleKind::RequiredIf => {
                    let holds = rule.when.as_ref().is_some_and(|w| {
                        self.spec
                            .field(&w.field)
                            .and_then(|f| f.path.as_ref())
                            .and_then(|p| res.payload.get(p))
                            .and_then(Json::as_str)
                            .is_some_and(|v| v.trim().eq_ignore_ascii_case(w.value.trim()))
                    });
                    let missing: Vec<&str> =
                        all.iter().copied().filter(|n| !given.contains(n)).collect();
                    match (&rule.when, holds && !missing.is_empty()) {
                        (Some(w), true) => Some((
                            missing.join("/"),
                            cols(&missing),
                            format!("is required when {} is {}", w.field, w.value),
                            format!("is empty, but a {} {} needs it", w.value, w.field),
                        )),
                        _ => None,
                    }
                }
                RuleKind::AtMostOne if given.len() > 1 => Some((
                    given.join("/"),
                    cols(&given),
                    "gives the same thing twice".to_string(),
                    "more than one is filled in: give only one of them".to_string(),
                )),
                _ => None,
            };
            if let Some((field, column, summary, detail)) = problem {
                res.problems.push(Problem {
                    field,
                    column,
                    cell: None,
                    summary,
                    detail,
                });
            }
        }
    }

    /// A repeated column group (product units) into an array of objects.
    fn group(&self, g: usize, group: &GroupSpec, row: &RawRow, res: &mut RowResult) {
        let instances = self.mapping.groups.get(g).map(Vec::as_slice).unwrap_or(&[]);
        let mut items: Vec<(usize, Map<String, Json>, Option<i64>)> = Vec::new();
        let mut ok = true;
        for (k, bindings) in instances.iter().enumerate() {
            let mut obj = Map::new();
            let mut base_val = None;
            let mut used = false;
            let mut missing = Vec::new();
            for (m, member) in group.fields.iter().enumerate() {
                let header = group.header(k + 1, &member.name);
                match self.source(&bindings[m], row, &header) {
                    Some(src) => {
                        used = true;
                        match self.typed(member, &src) {
                            Ok(Typed::Json(j)) => {
                                if group.base.as_ref().is_some_and(|b| b.field == member.name) {
                                    base_val = j.as_i64();
                                }
                                if let Some(p) = &member.path {
                                    obj.insert(p.clone(), j);
                                }
                            }
                            Ok(_) => {}
                            Err(p) => {
                                ok = false;
                                res.problems.push(p);
                            }
                        }
                    }
                    None => {
                        if !member.required.is_empty() {
                            missing.push((m, header));
                        }
                    }
                }
            }
            if !used {
                continue;
            }
            for (m, header) in missing {
                ok = false;
                let b = &bindings[m];
                res.problems.push(Problem {
                    field: header.clone(),
                    column: self.column_of(b, &header),
                    cell: b.column.map(|c| self.table.cell_ref(row.number, c)),
                    summary: format!("is required when other {} columns are filled", group.name),
                    detail: format!(
                        "is empty while other {} columns of this row are filled: {}",
                        group.header(k + 1, ""),
                        group.fields[m].help
                    ),
                });
            }
            items.push((k, obj, base_val));
        }
        if items.is_empty() {
            if group.required.contains(&self.mode) {
                res.problems.push(Problem {
                    field: group.path.clone(),
                    column: group.header(1, &group.fields[0].name),
                    cell: None,
                    summary: format!("needs at least one {}", group.name),
                    detail: format!("no {} is given: {}", group.name, group.help),
                });
            }
            return;
        }
        if !ok {
            return;
        }
        if let Some(base) = &group.base {
            if items.len() == 1 && base.implied_when_single && items[0].2.is_none() {
                items[0].2 = Some(base.value);
                items[0]
                    .1
                    .insert(base.field.clone(), Json::from(base.value));
            }
            let bases: Vec<String> = items
                .iter()
                .filter(|(_, _, v)| *v == Some(base.value))
                .map(|(k, _, _)| group.header(k + 1, &base.field))
                .collect();
            if bases.len() != 1 {
                let (summary, detail) = if bases.is_empty() {
                    (
                        format!(
                            "has no base {} ({} = {})",
                            group.name, base.field, base.value
                        ),
                        format!(
                            "no {} has {} = {}: exactly one must be the base {}",
                            group.name, base.field, base.value, group.name
                        ),
                    )
                } else {
                    (
                        format!("has more than one base {}", group.name),
                        format!(
                            "{} all have {} = {}: exactly one {} may be the base",
                            bases.join(", "),
                            base.field,
                            base.value,
                            group.name
                        ),
                    )
                };
                res.problems.push(Problem {
                    field: group.path.clone(),
                    column: group.header(1, &base.field),
                    cell: None,
                    summary,
                    detail,
                });
            }
        }
        // The same unit name twice in one product is always a mistake.
        let names: Vec<String> = items
            .iter()
            .filter_map(|(_, o, _)| o.get("name").and_then(|n| n.as_str()))
            .map(|n| n.to_lowercase())
            .collect();
        for (i, n) in names.iter().enumerate() {
            if names[..i].contains(n) {
                res.problems.push(Problem {
                    field: group.path.clone(),
                    column: group.header(i + 1, "name"),
                    cell: None,
                    summary: format!("repeats a {} name", group.name),
                    detail: format!(
                        "{} '{}' is given twice in this row",
                        group.name,
                        n.to_uppercase()
                    ),
                });
                break;
            }
        }
        let array = items.into_iter().map(|(_, o, _)| Json::Object(o)).collect();
        set_path(&mut res.payload, &group.path, Json::Array(array));
    }
}

/// A JSON number from a finite float; whole numbers are sent as integers.
fn json_number(n: f64) -> Json {
    if n.fract() == 0.0 && n.abs() < 9.007_199_254_740_992e15 {
        Json::from(n as i64)
    } else {
        serde_json::Number::from_f64(n).map_or(Json::Null, Json::Number)
    }
}

/// Set `a.b.c` in a JSON object, creating intermediate objects.
pub fn set_path(map: &mut Map<String, Json>, path: &str, value: Json) {
    match path.split_once('.') {
        None => {
            map.insert(path.to_string(), value);
        }
        Some((head, rest)) => {
            let entry = map
                .entry(head.to_string())
                .or_insert_with(|| Json::Object(Map::new()));
            if !entry.is_object() {
                *entry = Json::Object(Map::new());
            }
            if let Json::Object(inner) = entry {
                set_path(inner, rest, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_path_nests() {
        let mut m = Map::new();
        set_path(&mut m, "location.lat", Json::from(1));
        set_path(&mut m, "location.lon", Json::from(2));
        set_path(&mut m, "name", Json::from("x"));
        assert_eq!(
            Json::Object(m).to_string(),
            r#"{"location":{"lat":1,"lon":2},"name":"x"}"#
        );
    }

    #[test]
    fn whole_numbers_are_integers_in_json() {
        assert_eq!(json_number(5000.0).to_string(), "5000");
        assert_eq!(json_number(-7.11).to_string(), "-7.11");
    }
}
