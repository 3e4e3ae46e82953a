//! Header mapping: spreadsheet columns → spec fields, by name and aliases (ignoring case,
//! spaces, punctuation and accents), overridable by a mapping file.
//!
//! Everything here happens before the first row is read, so a missing required column
//! stops the run at once instead of failing every row.

mod save;
mod toml_error;

pub use save::{render as render_saved, save};
pub use toml_error::describe as describe_toml_error;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde::Deserialize;
use unicode_normalization::UnicodeNormalization;

use crate::error::{Error, Result};
use crate::input::column_letter;
use crate::spec::{EntitySpec, FieldSpec, Mode, RuleKind};

/// Fold a header for matching: lower case, accents and punctuation dropped, Turkish
/// dotless/dotted i folded to `i` (`Kode Pelanggan` → `kodepelanggan`, `İl` → `il`).
pub fn normalize(s: &str) -> String {
    s.nfd()
        .filter_map(|c| match c {
            'ı' | 'İ' => Some('i'),
            c if c.is_alphanumeric() => Some(c),
            _ => None,
        })
        .flat_map(char::to_lowercase)
        .filter(|c| c.is_alphanumeric() && !unicode_normalization::char::is_combining_mark(*c))
        .collect()
}

/// Which spec field a column feeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    /// `spec.fields[i]`.
    Field(usize),
    /// Member `member` of instance `instance` (0-based) of `spec.groups[group]`.
    Group {
        /// Index into `spec.groups`.
        group: usize,
        /// 0-based instance (`unit` is 0, `unit2` is 1).
        instance: usize,
        /// Index into the group's `fields`.
        member: usize,
    },
}

/// Where a field's value comes from for each row.
#[derive(Debug, Clone, Default)]
pub struct Binding {
    /// Column index in the table.
    pub column: Option<usize>,
    /// Value for every row (mapping file `[constants]`); wins over the column.
    pub constant: Option<String>,
    /// Value when the cell is empty (mapping file `[defaults]`).
    pub default: Option<String>,
}

impl Binding {
    /// Whether the field gets a value from anywhere.
    pub fn is_bound(&self) -> bool {
        self.column.is_some() || self.constant.is_some() || self.default.is_some()
    }
}

/// The mapping file given with `--map`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MapFile {
    /// Source header → field name (`"Nama Toko" = "name"`).
    #[serde(default)]
    pub columns: BTreeMap<String, String>,
    /// Field name → value for every row.
    #[serde(default)]
    pub constants: BTreeMap<String, String>,
    /// Field name → value used when the cell is empty.
    #[serde(default)]
    pub defaults: BTreeMap<String, String>,
    /// Headers that are deliberately not imported (no warning).
    #[serde(default)]
    pub ignore: Vec<String>,
    /// The file it was read from, for messages (empty when none).
    #[serde(skip)]
    pub origin: String,
}

impl MapFile {
    /// Read and parse a mapping file; values may be TOML strings, numbers or booleans.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::usage(format!(
                "cannot read mapping file {}: {}",
                path.display(),
                crate::input::io_reason(&e)
            ))
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Parse mapping-file text; `origin` names it in messages.
    pub fn parse(text: &str, origin: &str) -> Result<Self> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Raw {
            #[serde(default)]
            columns: BTreeMap<String, String>,
            #[serde(default)]
            constants: BTreeMap<String, toml::Value>,
            #[serde(default)]
            defaults: BTreeMap<String, toml::Value>,
            #[serde(default)]
            ignore: Vec<String>,
        }
        let raw: Raw = toml::from_str(text).map_err(|e| {
            Error::usage(format!(
                "mapping file {}; fix the mapping file",
                describe_toml_error(origin, text, &e)
            ))
        })?;
        let plain = |section: &str,
                     m: BTreeMap<String, toml::Value>|
         -> Result<BTreeMap<String, String>> {
            m.into_iter()
                .map(|(k, v)| {
                    let s = match v {
                        toml::Value::String(s) => s,
                        toml::Value::Integer(i) => i.to_string(),
                        toml::Value::Float(f) => f.to_string(),
                        toml::Value::Boolean(b) => b.to_string(),
                        toml::Value::Datetime(d) => d.to_string(),
                        toml::Value::Array(_) | toml::Value::Table(_) => {
                            return Err(Error::usage(format!(
                                "mapping file {origin}: [{section}] {k} must be a single value (text, number or true/false); write a list as one text such as \"a, b\""
                            )));
                        }
                    };
                    Ok((k, s))
                })
                .collect()
        };
        Ok(MapFile {
            columns: raw.columns,
            constants: plain("constants", raw.constants)?,
            defaults: plain("defaults", raw.defaults)?,
            ignore: raw.ignore,
            origin: origin.to_string(),
        })
    }

    /// How messages name the file: `mapping file maps/outlets.toml`.
    fn label(&self) -> String {
        if self.origin.is_empty() {
            "mapping file".to_string()
        } else {
            format!("mapping file {}", self.origin)
        }
    }
}

