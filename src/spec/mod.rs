//! Entity specs: one TOML file per target and entity under `templates/`, compiled in.
//!
//! A spec is the single description of an entity that drives header mapping, validation,
//! payload building, blank templates and (later) export columns, so that all of them agree.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;

use crate::error::{Error, Result};

mod names;
pub use names::{Entity, ExportKind, TargetId, Verb};

/// What a row asks the target to do; required-ness of fields depends on it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, serde::Serialize, PartialOrd, Ord,
)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Create a new record.
    Create,
    /// Change an existing record found by id or natural key.
    Update,
    /// Update when the natural key exists, create otherwise.
    Upsert,
    /// Delete an existing record found by id or natural key.
    Delete,
    /// Lock records found by a key (Trackfinity).
    Lock,
    /// Unlock records found by a key (Trackfinity).
    Unlock,
    /// Erase a record's personal data, keeping named fields (Trackfinity; destructive).
    Forget,
}

impl Mode {
    /// Every mode, for listings and checks.
    pub const ALL: [Mode; 7] = [
        Mode::Create,
        Mode::Update,
        Mode::Upsert,
        Mode::Delete,
        Mode::Lock,
        Mode::Unlock,
        Mode::Forget,
    ];

    /// The lower-case word used on the command line and in specs.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Create => "create",
            Mode::Update => "update",
            Mode::Upsert => "upsert",
            Mode::Delete => "delete",
            Mode::Lock => "lock",
            Mode::Unlock => "unlock",
            Mode::Forget => "forget",
        }
    }
}

impl std::str::FromStr for Mode {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let word = s.trim();
        Mode::ALL
            .into_iter()
            .find(|m| m.as_str().eq_ignore_ascii_case(word))
            .ok_or_else(|| {
                let all: Vec<&str> = Mode::ALL.iter().map(|m| m.as_str()).collect();
                Error::usage(format!("unknown mode '{word}': use {}", all.join(", ")))
            })
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// How a cell's text is turned into a typed value; each has its own parser in `validate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    /// Free text, trimmed.
    String,
    /// A whole number.
    Integer,
    /// A decimal number (price, quantity); locale separators handled.
    Decimal,
    /// true/false, yes/no, ya/tidak, aktif/nonaktif, 1/0 …
    Boolean,
    /// A calendar date, sent as `YYYY-MM-DD`.
    Date,
    /// −90..90.
    Latitude,
    /// −180..180.
    Longitude,
    /// `lat, lon` in one cell as pasted from a map; sent as `{lat, lon}`.
    Location,
    /// Digits with an optional leading `+`.
    Phone,
    /// An e-mail address.
    Email,
    /// A list of strings split on `,` or `;`.
    Tags,
    /// A stacked-percentage discount expression such as `5` or `55.55+3`.
    Discount,
    /// One of `values` (or a `value_aliases` synonym).
    Enum,
    /// A remote record id (positive integer).
    Id,
    /// A Turkish tax number: 10-digit VKN or 11-digit TCKN, checksums verified.
    TaxNumber,
    /// An IBAN (mod 97; Turkish layout checked for TR).
    Iban,
    /// A Turkish phone number, sent as 10 digits without 0 / +90.
    TrPhone,
}

impl FieldType {
    /// Whether values of this type are text however they look, so that a number cell
    /// must give the text the sheet shows (`00123`, not `123`): free text and codes,
    /// phone numbers, tax numbers and IBANs.
    pub fn is_text(self) -> bool {
        matches!(
            self,
            FieldType::String
                | FieldType::Phone
                | FieldType::TrPhone
                | FieldType::TaxNumber
                | FieldType::Iban
        )
    }

    /// A short human description, for templates and messages.
    pub fn describe(self) -> &'static str {
        match self {
            FieldType::String => "text",
            FieldType::Integer => "whole number",
            FieldType::Decimal => "number",
            FieldType::Boolean => "yes/no",
            FieldType::Date => "date (YYYY-MM-DD)",
            FieldType::Latitude => "latitude (−90..90)",
            FieldType::Longitude => "longitude (−180..180)",
            FieldType::Location => "location \"lat, lon\"",
            FieldType::Phone => "phone number",
            FieldType::Email => "e-mail address",
            FieldType::Tags => "list separated by , or ;",
            FieldType::Discount => "discount expression (5 or 10+5)",
            FieldType::Enum => "one of a list",
            FieldType::Id => "record id",
            FieldType::TaxNumber => "VKN (10 digits) or TCKN (11 digits)",
            FieldType::Iban => "IBAN",
            FieldType::TrPhone => "phone (10 digits, e.g. 5321234567)",
        }
    }
}

