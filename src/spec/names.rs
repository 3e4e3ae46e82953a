//! Which target and which kind of record: closed sets that every layer agrees on. A
//! misspelt name is refused once, where it enters (command line, profile, stored run,
//! spec file), and is never compared as a string again.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A system sheetload writes to. Adding a target adds a variant here and a line in the
/// targets' registry.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "lowercase")]
pub enum TargetId {
    /// SalesMania, the Indonesian sales-force automation API.
    #[default]
    SalesMania,
    /// Trackfinity's customer API (form-encoded PATCH, no delete).
    Trackfinity,
    /// Fatura Entegratör's customer (buyer) API.
    Fatura,
}

impl TargetId {
    /// Every target, in the order help lists them.
    pub const ALL: [TargetId; 3] = [
        TargetId::SalesMania,
        TargetId::Trackfinity,
        TargetId::Fatura,
    ];

    /// The word `--target` takes and the ledger stores.
    pub fn as_str(self) -> &'static str {
        match self {
            TargetId::SalesMania => "salesmania",
            TargetId::Trackfinity => "trackfinity",
            TargetId::Fatura => "fatura",
        }
    }
}

impl fmt::Display for TargetId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl FromStr for TargetId {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let word = s.trim();
        TargetId::ALL
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(word))
            .ok_or_else(|| {
                Error::usage(format!(
                    "unknown target '{word}': use {}",
                    words(TargetId::ALL.map(TargetId::as_str))
                ))
            })
    }
}

/// A kind of record a target holds. Every kind can be a reference (a visit names a
/// customer and a team); the kinds that can be imported are those with a spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Entity {
    /// Customers (outlets, buyers).
    Customers,
    /// Products with their units.
    Products,
    /// Planned visits.
    Visits,
    /// Orders and their lines.
    Orders,
    /// Sales users (referenced by visits and orders; exported, not imported).
    Teams,
}

impl Entity {
    /// Every kind, in the order help lists them.
    pub const ALL: [Entity; 5] = [
        Entity::Customers,
        Entity::Products,
        Entity::Visits,
        Entity::Orders,
        Entity::Teams,
    ];

    /// The word `--entity` takes, the ledger stores and specs use.
    pub fn as_str(self) -> &'static str {
        match self {
            Entity::Customers => "customers",
            Entity::Products => "products",
            Entity::Visits => "visits",
            Entity::Orders => "orders",
            Entity::Teams => "teams",
        }
    }

    /// One record of the kind, for messages (`1 customer`).
    pub fn one(self) -> &'static str {
        match self {
            Entity::Customers => "customer",
            Entity::Products => "product",
            Entity::Visits => "visit",
            Entity::Orders => "order",
            Entity::Teams => "team",
        }
    }
}

impl fmt::Display for Entity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl FromStr for Entity {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let word = s.trim();
        Entity::ALL
            .into_iter()
            .find(|e| e.as_str().eq_ignore_ascii_case(word))
            .ok_or_else(|| {
                Error::usage(format!(
                    "unknown entity '{word}': use {}",
                    words(Entity::ALL.map(Entity::as_str))
                ))
            })
    }
}

/// What `export` writes: the records of a kind, or the databases the user reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExportKind {
    /// Sales users.
    Teams,
    /// Products with their units.
    Products,
    /// Customers (outlets, buyers).
    Customers,
    /// Planned visits.
    Visits,
    /// Orders, one row per order line, in the layout `import -e orders` reads.
    Orders,
    /// The databases the user reaches.
    Databases,
}

impl ExportKind {
    /// Every kind, in the order help lists them.
    pub const ALL: [ExportKind; 6] = [
        ExportKind::Teams,
        ExportKind::Products,
        ExportKind::Customers,
        ExportKind::Visits,
        ExportKind::Orders,
        ExportKind::Databases,
    ];

    /// The records exported, or `None` for the databases (which are no records).
    pub fn entity(self) -> Option<Entity> {
        match self {
            ExportKind::Teams => Some(Entity::Teams),
            ExportKind::Products => Some(Entity::Products),
            ExportKind::Customers => Some(Entity::Customers),
            ExportKind::Visits => Some(Entity::Visits),
            ExportKind::Orders => Some(Entity::Orders),
            ExportKind::Databases => None,
        }
    }