/// The resolved mapping of one table to one spec.
#[derive(Debug, Clone)]
pub struct Mapping {
    /// One binding per `spec.fields` entry.
    pub fields: Vec<Binding>,
    /// `groups[g][instance][member]`; only instances with at least one bound member.
    pub groups: Vec<Vec<Vec<Binding>>>,
    /// Columns that feed nothing and were not ignored on purpose.
    pub unmapped: Vec<usize>,
    /// For each column, the field header it feeds (for summaries and `_error` texts).
    pub column_targets: Vec<Option<String>>,
    /// What the mapping file asks for that this file cannot give, or overrides without
    /// a word (a renamed header the file lacks, a column a constant replaces): told
    /// before any row is read.
    pub warnings: Vec<String>,
}

/// Matching index: normalized name → target.
pub struct HeaderIndex {
    names: HashMap<String, Target>,
}

impl HeaderIndex {
    /// Index every name and alias of `spec`, including `unit2_name`-style group headers.
    pub fn new(spec: &EntitySpec) -> Self {
        let mut names = HashMap::new();
        // Precedence: canonical field names, canonical group headers (`unit2_name`), field
        // aliases, then group spellings: so `Nama` in a product sheet is the product's name,
        // not its first unit's.
        for (i, f) in spec.fields.iter().enumerate() {
            names.insert(normalize(&f.name), Target::Field(i));
        }
        let group_targets = || {
            spec.groups.iter().enumerate().flat_map(|(g, group)| {
                (0..group.max).flat_map(move |instance| {
                    group.fields.iter().enumerate().map(move |(m, member)| {
                        let t = Target::Group {
                            group: g,
                            instance,
                            member: m,
                        };
                        (group, instance + 1, member, t)
                    })
                })
            })
        };
        for (group, k, member, t) in group_targets() {
            names
                .entry(normalize(&group.header(k, &member.name)))
                .or_insert(t);
        }
        for (i, f) in spec.fields.iter().enumerate() {
            for a in &f.aliases {
                names.entry(normalize(a)).or_insert(Target::Field(i));
            }
        }
        for (group, k, member, t) in group_targets() {
            for p in std::iter::once(&group.name).chain(&group.aliases) {
                let mut spellings = vec![
                    format!("{p}{k}_{}", member.name),
                    format!("{} {p} {k}", member.name),
                ];
                if k == 1 {
                    spellings.push(format!("{p}_{}", member.name));
                    spellings.push(format!("{} {p}", member.name));
                }
                for s in spellings {
                    names.entry(normalize(&s)).or_insert(t);
                }
            }
            for a in &member.aliases {
                if k == 1 {
                    names.entry(normalize(a)).or_insert(t);
                }
                names.entry(normalize(&format!("{a} {k}"))).or_insert(t);
            }
        }
        HeaderIndex { names }
    }

    /// The field a header names, if any.
    pub fn lookup(&self, header: &str) -> Option<Target> {
        self.names.get(&normalize(header)).copied()
    }

    /// How many cells of a candidate header row name a known field.
    pub fn score(&self, row: &[String]) -> usize {
        row.iter().filter(|c| self.lookup(c).is_some()).count()
    }
}

/// Canonical header of a target, as templates and messages show it.
pub fn target_name(spec: &EntitySpec, t: Target) -> String {
    match t {
        Target::Field(i) => spec.fields[i].name.clone(),
        Target::Group {
            group,
            instance,
            member,
        } => {
            let g = &spec.groups[group];
            g.header(instance + 1, &g.fields[member].name)
        }
    }
}

