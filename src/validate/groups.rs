//! Repeated column groups (product units: `Satuan`/`Harga`/`Isi`, then `Satuan 2` …) into
//! an array of objects, with the group's own rules: members required together, exactly
//! one base unit, no unit name twice.

use serde_json::{Map, Value as Json};

use super::{Problem, RowResult, Typed, Validator};
use crate::input::RawRow;
use crate::mapping::Binding;
use crate::spec::{BaseRule, GroupSpec};

/// One filled instance of a group (one unit of a product).
struct Item<'b> {
    /// 0-based instance index (`unit2_…` is 1).
    index: usize,
    object: Map<String, Json>,
    /// The value of the base field (`ratio`) when given.
    base: Option<i64>,
    bindings: &'b [Binding],
}

impl Validator<'_> {
    /// A member of an instance as (column, place in this row): (`Isi 2`,
    /// `Isi 2 (Products!H3)`), or its canonical header (`unit2_ratio`) for both when the
    /// file has no such column.
    fn member_at(
        &self,
        group: &GroupSpec,
        item: &Item<'_>,
        member: &str,
        row: u32,
    ) -> (String, String) {
        let header = group.header(item.index + 1, member);
        match group.fields.iter().position(|f| f.name == member) {
            Some(m) => {
                let b = &item.bindings[m];
                (self.column_of(b, &header), self.place_for(b, &header, row))
            }
            None => (header.clone(), header),
        }
    }

    /// A repeated column group (product units) into an array of objects.
    pub(super) fn group(&self, g: usize, group: &GroupSpec, row: &RawRow, res: &mut RowResult) {
        let instances = self.mapping.groups.get(g).map(Vec::as_slice).unwrap_or(&[]);
        let mut items: Vec<Item<'_>> = Vec::new();
        let mut ok = true;
        for (k, bindings) in instances.iter().enumerate() {
            let mut item = Item {
                index: k,
                object: Map::new(),
                base: None,
                bindings,
            };
            let mut filled = Vec::new();
            let mut missing = Vec::new();
            for (m, member) in group.fields.iter().enumerate() {
                let header = group.header(k + 1, &member.name);
                let Some(src) = self.source(&bindings[m], row, &header) else {
                    if !member.required.is_empty() {
                        missing.push((m, header));
                    }
                    continue;
                };
                filled.push(self.place_of(&src));
                match self.typed(member, &src, &mut res.warnings) {
                    Ok(Typed::Json(j)) => {
                        if group.base.as_ref().is_some_and(|b| b.field == member.name) {
                            item.base = j.as_i64();
                        }
                        if let Some(p) = &member.path {
                            item.object.insert(p.clone(), j);
                        }
                    }
                    Ok(_) => {}
                    Err(p) => {
                        ok = false;
                        res.problems.push(p);
                    }
                }
            }
            if filled.is_empty() {
                continue;
            }
            for (m, header) in missing {
                ok = false;
                let b = &bindings[m];
                res.problems.push(Problem {
                    field: header.clone(),
                    column: self.column_of(b, &header),
                    place: self.place_for(b, &header, row.number),
                    summary: format!("is required when other {} columns are filled", group.name),
                    detail: format!(
                        "is empty while {} of the same {} is filled: {}",
                        filled.join(", "),
                        group.name,
                        group.fields[m].help
                    ),
                });
            }
            items.push(item);
        }
        if items.is_empty() {
            if group.required.contains(&self.mode) {
                let header = group.header(1, &group.fields[0].name);
                let (column, place) = match instances.first() {
                    Some(bindings) => (
                        self.column_of(&bindings[0], &header),
                        self.place_for(&bindings[0], &header, row.number),
                    ),
                    None => (header.clone(), header),
                };
                res.problems.push(Problem {
                    field: group.path.clone(),
                    column,
                    place,
                    summary: format!("needs at least one {}", group.name),
                    detail: format!("no {} is given: {}", group.name, group.help),
                });
            }
            return;
        }
        if !ok {
            return;
        }
        if let Some(base) = &group.base
            && !self.check_base(group, base, &mut items, row.number, res)
        {
            return;
        }
        self.check_repeated_names(group, &items, row.number, res);
        let array = items
            .into_iter()
            .map(|it| Json::Object(it.object))
            .collect();
        res.payload.set(self.group_paths[g], Json::Array(array));
    }

    /// Exactly one instance has the base value (one unit of ratio 1). The field may be left
    /// empty only on the base unit itself — the one instance without it, when no other
    /// claims the base value — which then gets it; any other instance without it would be
    /// refused by the API (`product_units.1.ratio field is required`). False when a
    /// problem was found.
    fn check_base(
        &self,
        group: &GroupSpec,
        base: &BaseRule,
        items: &mut [Item<'_>],
        row: u32,
        res: &mut RowResult,
    ) -> bool {
        let empty: Vec<usize> = (0..items.len())
            .filter(|&i| items[i].base.is_none())
            .collect();
        let claimed = items.iter().any(|it| it.base == Some(base.value));
        if base.implied_when_single && empty.len() == 1 && !claimed {
            let it = &mut items[empty[0]];
            it.base = Some(base.value);
            it.object.insert(base.field.clone(), Json::from(base.value));
        } else if !empty.is_empty() {
            let why = if claimed {
                format!("another {} is the base", group.name)
            } else {
                format!("several {}s leave it empty", group.name)
            };
            for &i in &empty {
                let it = &items[i];
                let name = it
                    .object
                    .get("name")
                    .and_then(Json::as_str)
                    .map(|n| format!(" {n}"))
                    .unwrap_or_default();
                let (column, place) = self.member_at(group, it, &base.field, row);
                res.problems.push(Problem {
                    field: group.header(it.index + 1, &base.field),
                    column,
                    place,
                    summary: format!(
                        "is empty on a {} that is not the base {}",
                        group.name, group.name
                    ),
                    detail: format!(
                        "is empty, but only the base {} may leave its {} empty (it is then {}) and {why}: \
                         give the {} of {}{name}",
                        group.name, base.field, base.value, base.field, group.name
                    ),
                });
            }
            return false;
        }
        let bases: Vec<&Item<'_>> = items
            .iter()
            .filter(|it| it.base == Some(base.value))
            .collect();
        let (blamed, summary, detail) = match bases.len() {
            1 => return true,
            0 => (
                items.iter().collect::<Vec<_>>(),
                format!(
                    "has no base {} ({} = {})",
                    group.name, base.field, base.value
                ),
                format!(
                    "no {} has {} = {}: exactly one must be the base {}",
                    group.name, base.field, base.value, group.name
                ),
            ),
            _ => (
                bases,
                format!("has more than one base {}", group.name),
                format!(
                    "all have {} = {}: exactly one {} may be the base",
                    base.field, base.value, group.name
                ),
            ),
        };
        let (columns, places): (Vec<String>, Vec<String>) = blamed
            .iter()
            .map(|it| self.member_at(group, it, &base.field, row))
            .unzip();
        res.problems.push(Problem {
            field: group.path.clone(),
            column: columns.join(", "),
            place: places.join(", "),
            summary,
            detail,
        });
        false
    }

    /// The same unit name twice in one product is always a mistake.
    fn check_repeated_names(
        &self,
        group: &GroupSpec,
        items: &[Item<'_>],
        row: u32,
        res: &mut RowResult,
    ) {
        let names: Vec<String> = items
            .iter()
            .map(|it| {
                it.object
                    .get("name")
                    .and_then(Json::as_str)
                    .map(str::to_lowercase)
                    .unwrap_or_default()
            })
            .collect();
        for (i, n) in names.iter().enumerate() {
            if n.is_empty() {
                continue;
            }
            if let Some(first) = names[..i].iter().position(|x| x == n) {
                let (column, place) = self.member_at(group, &items[i], "name", row);
                res.problems.push(Problem {
                    field: group.path.clone(),
                    column,
                    detail: format!(
                        "{} '{}' is given twice in this row, also in {}",
                        group.name,
                        n.to_uppercase(),
                        self.member_at(group, &items[first], "name", row).1
                    ),
                    place,
                    summary: format!("repeats a {} name", group.name),
                });
                break;
            }
        }
    }
}