    /// The word `export` takes.
    pub fn as_str(self) -> &'static str {
        self.entity().map_or("databases", Entity::as_str)
    }

    /// One line for `--help`.
    pub fn help(self) -> &'static str {
        match self {
            ExportKind::Teams => "Sales users",
            ExportKind::Products => "Products with their units",
            ExportKind::Customers => "Customers (outlets, buyers)",
            ExportKind::Visits => "Planned visits",
            ExportKind::Orders => {
                "Orders, one row per order line, in the layout `import -e orders` reads"
            }
            ExportKind::Databases => "The databases the user reaches",
        }
    }
}

impl fmt::Display for ExportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// What was (or would be) done to one row: the `_action` column, the ledger's `action`
/// and the word undo and the key → id memory look for. Wider than a [`super::Mode`]: an
/// upsert row settles as a create or an update, a reconciled row as a match, an
/// unchanged one as a skip.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verb {
    /// A POST that makes a new remote record.
    Create,
    /// A change to an existing remote record.
    Update,
    /// A create-or-update whose choice was left to the target.
    Upsert,
    /// A reconciliation: the key was looked up and found, nothing was sent.
    Match,
    /// A removal of the remote record.
    Delete,
    /// Nothing to send (unchanged, already done or invalid).
    Skip,
    /// A lock of the record (Trackfinity).
    Lock,
    /// An unlock of the record (Trackfinity).
    Unlock,
    /// An erasure of the record's personal data (Trackfinity).
    Forget,
}

impl Verb {
    /// Every verb, for parsing.
    pub const ALL: [Verb; 9] = [
        Verb::Create,
        Verb::Update,
        Verb::Upsert,
        Verb::Match,
        Verb::Delete,
        Verb::Skip,
        Verb::Lock,
        Verb::Unlock,
        Verb::Forget,
    ];

    /// The word shown in `_action` and stored in the ledger.
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Create => "create",
            Verb::Update => "update",
            Verb::Upsert => "upsert",
            Verb::Match => "match",
            Verb::Delete => "delete",
            Verb::Skip => "skip",
            Verb::Lock => "lock",
            Verb::Unlock => "unlock",
            Verb::Forget => "forget",
        }
    }

    /// Whether a successful row with this verb shows which remote record its key names
    /// (the ledger remembers key → id).
    pub fn teaches_id(self) -> bool {
        matches!(
            self,
            Verb::Create | Verb::Update | Verb::Upsert | Verb::Match
        )
    }
}

impl From<super::Mode> for Verb {
    fn from(mode: super::Mode) -> Self {
        use super::Mode;
        match mode {
            Mode::Create => Verb::Create,
            Mode::Update => Verb::Update,
            Mode::Upsert => Verb::Upsert,
            Mode::Delete => Verb::Delete,
            Mode::Lock => Verb::Lock,
            Mode::Unlock => Verb::Unlock,
            Mode::Forget => Verb::Forget,
        }
    }
}

impl fmt::Display for Verb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl FromStr for Verb {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let word = s.trim();
        Verb::ALL
            .into_iter()
            .find(|v| v.as_str().eq_ignore_ascii_case(word))
            .ok_or_else(|| {
                Error::usage(format!(
                    "unknown action '{word}': use {}",
                    words(Verb::ALL.map(Verb::as_str))
                ))
            })
    }
}

fn words<const N: usize>(all: [&str; N]) -> String {
    all.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_a_misspelling_lists_the_choices() {
        for t in TargetId::ALL {
            assert_eq!(t.as_str().parse::<TargetId>().unwrap(), t);
            assert_eq!(serde_json::to_string(&t).unwrap(), format!("\"{t}\""));
        }
        for e in Entity::ALL {
            assert_eq!(e.as_str().to_uppercase().parse::<Entity>().unwrap(), e);
        }
        // Tables (`runs list`) line up by width.
        assert_eq!(
            format!("{:<8}|{:>10}|", TargetId::Fatura, Entity::Visits),
            "fatura  |    visits|"
        );
        let err = "fatora".parse::<TargetId>().unwrap_err().to_string();
        assert!(err.contains("fatora") && err.contains("fatura"), "{err}");
        let err = "invoices".parse::<Entity>().unwrap_err().to_string();
        assert!(err.contains("customers, products"), "{err}");
    }
}
