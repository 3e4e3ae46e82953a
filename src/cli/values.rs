//! The command line's closed sets are the core's own enums: these impls give clap their
//! words and one-line help, so `--help`, completions and parsing agree with the core.

use clap::ValueEnum;
use clap::builder::PossibleValue;

use crate::spec::{Entity, ExportKind, Mode, TargetId};

impl ValueEnum for TargetId {
    fn value_variants<'a>() -> &'a [Self] {
        &TargetId::ALL
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        let help = match self {
            TargetId::SalesMania => "SalesMania (customers, products, visits, orders)",
            TargetId::Trackfinity => "Trackfinity (customers: update, lock, unlock, forget)",
            TargetId::Fatura => "Fatura Entegratör (customers)",
        };
        Some(PossibleValue::new(self.as_str()).help(help))
    }
}

/// The kinds `import`, `validate` and `template` take: those with a spec.
const IMPORTED: [Entity; 4] = [
    Entity::Customers,
    Entity::Products,
    Entity::Visits,
    Entity::Orders,
];

impl ValueEnum for Entity {
    fn value_variants<'a>() -> &'a [Self] {
        &IMPORTED
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        let help = match self {
            Entity::Customers => "Customers (every target)",
            Entity::Products => "Products with their units (SalesMania)",
            Entity::Visits => "Planned visits (SalesMania)",
            Entity::Orders => "Orders, one row per line (SalesMania)",
            Entity::Teams => return None,
        };
        Some(PossibleValue::new(self.as_str()).help(help))
    }
}

impl ValueEnum for ExportKind {
    fn value_variants<'a>() -> &'a [Self] {
        &ExportKind::ALL
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(self.as_str()).help(self.help()))
    }
}

impl ValueEnum for Mode {
    fn value_variants<'a>() -> &'a [Self] {
        &Mode::ALL
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        let help = match self {
            Mode::Create => "New records",
            Mode::Update => "Existing records, found by id or natural key",
            Mode::Upsert => "Update when the key exists, create otherwise",
            Mode::Delete => "Delete records found by id or natural key",
            Mode::Lock => "Lock records found by a key (Trackfinity)",
            Mode::Unlock => "Unlock records found by a key (Trackfinity)",
            Mode::Forget => {
                "Erase personal data of records found by a key (Trackfinity; needs --yes)"
            }
        };
        Some(PossibleValue::new(self.as_str()).help(help))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_word_parses_back_to_its_value_ignoring_case() {
        for t in TargetId::ALL {
            assert_eq!(TargetId::from_str(&t.as_str().to_uppercase(), true), Ok(t));
        }
        for e in IMPORTED {
            assert_eq!(Entity::from_str(e.as_str(), false), Ok(e));
        }
        assert!(
            Entity::from_str("teams", false).is_err(),
            "teams are not imported"
        );
        for k in ExportKind::ALL {
            assert_eq!(ExportKind::from_str(k.as_str(), false), Ok(k));
        }
        for m in Mode::ALL {
            assert_eq!(Mode::from_str(m.as_str(), false), Ok(m));
        }
    }
}