/// Resolve a field name as used in mapping files (`name`, `unit2_price`).
fn target_by_name(spec: &EntitySpec, index: &HeaderIndex, name: &str) -> Option<Target> {
    if let Some(i) = spec.fields.iter().position(|f| f.name == name) {
        return Some(Target::Field(i));
    }
    match index.lookup(name) {
        Some(t @ Target::Group { .. }) if normalize(&target_name(spec, t)) == normalize(name) => {
            Some(t)
        }
        _ => None,
    }
}

fn field_list(spec: &EntitySpec) -> String {
    let mut names: Vec<String> = spec.fields.iter().map(|f| f.name.clone()).collect();
    for g in &spec.groups {
        for m in &g.fields {
            names.push(g.header(1, &m.name));
        }
    }
    names.join(", ")
}

impl Mapping {
    /// Map `headers` to `spec` for `mode`; stops with a usage error when a required field
    /// has no column, when two columns feed one field, or when the mapping file is wrong.
    pub fn resolve(
        spec: &EntitySpec,
        headers: &[String],
        map: Option<&MapFile>,
        mode: Mode,
    ) -> Result<Self> {
        let index = HeaderIndex::new(spec);
        let empty = MapFile::default();
        let map = map.unwrap_or(&empty);
        let mut fields = vec![Binding::default(); spec.fields.len()];
        let mut groups: Vec<Vec<Vec<Binding>>> = spec
            .groups
            .iter()
            .map(|g| vec![vec![Binding::default(); g.fields.len()]; g.max])
            .collect();
        let unknown = |what: &str, name: &str| {
            Error::usage(format!(
                "{}: {what} names unknown field `{name}`; fields of {}: {}",
                map.label(),
                spec.entity,
                field_list(spec)
            ))
        };
        let renames: HashMap<String, Target> = map
            .columns
            .iter()
            .map(|(header, field)| {
                target_by_name(spec, &index, field)
                    .map(|t| (normalize(header), t))
                    .ok_or_else(|| unknown(&format!("[columns] \"{header}\""), field))
            })
            .collect::<Result<_>>()?;
        let ignored: Vec<String> = map.ignore.iter().map(|h| normalize(h)).collect();

        let mut unmapped = Vec::new();
        let mut column_targets = vec![None; headers.len()];
        let mut taken: HashMap<Target, usize> = HashMap::new();
        for (col, header) in headers.iter().enumerate() {
            let norm = normalize(header);
            if header.starts_with('_') || ignored.contains(&norm) {
                continue;
            }
            let target = renames.get(&norm).copied().or_else(|| index.lookup(header));
            let Some(t) = target else {
                if !header.trim().is_empty() {
                    unmapped.push(col);
                }
                continue;
            };
            if let Some(prev) = taken.insert(t, col) {
                return Err(Error::usage(format!(
                    "columns {} (\"{}\") and {} (\"{}\") both map to field `{}`: rename one, or map it explicitly with --map",
                    column_letter(prev),
                    headers[prev],
                    column_letter(col),
                    header,
                    target_name(spec, t)
                )));
            }
            column_targets[col] = Some(target_name(spec, t));
            match t {
                Target::Field(i) => fields[i].column = Some(col),
                Target::Group {
                    group,
                    instance,
                    member,
                } => groups[group][instance][member].column = Some(col),
            }
        }
        for (kind, values) in [
            ("[constants]", &map.constants),
            ("[defaults]", &map.defaults),
        ] {
            for (name, value) in values {
                let t = target_by_name(spec, &index, name).ok_or_else(|| unknown(kind, name))?;
                let b = match t {
                    Target::Field(i) => &mut fields[i],
                    Target::Group {
                        group,
                        instance,
                        member,
                    } => &mut groups[group][instance][member],
                };
                if kind == "[constants]" {
                    b.constant = Some(value.clone());
                } else {
                    b.default = Some(value.clone());
                }
            }
        }
        // Keep only group instances that something feeds, in order.
        for g in &mut groups {
            while g
                .last()
                .is_some_and(|inst| !inst.iter().any(Binding::is_bound))
            {
                g.pop();
            }
        }
        let warnings = map_warnings(spec, headers, map, &fields, &groups);
        let mapping = Mapping {
            fields,
            groups,
            unmapped,
            column_targets,
            warnings,
        };
        mapping.check_required(spec, headers, mode)?;
        Ok(mapping)
    }