/// A reference to another entity by one of its keys, resolved to an id before sending.
#[derive(Debug, Clone, Deserialize)]
pub struct ResolveSpec {
    /// The referenced entity (`customers`, `teams`, `products`).
    pub entity: Entity,
    /// The referenced entity's fields that may hold the value, tried in order.
    pub by: Vec<String>,
}

/// One column of an entity.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldSpec {
    /// Canonical header; also the name used in mapping files and messages.
    pub name: String,
    /// Dotted payload path (`location.lat`); absent for fields that are not sent as such
    /// (the record id, which goes in the URL).
    #[serde(default)]
    pub path: Option<String>,
    /// Parser and payload type.
    #[serde(rename = "type")]
    pub kind: FieldType,
    /// Modes in which the field must be present; inside a group, non-empty means
    /// "required whenever the group instance is used".
    #[serde(default)]
    pub required: Vec<Mode>,
    /// Other header spellings (English, Indonesian, Turkish), matched loosely.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// One line for the template's header note and Guide sheet.
    pub help: String,
    /// Longest accepted text, in characters.
    #[serde(default)]
    pub max_len: Option<usize>,
    /// Smallest accepted number.
    #[serde(default)]
    pub min: Option<f64>,
    /// Largest accepted number.
    #[serde(default)]
    pub max: Option<f64>,
    /// Allowed values of an enum, as sent.
    #[serde(default)]
    pub values: Vec<String>,
    /// Synonyms accepted for enum values (`new` → `Baru`), matched loosely.
    #[serde(default)]
    pub value_aliases: BTreeMap<String, String>,
    /// Reference to another entity, resolved before sending.
    #[serde(default)]
    pub resolve: Option<ResolveSpec>,
    /// The field identifies the remote record (goes in the URL, not the body).
    #[serde(default)]
    pub is_id: bool,
    /// Never written to outputs or logs (passwords).
    #[serde(default)]
    pub secret: bool,
    /// An example value for templates and help.
    #[serde(default)]
    pub example: Option<String>,
    /// Part of one order line (each row) rather than of the order (the group's header
    /// fields, which must agree across the group's rows).
    #[serde(default)]
    pub line: bool,
    /// Values are digit strings whose leading zeros matter (customer and product codes,
    /// barcodes, postcodes): a number cell here has likely lost them, and a fraction or a
    /// sign is never right. Phone numbers are such fields without saying so.
    #[serde(default)]
    pub leading_zeros: Option<bool>,
}

impl FieldSpec {
    /// A reference written as another entity's code or name (`customer_code`),
    /// resolved to an id before sending. An id field with `resolve` (a visit's
    /// `customer_id`) is not one: it holds the id itself, only checked to exist.
    pub fn is_code_reference(&self) -> bool {
        self.resolve.is_some() && self.kind != FieldType::Id
    }

    /// Whether the field must be present in `mode`.
    pub fn required_in(&self, mode: Mode) -> bool {
        self.required.contains(&mode)
    }

    /// Whether a number cell here may have lost a leading 0 (or a phone's `+`), so that
    /// it deserves a warning: see `leading_zeros`.
    pub fn keeps_leading_zeros(&self) -> bool {
        self.leading_zeros.unwrap_or(self.kind == FieldType::Phone)
    }

    /// Whether the values are whole digit strings, so that a number cell holding a
    /// fraction or a negative number cannot be one: codes with leading zeros and phone
    /// numbers of either kind.
    pub fn is_digit_string(&self) -> bool {
        self.keeps_leading_zeros() || matches!(self.kind, FieldType::Phone | FieldType::TrPhone)
    }
}

/// "Exactly one instance of the group has this field equal to this value" (base unit).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaseRule {
    /// Member field compared.
    pub field: String,
    /// Value that marks the base instance.
    pub value: i64,
    /// The single instance that leaves the field empty, when no other instance has the
    /// base value, is the base and gets it (a lone unit, or `PCS` beside `BOX` of 12);
    /// any other instance must give the field.
    #[serde(default)]
    pub implied_when_single: bool,
}

/// A repeated group of columns (`unit_name`, `unit_price` … `unit2_name` …) that becomes
/// an array of objects in the payload.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupSpec {
    /// Header prefix (`unit` → `unit_name`, `unit2_name`).
    pub name: String,
    /// Other prefixes (`satuan`).
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Payload path of the array.
    pub path: String,
    /// Most instances looked for.
    pub max: usize,
    /// Modes in which at least one instance is required.
    #[serde(default)]
    pub required: Vec<Mode>,
    /// One line of help.
    pub help: String,
    /// Member fields of each instance.
    pub fields: Vec<FieldSpec>,
    /// Optional "exactly one base instance" rule.
    #[serde(default)]
    pub base: Option<BaseRule>,
}

