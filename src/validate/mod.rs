//! Row validation: typed values from cells per the spec, row rules, and payloads.
//!
//! An invalid row is data, not an abort: it comes back with every reason, each naming
//! the user's column and its cell (`No HP (Customers!D14)`), and the run goes on.

mod body;
mod cells;
mod date_order;
pub mod duplicates;
mod groups;
mod kind;
mod numeric;
mod rules;
pub mod turkish;
pub mod values;

use std::sync::OnceLock;

use serde_json::{Map, Value as Json};

use crate::input::{Cell, CellKind, RawRow, Table};
use crate::mapping::{Binding, Mapping};
use crate::spec::{Entity, EntitySpec, FieldSpec, FieldType, Mode};
pub use body::{Key, Payload, intern, set_path};
pub use kind::{error_kind, error_kinds};
pub use values::{DecimalStyle, ParseOptions, ValueError, check_date_format};

/// One reason a row is not acceptable.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// The field (`phone`, `unit2_ratio`), for summaries.
    pub field: String,
    /// The column(s) as the file names them (or the field name for constants and
    /// columns the file lacks), for summaries: `No HP`, `Lokasi, Lintang`.
    pub column: String,
    /// Where, as the message names it: the user's header with its cell,
    /// `No HP (Customers!D14)`, or several of them for a rule over several columns.
    pub place: String,
    /// Value-free text for grouping: "is not a phone number".
    pub summary: String,
    /// The full reason, with the value and how to fix it.
    pub detail: String,
}

impl Problem {
    /// How the problem reads in `_error` and messages: `Telepon (Customers!D14): '…' is not …`.
    pub fn render(&self) -> String {
        format!("{}: {}", self.place, self.detail)
    }
}

/// A reference to another entity that is resolved to an id before sending.
#[derive(Debug, Clone, PartialEq)]
pub struct Reference {
    /// Payload path the resolved id goes to (`customer_id`).
    pub path: String,
    /// The referenced entity.
    pub entity: Entity,
    /// Fields of that entity that may match (`ext_cust_no`).
    pub by: Vec<String>,
    /// The value written in the sheet.
    pub value: String,
    /// Where it came from, as messages name it: `ID Sales (Visits!C4)`.
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
    pub payload: Payload,
    /// The natural key (`ext_cust_no`), trimmed, when given.
    pub key: Option<String>,
    /// The remote id, when the row names one.
    pub id: Option<i64>,
    /// References to resolve before sending.
    pub refs: Vec<Reference>,
    /// Things worth a look that do not make the row invalid (the anonymous-consumer
    /// tax number, a VKN on a person, a code stored as a number), each naming its
    /// column and cell like a problem does.
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
            return self.payload.to_json_string();
        }
        let mut shown = self.payload.to_map();
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
    /// Day/month orders of the date columns, counted on first need (see [`date_order`]).
    date_orders: OnceLock<date_order::DateOrders>,
    /// Per field, where its value goes in the payload: the path, and for a location the
    /// paths of its two parts.
    paths: Vec<Option<FieldPath>>,
    /// Per group, where its array goes.
    group_paths: Vec<Key>,
    /// Per rule of the spec, the positions of its fields (none: not a field of the
    /// spec), found once instead of by name for every row.
    rule_fields: Vec<Vec<Option<usize>>>,
}

/// Where a field's value goes in the payload, interned once for all rows.
struct FieldPath {
    /// The field's path (`name`, `location`).
    at: Key,
    /// `<path>.lat` and `<path>.lon`, where a location's parts go.
    lat: Key,
    lon: Key,
}

/// What the reader found wrong with the row as a whole (fields that do not line up with
/// the header, data under no header): a problem or a warning like any other.
fn reader_defects(row: &RawRow, res: &mut RowResult) {
    for d in &row.defects {
        if d.invalid {
            res.problems.push(Problem {
                field: "row".into(),
                column: d.column.clone(),
                place: d.place.clone(),
                summary: d.summary.clone(),
                detail: d.detail.clone(),
            });
        } else {
            res.warnings.push(format!("{}: {}", d.place, d.detail));
        }
    }
}

