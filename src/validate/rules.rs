//! Checks over a whole row rather than one cell: required fields, rules over several
//! fields (both coordinates or neither, one of id or key), the tax-number type, and
//! duplicate keys. Each problem names the user's columns with this row's cells.

use serde_json::Value as Json;

use super::duplicates::{OtherRows, Space};
use super::{Problem, RowResult, Validator};
use crate::input::RawRow;
use crate::spec::RuleKind;

impl Validator<'_> {
    /// The position of a field in the spec.
    fn field_index(&self, name: &str) -> Option<usize> {
        self.spec.fields.iter().position(|f| f.name == name)
    }

    /// Columns of fields as the file names them, joined: `Lokasi, Lintang`.
    fn columns_of(&self, names: &[&str]) -> String {
        names
            .iter()
            .map(|n| match self.field_index(n) {
                Some(i) => self.column_of(&self.mapping.fields[i], n),
                None => n.to_string(),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Columns of fields with their cells in `row`: `Lokasi (Customers!J5), Lintang (Customers!F5)`.
    fn places_of(&self, names: &[&str], row: u32) -> String {
        names
            .iter()
            .map(|n| match self.field_index(n) {
                Some(i) => self.place_for(&self.mapping.fields[i], n, row),
                None => n.to_string(),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// A company is expected to have a 10-digit VKN and a person an 11-digit TCKN; the
    /// API takes either, so a mismatch is a warning, not an error.
    pub(super) fn check_tax_type(&self, row: &RawRow, res: &mut RowResult) {
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
                "{}: a {kind} usually has a {expected}-digit {}; '{number}' has {} digits",
                self.places_of(&["tax_number"], row.number),
                if expected == 10 { "VKN" } else { "TCKN" },
                number.len()
            ));
        }
    }

    pub(super) fn check_required(&self, row: &RawRow, present: &[bool], res: &mut RowResult) {
        for (i, f) in self.spec.fields.iter().enumerate() {
            if f.required_in(self.mode) && !present[i] {
                let b = &self.mapping.fields[i];
                res.problems.push(Problem {
                    field: f.name.clone(),
                    column: self.column_of(b, &f.name),
                    place: self.place_for(b, &f.name, row.number),
                    summary: "is required".into(),
                    detail: format!("is empty but required for {}: {}", self.mode, f.help),
                });
            }
        }
    }

    /// The spec's rules over several fields; `cleared` marks fields given the clear marker.
    pub(super) fn check_rules(
        &self,
        row: &RawRow,
        present: &[bool],
        cleared: &[bool],
        res: &mut RowResult,
    ) {
        let n = row.number;
        let is = |flags: &[bool], name: &str| self.field_index(name).is_some_and(|i| flags[i]);
        for (rule, at) in self.spec.rules.iter().zip(&self.rule_fields) {
            if !rule.applies(self.mode) {
                continue;
            }
            // Most rows break no rule: tell so from counts, before any list is built.
            let count = |flags: &[bool]| at.iter().filter(|i| i.is_some_and(|i| flags[i])).count();
            let n_given = count(present);
            let fine = match rule.kind {
                RuleKind::Together => {
                    n_given == 0 || (n_given == rule.fields.len() && count(cleared) == 0)
                }
                RuleKind::OneOf => n_given > 0,
                RuleKind::AtMostOne => n_given <= 1,
                RuleKind::RequiredIf => n_given == rule.fields.len(),
            };
            if fine {
                continue;
            }
            let all: Vec<&str> = rule.fields.iter().map(String::as_str).collect();
            let given: Vec<&str> = all.iter().copied().filter(|f| is(present, f)).collect();
            let missing: Vec<&str> = all.iter().copied().filter(|f| !given.contains(f)).collect();
            // One problem per field to blame: (fields, summary, detail).
            let mut found: Vec<(Vec<&str>, String, String)> = Vec::new();
            match rule.kind {
                RuleKind::Together if !given.is_empty() && !missing.is_empty() => {
                    for m in &missing {
                        found.push((
                            vec![m],
                            format!("is required with {}", given.join("/")),
                            format!(
                                "is empty while {} is given: fill both or neither",
                                self.places_of(&given, n)
                            ),
                        ));
                    }
                }
                RuleKind::Together => {
                    // All given: clearing one part while sending another is half an object.
                    let (gone, kept): (Vec<&str>, Vec<&str>) =
                        given.iter().copied().partition(|f| is(cleared, f));
                    if !gone.is_empty() && !kept.is_empty() {
                        for g in &gone {
                            found.push((
                                vec![g],
                                format!("is cleared while {} is given", kept.join("/")),
                                format!(
                                    "is cleared while {} is given: clear all of {} or none",
                                    self.places_of(&kept, n),
                                    self.columns_of(&all)
                                ),
                            ));
                        }
                    }
                }
                RuleKind::OneOf if given.is_empty() => found.push((
                    all.clone(),
                    "has none of the required columns".to_string(),
                    format!(
                        "all are empty: one of {} is required",
                        self.columns_of(&all)
                    ),
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
                    if let (Some(w), true) = (&rule.when, holds) {
                        for m in &missing {
                            found.push((
                                vec![m],
                                format!("is required when {} is {}", w.field, w.value),
                                format!("is empty, but a {} {} needs it", w.value, w.field),
                            ));
                        }
                    }
                }
                RuleKind::AtMostOne if given.len() > 1 => found.push((
                    given.clone(),
                    "gives the same thing twice".to_string(),
                    "more than one is filled in: give only one of them".to_string(),
                )),
                _ => {}
            }
            for (fields, summary, detail) in found {
                res.problems.push(Problem {
                    field: fields.join("/"),
                    column: self.columns_of(&fields),
                    place: self.places_of(&fields, n),
                    summary,
                    detail,
                });
            }
        }
    }

    /// A natural key that other rows of the file also hold: every row of the group is
    /// flagged, naming the others.
    pub(super) fn check_duplicate(&self, row: &RawRow, res: &mut RowResult) {
        let Some(dups) = self.duplicates else {
            return;
        };
        if let (Some(key), Some(kf)) = (&res.key, self.key_field)
            && let Some(others) = dups.others_in(Space::Key, key, row.number)
        {
            let p = self.duplicate(kf, key, &others, row.number, "keep one row per");
            res.problems.push(p);
        }
        if let (Some(id), Some(idf)) = (res.id, self.spec.fields.iter().position(|f| f.is_id))
            && let Some(others) = dups.others_in(Space::Id, &id.to_string(), row.number)
        {
            let one = self.spec.entity.one();
            let why = format!("each would change the same {one}: keep one row per");
            let p = self.duplicate(idf, &id.to_string(), &others, row.number, &why);
            res.problems.push(p);
        }
    }

    /// The problem of a row whose field `f` holds `value` like `others` do; `fix` leads
    /// the advice (`keep one row per`) that the column's name ends.
    fn duplicate(&self, f: usize, value: &str, others: &OtherRows, row: u32, fix: &str) -> Problem {
        let b = &self.mapping.fields[f];
        let name = &self.spec.fields[f].name;
        let shown: Vec<String> = others.iter().take(10).map(|r| r.to_string()).collect();
        let more = if others.len() > 10 {
            format!(" and {} more", others.len() - 10)
        } else {
            String::new()
        };
        let rows = format!(
            "row{} {}{more}",
            if others.len() == 1 { "" } else { "s" },
            shown.join(", ")
        );
        let (column, detail) = if b.constant.is_some()
            || (b.column.is_none() && b.default.is_some())
        {
            let how = if b.constant.is_some() {
                "constant"
            } else {
                "default"
            };
            (
                format!("{name} ({how})"),
                format!(
                    "'{value}' is duplicated in the file: the mapping's {how} gives every row the same {name}, so it also appears in {rows}; map {name} to a column that holds each record's own"
                ),
            )
        } else {
            let column = self.column_of(b, name);
            let detail = format!(
                "'{value}' is duplicated in the file: it also appears in {rows}; {fix} {column}"
            );
            (column, detail)
        };
        Problem {
            field: name.clone(),
            place: self.place_for(b, name, row),
            summary: "is duplicated in the file".into(),
            detail,
            column,
        }
    }
}