impl GroupSpec {
    /// Canonical header of `member` in instance `index` (1-based): `unit_name`, `unit2_name`.
    pub fn header(&self, index: usize, member: &str) -> String {
        if index == 1 {
            format!("{}_{}", self.name, member)
        } else {
            format!("{}{}_{}", self.name, index, member)
        }
    }
}

/// Row-level rules that involve several fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleKind {
    /// When one of the fields has a value, all must.
    Together,
    /// At least one of the fields must have a value.
    OneOf,
    /// At most one of the fields may have a value.
    AtMostOne,
    /// All the fields are required when `when` holds.
    RequiredIf,
}

/// A condition on another field's value (`type = company`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct When {
    /// The field looked at.
    pub field: String,
    /// The value it must have (compared case-insensitively).
    pub value: String,
}

/// A rule over several fields, optionally limited to some modes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// What the rule checks.
    pub kind: RuleKind,
    /// Field names involved.
    pub fields: Vec<String>,
    /// Modes the rule applies to; empty means all.
    #[serde(default)]
    pub modes: Vec<Mode>,
    /// For `required_if`: when the rule applies.
    #[serde(default)]
    pub when: Option<When>,
}

impl RuleSpec {
    /// Whether the rule applies in `mode`.
    pub fn applies(&self, mode: Mode) -> bool {
        self.modes.is_empty() || self.modes.contains(&mode)
    }
}

/// Everything known about one entity of one target.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntitySpec {
    /// The target the spec describes.
    pub target: TargetId,
    /// The kind of record.
    pub entity: Entity,
    /// One line for templates and `--help`.
    pub description: String,
    /// Collection path on the target.
    pub endpoint: String,
    /// Field holding the user's own key (`ext_cust_no`), for duplicate checks and upsert.
    #[serde(default)]
    pub natural_key: Option<String>,
    /// Modes this entity supports.
    pub modes: Vec<Mode>,
    /// Plain fields.
    pub fields: Vec<FieldSpec>,
    /// Repeated column groups.
    #[serde(default)]
    pub groups: Vec<GroupSpec>,
    /// Multi-field rules.
    #[serde(default)]
    pub rules: Vec<RuleSpec>,
    /// Rows sharing this field's value form one record (an order and its lines).
    #[serde(default)]
    pub group_by: Option<String>,
    /// Payload path of the array that collects the rows' line fields.
    #[serde(default)]
    pub lines_path: Option<String>,
    /// Cell words that clear a field on this target (Trackfinity's `REMOVE`), besides
    /// the `#CLEAR` marker every target understands.
    #[serde(default)]
    pub clear_words: Vec<String>,
    /// Key values that many different records share (Fatura's anonymous-consumer tax
    /// number `11111111111`): such a value never finds, matches or de-duplicates a
    /// record, or two different buyers would be merged into one.
    #[serde(default)]
    pub shared_keys: Vec<String>,
    /// The entity has no natural key, so the ledger remembers each record it created by
    /// the row's content (a visit: customer, team, date): importing the same rows again
    /// creates nothing twice.
    #[serde(default)]
    pub remember_by_content: bool,
    /// Payload paths whose equal values make a sequence sent one row after the other in
    /// sheet order (a team's visits of one day: the API appends each to the day's route).
    #[serde(default)]
    pub sequence_by: Vec<String>,
    /// List query parameter → payload path: the search that finds a record known by its
    /// content (a visit: `date_from` and `date_to` its date, `team_id` its team), so that
    /// a lost create is looked up among a few records, not in the whole list.
    #[serde(default)]
    pub content_search: Vec<(String, String)>,
}

/// The target chosen when `--target` is not given.
pub const DEFAULT_TARGET: TargetId = TargetId::SalesMania;

/// The marker that clears a field on every target: an empty cell means "leave as is".
pub const CLEAR_MARKER: &str = "#CLEAR";

impl EntitySpec {
    /// Parse and check a spec; `origin` names the file in messages.
    pub fn from_toml(text: &str, origin: &str) -> Result<Self> {
        let spec: EntitySpec = toml::from_str(text)
            .map_err(|e| Error::usage(format!("spec {origin} is not valid: {e}")))?;
        spec.check(origin)?;
        Ok(spec)
    }