/// A value's text with where it came from.
///
/// Cell references and column names are only rendered when a problem needs them: most
/// values are fine, and formatting them for every cell would dominate the run time.
struct Sourced<'c> {
    field: &'c str,
    text: &'c str,
    kind: CellKind,
    /// The zero-padding width of a number cell's format (see [`Cell::zero_pad`]).
    zero_pad: u8,
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
            date_orders: OnceLock::new(),
            paths: spec
                .fields
                .iter()
                .map(|f| {
                    f.path.as_deref().map(|p| FieldPath {
                        at: intern(p),
                        lat: intern(&format!("{p}.lat")),
                        lon: intern(&format!("{p}.lon")),
                    })
                })
                .collect(),
            group_paths: spec.groups.iter().map(|g| intern(&g.path)).collect(),
            rule_fields: spec
                .rules
                .iter()
                .map(|r| {
                    r.fields
                        .iter()
                        .map(|name| spec.fields.iter().position(|f| &f.name == name))
                        .collect()
                })
                .collect(),
        }
    }

    /// The text a binding gives for this row: constant, then cell, then default.
    fn source<'c>(&self, b: &'c Binding, row: &'c RawRow, name: &'c str) -> Option<Sourced<'c>> {
        if let Some(c) = &b.constant {
            return Some(Sourced {
                field: name,
                text: c,
                kind: CellKind::Text,
                zero_pad: 0,
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
                    zero_pad: cell.zero_pad,
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
            zero_pad: 0,
            origin: Origin::Default,
        })
    }

    /// The column a value came from, as the file names it.
    fn column_name(&self, src: &Sourced<'_>) -> String {
        match src.origin {
            Origin::Constant => format!("{} (constant)", src.field),
            Origin::Default => format!("{} (default)", src.field),
            Origin::Cell { col, .. } => self.header(col),
        }
    }

    /// A column's header as messages show it: control characters escaped.
    fn header(&self, col: usize) -> String {
        values::escape_controls(&self.table.column_name(col)).into_owned()
    }

    /// Where a value came from, as messages name it: `No HP (Customers!D14)`.
    fn place_of(&self, src: &Sourced<'_>) -> String {
        match src.origin {
            Origin::Cell { row, col } => self.cell_label(row, col),
            _ => self.column_name(src),
        }
    }

    /// The user's header with the cell: `Bujur (Customers!F7)`, `Bujur (F7)` in a CSV.
    fn cell_label(&self, row: u32, col: usize) -> String {
        format!(
            "{} ({})",
            self.header(col),
            values::escape_controls(&self.table.cell_name(row, col))
        )
    }

    /// The column name to blame for a field with no value.
    fn column_of(&self, b: &Binding, name: &str) -> String {
        b.column
            .map(|c| self.header(c))
            .unwrap_or_else(|| name.to_string())
    }

    /// The place to blame for a field with no value: its column and cell in this row,
    /// or the field name when the file has no such column.
    fn place_for(&self, b: &Binding, name: &str, row: u32) -> String {
        match b.column {
            Some(c) => self.cell_label(row, c),
            None => name.to_string(),
        }
    }

    /// Validate one row.
    pub fn validate(&self, row: &RawRow) -> RowResult {
        let mut res = RowResult {
            number: row.number,
            problems: Vec::new(),
            // A location sets two values, the rest one each.
            payload: Payload::with_capacity(self.spec.fields.len() + 1),
            key: None,
            id: None,
            refs: Vec::new(),
            warnings: Vec::new(),
            secrets: Vec::new(),
        };
        reader_defects(row, &mut res);
        // Which fields have a value, then which were cleared: one allocation for both.
        let n = self.spec.fields.len();
        let mut flags = vec![false; 2 * n];
        let (present, cleared) = flags.split_at_mut(n);
        for (i, f) in self.spec.fields.iter().enumerate() {
            let b = &self.mapping.fields[i];
            let Some(src) = self.source(b, row, &f.name) else {
                continue;
            };
            present[i] = true;
            match self.typed(f, &src, &mut res.warnings) {
                Ok(v) => {
                    if Some(i) == self.key_field {
                        // The key as it will be stored (a tax number without its dots).
                        res.key = Some(match &v {
                            Typed::Json(Json::String(s)) | Typed::Reference(s) => s.clone(),
                            _ => src.text.trim().to_string(),
                        });
                    }
                    cleared[i] = v == Typed::Clear;
                    self.place(i, v, &src, &mut res);
                }
                // A replacement character where the reader already named the bytes
                // that were not text is blamed once.
                Err(p)
                    if p.summary == cells::REPLACEMENT_SUMMARY
                        && res.problems.iter().any(|q| q.place == p.place) => {}
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
        self.check_tax_type(row, &mut res);
        self.check_required(row, present, &mut res);
        self.check_rules(row, present, cleared, &mut res);
        for (g, group) in self.spec.groups.iter().enumerate() {
            self.group(g, group, row, &mut res);
        }
        self.check_duplicate(row, &mut res);
        res
    }

    fn problem(&self, src: &Sourced<'_>, e: ValueError) -> Problem {
        Problem {
            field: src.field.to_string(),
            column: self.column_name(src),
            place: self.place_of(src),
            summary: e.summary,
            detail: e.detail,
        }
    }

    /// Parse one value per its field type and constraints; warnings go to `warnings`.
    fn typed(
        &self,
        f: &FieldSpec,
        src: &Sourced<'_>,
        warnings: &mut Vec<String>,
    ) -> Result<Typed, Problem> {
        use values::*;
        // A secret's value is never quoted back in a message.
        let err = |e: ValueError| {
            let mut p = self.problem(src, e);
            if f.secret {
                p.detail = format!("{} (the value is not shown)", p.summary);
            }
            p
        };
        if let Some(e) = cells::refusal(src.kind, src.text) {
            return Err(err(e));
        }
        let numeric = src.kind == CellKind::Number;
        let word = src.text.trim();
        if word == crate::spec::CLEAR_MARKER || self.spec.clear_words.iter().any(|w| w == word) {
            return self.clear(f, src, word);
        }
        // A number cell in a text field: what the sheet shows, or why it cannot be right.
        let shown = if numeric && f.kind.is_text() {
            let n = numeric::number_as_text(src.text, src.zero_pad, f).map_err(err)?;
            if let Some(w) = n.warning {
                warnings.push(format!("{}: {w}", self.place_of(src)));
            }
            Some(n.text)
        } else {
            None
        };
        let text: &str = shown.as_deref().unwrap_or(src.text);
        let v = match f.kind {
            FieldType::String => {
                let t = text.trim();
                // A text no longer in bytes than the limit is no longer in characters.
                if let Some(max) = f.max_len.filter(|&max| t.len() > max) {
                    let n = t.chars().count();
                    if n > max {
                        return Err(err(ValueError {
                            summary: format!("is longer than {max} characters"),
                            detail: format!(
                                "is longer than the {max} characters allowed: it has {n}; shorten it"
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
            FieldType::Date => Typed::Json(Json::String(self.date(src, text).map_err(err)?)),
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
                turkish::Checked::Warn(v, why) => {
                    warnings.push(format!("{}: {why}", self.place_of(src)));
                    Typed::Json(Json::String(v))
                }
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

    /// A date as sent (`2024-04-03`). A date cell holding a time or a serial below 1 is
    /// refused, and so is a day/month order that other rows of its column contradict.
    fn date(&self, src: &Sourced<'_>, text: &str) -> Result<String, ValueError> {
        if src.kind == CellKind::Date
            && let Some(e) = cells::date_cell_serial(text)
        {
            return Err(e);
        }
        let d = values::parse_date(text, &self.opts)?;
        if self.opts.date_format.is_none()
            && let Origin::Cell { col, .. } = src.origin
            && let Some(order) = values::day_month_order(text)
            && let Some(e) = self.date_orders().conflict(col, order, text)
        {
            return Err(e);
        }
        Ok(d.format("%Y-%m-%d").to_string())
    }

    /// The day/month orders of the file's date columns, counted once, when first needed.
    fn date_orders(&self) -> &date_order::DateOrders {
        self.date_orders.get_or_init(|| {
            let columns: Vec<usize> = self
                .spec
                .fields
                .iter()
                .zip(&self.mapping.fields)
                .filter(|(f, b)| f.kind == FieldType::Date && b.constant.is_none())
                .filter_map(|(_, b)| b.column)
                .collect();
            date_order::DateOrders::scan(self.table, &columns)
        })
    }

    /// The clear marker (`#CLEAR`, or a target's word such as `REMOVE`) in a cell: send
    /// "empty this field", unless the field cannot be emptied.
    fn clear(&self, f: &FieldSpec, src: &Sourced<'_>, word: &str) -> Result<Typed, Problem> {
        let refuse = |why: String| Problem {
            field: src.field.to_string(),
            column: self.column_name(src),
            place: self.place_of(src),
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
        Ok(Typed::Clear)
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
    fn place(&self, i: usize, v: Typed, src: &Sourced<'_>, res: &mut RowResult) {
        let f = &self.spec.fields[i];
        let at = self.paths[i].as_ref();
        if f.secret
            && let Some(path) = &f.path
        {
            res.secrets.push(path.clone());
        }
        match v {
            Typed::Clear => {
                if let Some(p) = at {
                    res.payload.set(p.at, Json::Null);
                }
            }
            Typed::Id(id) => res.id = Some(id),
            Typed::Reference(value) => {
                if let (Some(path), Some(r)) = (&f.path, &f.resolve) {
                    res.refs.push(Reference {
                        path: path.clone(),
                        entity: r.entity,
                        by: r.by.clone(),
                        value,
                        column: self.place_of(src),
                    });
                }
            }
            Typed::Location(lat, lon) => {
                if let Some(p) = at {
                    res.payload.set(p.lat, json_number(lat));
                    res.payload.set(p.lon, json_number(lon));
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
                            entity: r.entity,
                            by: r.by.clone(),
                            value,
                            column: self.column_name(src),
                        });
                    }
                    if let Some(p) = at {
                        res.payload.set(p.at, j);
                    }
                }
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_numbers_are_integers_in_json() {
        assert_eq!(json_number(5000.0).to_string(), "5000");
        assert_eq!(json_number(-7.11).to_string(), "-7.11");
    }
}
