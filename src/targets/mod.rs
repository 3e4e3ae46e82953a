//! The targets sheetload writes to, behind one trait. What differs per target — how it
//! signs in, where a run writes, how its rows are planned, what it can list and delete —
//! lives in its folder; the engine and the commands ask the registry below.
//!
//! Adding a target: a folder `src/targets/<name>/` with a type implementing [`Target`]
//! (its connection, and a planner if its rows are not plain keyed rows), its spec files
//! under `templates/<name>/` listed in [`crate::spec`], and one line in `TARGETS` below.
//! A sandbox router of its own under `src/sandbox/<name>/` lets it be rehearsed.

pub mod fatura;
pub mod salesmania;
pub mod trackfinity;

use std::time::Duration;

use crate::connection::{Connected, ConnectionArgs};
use crate::connector::Database;
pub use crate::engine::target::{BoxFuture, PlanInputs, Target};
use crate::error::{Error, Result};
use crate::ui::Printer;

/// Every target, one line each.
static TARGETS: &[&dyn Target] = &[
    &salesmania::SalesMania,
    &trackfinity::Trackfinity,
    &fatura::Fatura,
];

/// The target chosen when `--target` is not given.
pub const DEFAULT: &str = crate::spec::DEFAULT_TARGET;

/// The target named `name` (as `--target` spells it).
pub fn get(name: &str) -> Result<&'static dyn Target> {
    TARGETS
        .iter()
        .copied()
        .find(|t| t.name().eq_ignore_ascii_case(name.trim()))
        .ok_or_else(|| {
            Error::usage(format!(
                "unknown target '{name}': use {}",
                names().join(", ")
            ))
        })
}

/// The targets' names, for messages and help.
pub fn names() -> Vec<&'static str> {
    TARGETS.iter().map(|t| t.name()).collect()
}

/// Sign in to the target named `name` (as `--target` spells it).
pub async fn connect(
    name: &str,
    args: &ConnectionArgs,
    timeout: Duration,
    pool: usize,
    ui: &Printer,
) -> Result<(&'static dyn Target, Connected)> {
    let target = get(name)?;
    Ok((target, target.connect(args, timeout, pool, ui).await?))
}

/// How messages name where a run of target `name` wrote.
pub fn destination(name: &str, database: &Database) -> String {
    match get(name) {
        Ok(t) => t.destination(database),
        Err(_) => format!("{} at {}", database.name, database.id),
    }
}