    /// A field by canonical name.
    pub fn field(&self, name: &str) -> Option<&FieldSpec> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// Whether `key` is one of the [`EntitySpec::shared_keys`], which identify nobody.
    /// Separators (`111.111.111.11`) do not hide one.
    pub fn is_shared_key(&self, key: &str) -> bool {
        // Asked for every row's key: most entities share none, so nothing to build.
        if self.shared_keys.is_empty() {
            return false;
        }
        let bare: String = key
            .chars()
            .filter(|c| !c.is_whitespace() && !matches!(c, '.' | '-' | '/'))
            .collect();
        !bare.is_empty() && self.shared_keys.contains(&bare)
    }

    /// The id field, if the entity has one.
    pub fn id_field(&self) -> Option<&FieldSpec> {
        self.fields.iter().find(|f| f.is_id)
    }

    /// Consistency checks that keep a hand-edited spec from misbehaving silently.
    fn check(&self, origin: &str) -> Result<()> {
        let bad = |msg: String| Err(Error::usage(format!("spec {origin}: {msg}")));
        let mut seen = std::collections::HashSet::new();
        for f in &self.fields {
            if !seen.insert(f.name.as_str()) {
                return bad(format!("field `{}` is defined twice", f.name));
            }
            if f.kind == FieldType::Enum && f.values.is_empty() {
                return bad(format!("enum field `{}` lists no values", f.name));
            }
        }
        for r in &self.rules {
            for name in &r.fields {
                if self.field(name).is_none() {
                    return bad(format!("a rule names unknown field `{name}`"));
                }
            }
        }
        if let Some(k) = &self.natural_key
            && self.field(k).is_none()
        {
            return bad(format!("natural_key `{k}` is not a field"));
        }
        for g in &self.groups {
            if let Some(b) = &g.base
                && !g.fields.iter().any(|f| f.name == b.field)
            {
                return bad(format!(
                    "group `{}` base field `{}` is not a member",
                    g.name, b.field
                ));
            }
        }
        Ok(())
    }
}

/// Built-in specs: (target, entity, TOML text).
const BUILTIN: &[(TargetId, Entity, &str)] = &[
    (
        TargetId::SalesMania,
        Entity::Customers,
        include_str!("../../templates/salesmania/customers.toml"),
    ),
    (
        TargetId::SalesMania,
        Entity::Products,
        include_str!("../../templates/salesmania/products.toml"),
    ),
    (
        TargetId::SalesMania,
        Entity::Visits,
        include_str!("../../templates/salesmania/visits.toml"),
    ),
    (
        TargetId::SalesMania,
        Entity::Orders,
        include_str!("../../templates/salesmania/orders.toml"),
    ),
    (
        TargetId::Trackfinity,
        Entity::Customers,
        include_str!("../../templates/trackfinity/customers.toml"),
    ),
    (
        TargetId::Fatura,
        Entity::Customers,
        include_str!("../../templates/fatura/customers.toml"),
    ),
];

/// Targets that have built-in specs.
pub fn targets() -> Vec<TargetId> {
    let mut t: Vec<TargetId> = Vec::new();
    for (target, _, _) in BUILTIN {
        if !t.contains(target) {
            t.push(*target);
        }
    }
    t
}

/// Entities of a target that have built-in specs: the ones it can import.
pub fn entities(target: TargetId) -> Vec<Entity> {
    BUILTIN
        .iter()
        .filter(|(t, _, _)| *t == target)
        .map(|(_, e, _)| *e)
        .collect()
}

/// Load the built-in spec of `target`/`entity`.
pub fn builtin(target: TargetId, entity: Entity) -> Result<EntitySpec> {
    let (_, _, text) = BUILTIN
        .iter()
        .find(|(t, e, _)| *t == target && *e == entity)
        .ok_or_else(|| {
            let known: Vec<&str> = entities(target).into_iter().map(Entity::as_str).collect();
            Error::usage(format!(
                "target `{target}` has no entity `{entity}`; choose one of: {}",
                known.join(", ")
            ))
        })?;
    EntitySpec::from_toml(text, &format!("templates/{target}/{entity}.toml"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_spec_loads() {
        for (t, e, _) in BUILTIN {
            let spec = builtin(*t, *e).unwrap();
            assert_eq!(spec.entity, *e);
            assert_eq!(spec.target, *t);
            assert!(!spec.fields.is_empty());
        }
    }

    #[test]
    fn unknown_entity_lists_the_known_ones() {
        let err = builtin(TargetId::Fatura, Entity::Visits)
            .unwrap_err()
            .to_string();
        assert!(err.contains("choose one of: customers"), "{err}");
    }
}