    fn check_required(&self, spec: &EntitySpec, headers: &[String], mode: Mode) -> Result<()> {
        let seen = || {
            let h: Vec<String> = headers
                .iter()
                .filter(|h| !h.is_empty())
                .take(40)
                .map(|h| format!("\"{h}\""))
                .collect();
            if h.is_empty() {
                "none".to_string()
            } else {
                h.join(", ")
            }
        };
        let hint = |f: &FieldSpec| {
            let mut names = vec![f.name.clone()];
            names.extend(f.aliases.iter().take(3).cloned());
            names.join(" / ")
        };
        for (i, f) in spec.fields.iter().enumerate() {
            if f.required_in(mode) && !self.fields[i].is_bound() {
                return Err(Error::usage(format!(
                    "{} {mode} needs field `{}` ({}), but no column provides it; headers seen: {}. Add a column named {} or map one with --map",
                    spec.entity,
                    f.name,
                    f.help.trim_end_matches('.'),
                    seen(),
                    hint(f)
                )));
            }
        }
        for rule in spec.rules.iter().filter(|r| r.applies(mode)) {
            if rule.kind != RuleKind::OneOf {
                continue;
            }
            let any = rule.fields.iter().any(|name| {
                spec.fields
                    .iter()
                    .position(|f| &f.name == name)
                    .is_some_and(|i| self.fields[i].is_bound())
            });
            if !any {
                return Err(Error::usage(format!(
                    "{} {mode} needs a column for one of: {}; headers seen: {}. Add one, or map one with --map",
                    spec.entity,
                    rule.fields
                        .iter()
                        .map(|n| format!("`{n}`"))
                        .collect::<Vec<_>>()
                        .join(" or "),
                    seen()
                )));
            }
        }
        for (g, group) in spec.groups.iter().enumerate() {
            if !group.required.contains(&mode) {
                continue;
            }
            let first = self.groups[g].first();
            for (m, member) in group.fields.iter().enumerate() {
                let bound = first.is_some_and(|inst| inst[m].is_bound());
                if !member.required.is_empty() && !bound {
                    return Err(Error::usage(format!(
                        "{} {mode} needs column `{}` ({}), but no column provides it; headers seen: {}. Add it, or map one with --map",
                        spec.entity,
                        group.header(1, &member.name),
                        group.help.trim_end_matches('.'),
                        seen()
                    )));
                }
            }
        }
        Ok(())
    }

    /// Headers of the columns that feed nothing.
    pub fn unmapped_headers(&self, headers: &[String]) -> Vec<String> {
        self.unmapped.iter().map(|&c| headers[c].clone()).collect()
    }
}

/// What a mapping file says that the file makes void: a `[columns]` header that no
/// column has (a renamed or misspelt header: its field then gets nothing), and a column
/// whose field a `[constants]` value fills instead (the column is then ignored).
fn map_warnings(
    spec: &EntitySpec,
    headers: &[String],
    map: &MapFile,
    fields: &[Binding],
    groups: &[Vec<Vec<Binding>>],
) -> Vec<String> {
    let present: Vec<String> = headers.iter().map(|h| normalize(h)).collect();
    let mut out: Vec<String> = map
        .columns
        .iter()
        .filter(|(header, _)| !present.contains(&normalize(header)))
        .map(|(header, field)| {
            let header = short(header);
            format!(
                "{}: [columns] \"{header}\" (for `{field}`) matches no column of the file, so `{field}` gets nothing from it: check the spelling against the file's headers",
                map.label()
            )
        })
        .collect();
    let bound = fields
        .iter()
        .enumerate()
        .map(|(i, b)| (b, spec.fields[i].name.clone(), spec.fields[i].secret))
        .chain(groups.iter().enumerate().flat_map(|(g, instances)| {
            instances.iter().enumerate().flat_map(move |(k, inst)| {
                inst.iter().enumerate().map(move |(m, b)| {
                    let t = Target::Group {
                        group: g,
                        instance: k,
                        member: m,
                    };
                    (b, target_name(spec, t), false)
                })
            })
        }));
    for (b, name, secret) in bound {
        let (Some(col), Some(value)) = (b.column, &b.constant) else {
            continue;
        };
        let value = if secret {
            String::new()
        } else {
            format!(" = \"{value}\"")
        };
        out.push(format!(
            "column {} (\"{}\") is not imported: the {}'s [constants] {name}{value} fills `{name}` in every row instead; remove the constant to use the column, or the column to silence this",
            column_letter(col),
            short(&headers[col]),
            map.label()
        ));
    }
    out
}

/// A header as a message quotes it: at most 40 characters.
fn short(header: &str) -> String {
    if header.chars().count() <= 40 {
        header.to_string()
    } else {
        header.chars().take(40).collect::<String>() + "…"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec;

    fn h(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn normalize_folds_case_accents_and_punctuation() {
        assert_eq!(normalize("Kode Pelanggan"), "kodepelanggan");
        assert_eq!(normalize("No. HP"), "nohp");
        assert_eq!(normalize("unit2_name"), "unit2name");
        assert_eq!(normalize("Ünvan"), "unvan");
        assert_eq!(normalize("İL"), "il");
        assert_eq!(normalize("ılçe"), "ilce");
        assert_eq!(normalize("E-posta"), "eposta");
    }

    #[test]
    fn indonesian_headers_map() {
        let spec = spec::builtin(spec::TargetId::SalesMania, spec::Entity::Customers).unwrap();
        let headers = h(&[
            "Nama",
            "Alamat",
            "Kota",
            "No HP",
            "Kode Pelanggan",
            "Lintang",
            "Bujur",
            "Catatan",
        ]);
        let m = Mapping::resolve(&spec, &headers, None, Mode::Create).unwrap();
        assert_eq!(m.column_targets[0].as_deref(), Some("name"));
        assert_eq!(m.column_targets[3].as_deref(), Some("phone"));
        assert_eq!(m.column_targets[4].as_deref(), Some("ext_cust_no"));
        assert_eq!(m.column_targets[5].as_deref(), Some("latitude"));
        assert_eq!(m.unmapped, vec![7]);
    }

    #[test]
    fn unit_groups_map_by_index() {
        let spec = spec::builtin(spec::TargetId::SalesMania, spec::Entity::Products).unwrap();
        let headers = h(&[
            "name",
            "qty_on_hand",
            "unit_name",
            "unit_price",
            "unit_ratio",
            "Unit2 Name",
            "unit2_price",
            "unit2_ratio",
            "Satuan 3",
        ]);
        let m = Mapping::resolve(&spec, &headers, None, Mode::Create).unwrap();
        assert_eq!(m.groups[0].len(), 3);
        assert_eq!(m.groups[0][1][0].column, Some(5));
        assert_eq!(m.groups[0][2][0].column, Some(8));
    }

    #[test]
    fn product_name_wins_over_unit_aliases() {
        let spec = spec::builtin(spec::TargetId::SalesMania, spec::Entity::Products).unwrap();
        let headers = h(&[
            "Nama",
            "Stok",
            "Satuan",
            "Harga",
            "satuan_ratio",
            "Satuan 2",
            "Harga 2",
            "Isi 2",
        ]);
        let m = Mapping::resolve(&spec, &headers, None, Mode::Create).unwrap();
        let t: Vec<Option<&str>> = m.column_targets.iter().map(|t| t.as_deref()).collect();
        assert_eq!(
            t,
            [
                Some("name"),
                Some("qty_on_hand"),
                Some("unit_name"),
                Some("unit_price"),
                Some("unit_ratio"),
                Some("unit2_name"),
                Some("unit2_price"),
                Some("unit2_ratio")
            ]
        );
    }

    #[test]
    fn missing_required_field_names_it_and_the_headers() {
        let spec = spec::builtin(spec::TargetId::SalesMania, spec::Entity::Customers).unwrap();
        let err = Mapping::resolve(&spec, &h(&["Alamat", "Kota"]), None, Mode::Create)
            .unwrap_err()
            .to_string();
        assert!(err.contains("`name`"), "{err}");
        assert!(err.contains("\"Alamat\""), "{err}");
    }

    #[test]
    fn two_columns_for_one_field_is_an_error() {
        let spec = spec::builtin(spec::TargetId::SalesMania, spec::Entity::Customers).unwrap();
        let err = Mapping::resolve(&spec, &h(&["Nama", "Name"]), None, Mode::Create)
            .unwrap_err()
            .to_string();
        assert!(err.contains("both map to field `name`"), "{err}");
    }

    #[test]
    fn map_file_renames_and_sets_constants() {
        let spec = spec::builtin(spec::TargetId::SalesMania, spec::Entity::Customers).unwrap();
        let map = MapFile::parse(
            "[columns]\n\"Outlet Title\" = \"name\"\n[constants]\nstatus = true\n[defaults]\ncity = \"Semarang\"\n",
            "map.toml",
        )
        .unwrap();
        let m = Mapping::resolve(&spec, &h(&["Outlet Title"]), Some(&map), Mode::Create).unwrap();
        assert_eq!(
            m.fields[spec.fields.iter().position(|f| f.name == "name").unwrap()].column,
            Some(0)
        );
        let status = spec.fields.iter().position(|f| f.name == "status").unwrap();
        assert_eq!(m.fields[status].constant.as_deref(), Some("true"));
        let bad = MapFile::parse("[constants]\nstatuz = 1\n", "map.toml").unwrap();
        let err = Mapping::resolve(&spec, &h(&["Nama"]), Some(&bad), Mode::Create).unwrap_err();
        assert!(err.to_string().contains("statuz"));
    }

    #[test]
    fn map_file_names_missing_headers_and_columns_a_constant_replaces() {
        let spec = spec::builtin(spec::TargetId::SalesMania, spec::Entity::Customers).unwrap();
        let map = MapFile::parse(
            "[columns]\n\"Nama Toko\" = \"name\"\n\"Kota Tujuan\" = \"city\"\n[constants]\ncity = \"Semarang\"\n",
            "maps/outlets.toml",
        )
        .unwrap();
        let m =
            Mapping::resolve(&spec, &h(&["Nama Toko", "Kota"]), Some(&map), Mode::Create).unwrap();
        assert_eq!(m.warnings.len(), 2, "{:?}", m.warnings);
        assert!(
            m.warnings[0].starts_with("mapping file maps/outlets.toml: [columns] \"Kota Tujuan\""),
            "{:?}",
            m.warnings
        );
        assert!(
            m.warnings[1].starts_with("column B (\"Kota\") is not imported"),
            "{:?}",
            m.warnings
        );
        assert!(
            m.warnings[1].contains("city = \"Semarang\""),
            "{:?}",
            m.warnings
        );
        let plain = Mapping::resolve(&spec, &h(&["Nama", "Kota"]), None, Mode::Create).unwrap();
        assert!(plain.warnings.is_empty());
    }

    #[test]
    fn mapping_file_errors_name_the_file() {
        let spec = spec::builtin(spec::TargetId::SalesMania, spec::Entity::Customers).unwrap();
        let bad = MapFile::parse("[constants]\nstatuz = 1\n", "maps/x.toml").unwrap();
        let err = Mapping::resolve(&spec, &h(&["Nama"]), Some(&bad), Mode::Create)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("mapping file maps/x.toml: [constants]"),
            "{err}"
        );
        let err = MapFile::parse("[columns]\n\"Nama\" = name\n", "maps/x.toml")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("mapping file maps/x.toml, line 2, column 10: "),
            "{err}"
        );
        assert_eq!(err.lines().count(), 1, "{err}");
    }

    #[test]
    fn aliases_do_not_collide_within_a_spec() {
        for target in spec::targets() {
            for entity in spec::entities(target) {
                let spec = spec::builtin(target, entity).unwrap();
                let mut seen: HashMap<String, String> = HashMap::new();
                for f in &spec.fields {
                    for n in std::iter::once(&f.name).chain(&f.aliases) {
                        if let Some(prev) = seen.insert(normalize(n), f.name.clone()) {
                            assert_eq!(
                                prev, f.name,
                                "{entity}: `{n}` names both {prev} and {}",
                                f.name
                            );
                        }
                    }
                }
            }
        }
    }
}
